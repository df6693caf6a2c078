"""The visitor's session: which invitation (or shareable link) a signup is for.

The accept link remembers the invitation's digest in the session; the signup view
finds it again, checks the address against it and accepts it with the new account,
then forgets it. A signed-in member's session never redeems one.
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
from ..core import links
from ..core.accepting import Pending
from ..core.accepting import check_pending
from ..core.accepting import check_signup_address
from ..core.accepting import create_and_accept
from ..core.store import Store
from ..exceptions import InvitationNotPending
from ..i18n import N_
from ..i18n import gettext
from ..models import InvitationLinkMixin
from ..models import JoinInvitationMixin
from .pages import page_url

U = t.TypeVar("U")
F = t.TypeVar("F", bound=t.Callable[..., t.Any])

SESSION_KEY = "kaleo_invitation"
"""Where the accept link remembers the invitation's token digest in the session (a
shareable link's, after :data:`LINK_PREFIX`: one pending thing per session)."""

LINK_PREFIX = "link:"

PENDING_KEY = "kaleo.pending"
"""Where a request keeps the answer of :func:`pending_invitation`."""

INVITATION_REQUIRED = N_(
    "Signing up is by invitation only: follow the link in your invitation email."
)


def remember(invitation: JoinInvitationMixin) -> None:
    """Remember ``invitation`` in the visitor's session (the accept link does this)."""
    flask_session[SESSION_KEY] = invitation.token_digest


def remember_link(link: InvitationLinkMixin) -> None:
    """Remember a shareable link in the visitor's session (its join page does this)."""
    flask_session[SESSION_KEY] = LINK_PREFIX + link.token_digest


def _session_value(pending: Pending) -> str:
    """What :data:`SESSION_KEY` holds while ``pending`` is remembered."""
    if isinstance(pending, InvitationLinkMixin):
        return LINK_PREFIX + pending.token_digest
    return pending.token_digest


def forget(*args: t.Any, **kwargs: t.Any) -> None:
    """Forget the remembered invitation (connected to Flask-Login's ``user_logged_out``:
    the next person at a shared computer must not sign up with it)."""
    if has_request_context():
        flask_session.pop(SESSION_KEY, None)


def forget_if(pending: Pending) -> None:
    """Forget the session's pending invitation if it is ``pending`` (now used)."""
    if has_request_context() and flask_session.get(SESSION_KEY) == _session_value(pending):
        flask_session.pop(SESSION_KEY)


def pending_invitation(store: Store[t.Any]) -> Pending | None:
    """The invitation the accept link remembered in this session, while it is still
    pending (or the shareable link, while someone may join through it); otherwise None."""
    if not has_request_context():
        return None
    digest = flask_session.get(SESSION_KEY)
    if not isinstance(digest, str):
        return None
    # One answer per request: the guard (invitation_required) and the signup view after
    # it must agree, or a link used up in between would let the view sign up without
    # it. Whether it can still be accepted is settled by accept's conditional UPDATE.
    found = request.environ.get(PENDING_KEY)
    if found is not None and found[0] == digest:
        return t.cast(Pending | None, found[1])
    pending = _pending(store, digest)
    request.environ[PENDING_KEY] = (digest, pending)
    return pending


def _pending(store: Store[t.Any], digest: str) -> Pending | None:
    found = _by_session_value(store, digest)
    if isinstance(found, InvitationLinkMixin):
        return found if found.is_usable else None
    return found if found is not None and found.is_pending else None


def _by_session_value(store: Store[t.Any], digest: str) -> Pending | None:
    """The invitation or link a :data:`SESSION_KEY` value names, in any state."""
    if digest.startswith(LINK_PREFIX):
        return links.link_by_digest(store, digest.removeprefix(LINK_PREFIX))
    return store.invitation_by_digest(digest)


def _remembered(store: Store[t.Any]) -> Pending | None:
    """The invitation (or shareable link) the session remembers, pending or not (None
    without one)."""
    digest = flask_session.get(SESSION_KEY) if has_request_context() else None
    return _by_session_value(store, digest) if isinstance(digest, str) else None


@t.overload
def signup_email(store: Store[t.Any], value: None = None) -> str | None: ...
@t.overload
def signup_email(store: Store[t.Any], value: object) -> str: ...
def signup_email(store: Store[t.Any], value: object = None) -> str | None:
    """The address a signup should use.

    Without ``value`` (to prefill the form): the session's pending invitation's
    address, or None (a shareable link has none). With ``value`` (what the form sent):
    ``value`` trimmed and checked against the pending invitation
    (:func:`~flask_kaleo.core.accepting.check_signup_address`).
    """
    pending = pending_invitation(store)
    if value is None:
        return pending.email if isinstance(pending, JoinInvitationMixin) else None
    return check_signup_address(pending, value)


def signup(store: Store[U], email: object, create_user: t.Callable[[str], U]) -> U:
    """Create the account a signup form asked for and accept the session's invitation
    with it, in one commit.

    ``create_user(address)`` builds the user (not yet added to the session) for the
    checked address. Raises :class:`~flask_kaleo.InvitationNotPending` (the
    invitation was used, expired or revoked since the link was followed; another
    address than the invited one with ``KALEO_REQUIRE_INVITED_EMAIL``; no invitation
    with ``KALEO_INVITE_ONLY``) with nothing created; any error of the app's own
    (a duplicate address) rolls back too and is raised as it is.
    """
    pending = _remembered(store)
    if pending is not None:
        try:
            check_pending(pending)
        except InvitationNotPending:
            forget()  # said once: on an open site, the next attempt signs up uninvited
            raise
    elif current_config().invite_only:
        raise InvitationNotPending(gettext(INVITATION_REQUIRED))
    address = signup_email(store, email)
    user = create_and_accept(store, pending, address, create_user)
    if pending is not None:
        forget_if(pending)
    return user


def invitation_required(
    store: Store[t.Any], view: F, current_user: t.Callable[[], t.Any] | None = None
) -> F:
    """``view`` guarded: a signed-in member is sent to ``KALEO_SIGNED_IN_REDIRECT``
    (when ``current_user`` is given and the setting is not None); with
    ``KALEO_INVITE_ONLY`` on, only visitors who followed a valid invitation link get
    through; others see a 403 page."""

    @functools.wraps(view)
    def guarded(*args: t.Any, **kwargs: t.Any) -> t.Any:
        target = page_url("KALEO_SIGNED_IN_REDIRECT")
        if target is not None and current_user is not None and current_user() is not None:
            flash(gettext("You are already signed in."), "info")
            return redirect(target, code=303)
        if current_config().invite_only and pending_invitation(store) is None:
            return render_template("kaleo/invite_only.html"), 403
        return view(*args, **kwargs)

    return t.cast(F, guarded)
