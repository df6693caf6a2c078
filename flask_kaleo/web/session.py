"""The visitor's session: which invitation (or shareable link) a signup is for, and
the member's newest shareable link.

Following an accept URL (or a link's join URL) remembers what it names in the
session; the signup finds it again through :mod:`flask_kaleo.core.accepting`, which
the facade hands what is kept here (the remembered value, a way to forget it). A
signed-in member's session never redeems one.
"""

from __future__ import annotations

import functools
import typing as t

from flask import flash
from flask import has_request_context
from flask import redirect
from flask import render_template
from flask import request
from flask import session as flask_session

from ..config import current_config
from ..i18n import gettext
from ..models import InvitationLinkMixin
from ..models import Pending
from ..state import get_kaleo
from .endpoint import signed_in_id
from .pages import page_url

P = t.TypeVar("P", bound=Pending)
F = t.TypeVar("F", bound=t.Callable[..., t.Any])

SESSION_KEY = "kaleo_invitation"
"""Where the session remembers the pending invitation's or link's
:attr:`~flask_kaleo.models.Pending.session_value` (one pending thing per session)."""

NEW_LINK_KEY = "kaleo.new_link"
"""Where the session keeps the member's newest shareable link: its id, its URL (only
the token's digest is stored, so the session is the one place the URL lives on) and
whose it is."""

PENDING_KEY = "kaleo.pending"
"""Where a request keeps the answer of :func:`pending_once`."""


def remember(pending: Pending) -> None:
    """Remember ``pending`` in the visitor's session (its accept or join URL does this)."""
    flask_session[SESSION_KEY] = pending.session_value


def forget(*args: object, **kwargs: object) -> None:
    """Forget what the session remembers, and the member's newest link (connected to
    Flask-Login's ``user_logged_out``: the next person at a shared computer must
    neither sign up with the one nor see the other)."""
    if has_request_context():
        flask_session.pop(SESSION_KEY, None)
        flask_session.pop(NEW_LINK_KEY, None)


def forget_others_new_link(sender: object, user: object, **extra: object) -> None:
    """Forget another member's newest link when ``user`` signs in at this browser
    (connected to Flask-Login's ``user_logged_in``): Flask's session cookie is signed,
    not encrypted, so the next member could read its URL there."""
    if not has_request_context():
        return
    kept = flask_session.get(NEW_LINK_KEY)
    if isinstance(kept, dict) and kept.get("user") != str(get_kaleo().hooks.user_id(user)):
        flask_session.pop(NEW_LINK_KEY, None)


def forget_if(pending: Pending) -> None:
    """Forget what the session remembers if it is ``pending`` (now used)."""
    if has_request_context() and flask_session.get(SESSION_KEY) == pending.session_value:
        flask_session.pop(SESSION_KEY)


def remembered() -> str | None:
    """The value the session remembers (None without one, or outside a request)."""
    value = flask_session.get(SESSION_KEY) if has_request_context() else None
    return value if isinstance(value, str) else None


def keep_new_link(link: InvitationLinkMixin, user: object) -> None:
    """Keep ``link`` (just created by ``user``, its ``url`` set) as the member's newest
    link, in place of any other, for the pages after this one."""
    owner = str(get_kaleo().hooks.user_id(user))
    flask_session[NEW_LINK_KEY] = {"id": link.id, "url": link.url, "user": owner}


def new_link(user: object) -> tuple[InvitationLinkMixin, str] | None:
    """``user``'s newest link and its URL while someone may still join through it (the
    ``kaleo_new_link`` template global); a link used up, expired or revoked is
    forgotten. None without one, for a visitor not signed in, or when the session
    keeps another member's."""
    kept = flask_session.get(NEW_LINK_KEY) if has_request_context() else None
    owner = signed_in_id()  # None for a visitor: a session may outlive its sign-in
    if not isinstance(kept, dict) or owner is None or kept.get("user") != owner:
        return None
    kaleo = get_kaleo()
    if user is None or str(kaleo.hooks.user_id(user)) != owner:
        return None
    link_id, url = kept.get("id"), kept.get("url")
    link = None
    if isinstance(link_id, int):
        link = kaleo.get(kaleo.InvitationLink, link_id, sent_by=user)
    if link is None or not link.is_pending or not isinstance(url, str):
        flask_session.pop(NEW_LINK_KEY, None)
        return None
    return link, url


def pending_once(find: t.Callable[[str], P | None]) -> P | None:
    """``find(value)`` for the remembered value, asked once per request (None without
    one).

    The guard (:func:`invitation_required`) and the signup view after it must agree,
    or a link used up in between would let the view sign up without it. Whether it can
    still be accepted is settled by the accept's conditional UPDATE.
    """
    value = remembered()
    if value is None:
        return None
    found = request.environ.get(PENDING_KEY)
    if found is not None and found[0] == value:
        return t.cast("P | None", found[1])
    pending = find(value)
    request.environ[PENDING_KEY] = (value, pending)
    return pending


def invitation_required(
    view: F,
    pending: t.Callable[[], object | None],
    current_user: t.Callable[[], object | None] | None = None,
) -> F:
    """``view`` guarded: a signed-in member is sent to ``KALEO_SIGNED_IN_REDIRECT``
    (when ``current_user`` is given and the setting is not None); with
    ``KALEO_INVITE_ONLY`` on, only visitors for whom ``pending()`` finds a valid
    invitation or link get through; others see a 403 page."""

    @functools.wraps(view)
    def guarded(*args: object, **kwargs: object) -> object:
        target = page_url("KALEO_SIGNED_IN_REDIRECT")
        if target is not None and current_user is not None and current_user() is not None:
            flash(gettext("You are already signed in."), "info")
            return redirect(target, code=303)
        if current_config().invite_only and pending() is None:
            return render_template("kaleo/invite_only.html"), 403
        return view(*args, **kwargs)

    return t.cast(F, guarded)
