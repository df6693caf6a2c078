"""Signals sent by flask-kaleo (blinker, like Flask's own).

Each is sent with the application as sender and the invitation as the
``invitation`` keyword argument; ``inviter`` and ``invitee`` are given where known::

    from flask_kaleo.signals import invite_accepted

    @invite_accepted.connect
    def welcome(app, invitation, inviter, invitee, **extra):
        ...
"""

from __future__ import annotations

import typing as t

from blinker import NamedSignal
from blinker import Namespace
from flask import current_app

_signals = Namespace()

#: Sent after an invitation was committed and its email delivered (inline) or queued.
#: Keywords: ``invitation``, ``inviter``.
invite_sent = _signals.signal("invite-sent")

#: Sent when an invitation is accepted, inside the caller's transaction.
#: Keywords: ``invitation``, ``inviter``, ``invitee``.
invite_accepted = _signals.signal("invite-accepted")

#: Sent for each invitation that became "joined independently" because its address
#: joined another way. Keywords: ``invitation``, ``inviter``, ``invitee``.
joined_independently = _signals.signal("joined-independently")

#: Sent after an invitation was emailed again with a new link and committed.
#: Keywords: ``invitation``, ``inviter``.
invite_resent = _signals.signal("invite-resent")

#: Sent after the inviter withdrew a pending invitation (committed; the invitation
#: went back to their allocation). Keywords: ``invitation``, ``inviter``.
invite_revoked = _signals.signal("invite-revoked")

#: Sent when an invitation's email could not be delivered and the invitation went back
#: to the inviter's allocation (committed). Keywords: ``invitation``, ``inviter``.
invite_undeliverable = _signals.signal("invite-undeliverable")

#: Sent when someone joins through a shareable link, inside the signup's transaction.
#: Keywords: ``link``, ``inviter``, ``invitee``.
link_joined = _signals.signal("link-joined")

#: Sent after a shareable link was withdrawn and its unused uses given back
#: (committed). Keywords: ``link``, ``inviter``.
link_revoked = _signals.signal("link-revoked")


def send(signal: NamedSignal, **kwargs: t.Any) -> None:
    """Send ``signal`` as flask-kaleo does: the current app (the object, not the proxy)
    as sender, ``kwargs`` as keyword arguments."""
    signal.send(current_app._get_current_object(), **kwargs)  # type: ignore[attr-defined]
