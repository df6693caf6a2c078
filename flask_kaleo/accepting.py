"""Accepting an invitation: the session's pending invitation, the single-use accept,
"joined independently", and the guard of an invite-only signup view."""

from __future__ import annotations

import functools
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import flash
from flask import has_request_context
from flask import redirect
from flask import render_template
from flask import request
from flask import session as flask_session

from . import links
from . import signals
from .addresses import address_key
from .addresses import identity_key
from .exceptions import InvitationAlreadyUsed
from .exceptions import InvitationExpired
from .exceptions import InvitationForAnotherAddress
from .exceptions import InvitationNotPending
from .exceptions import InvitationRevoked
from .expiry import not_expired
from .i18n import N_
from .i18n import gettext
from .links import InvitationLinkMixin
from .models import JoinInvitationMixin
from .models import Status
from .models import rowcount
from .models import utcnow
from .pages import page_url
from .store import Store

U = t.TypeVar("U")
F = t.TypeVar("F", bound=t.Callable[..., t.Any])

SESSION_KEY = "kaleo_invitation"
"""Where the accept link remembers the invitation's token digest in the session (a
shareable link's, after :data:`LINK_PREFIX`: one pending thing per session)."""

LINK_PREFIX = "link:"

PENDING_KEY = "kaleo.pending"
"""Where a request keeps the answer of :func:`pending_invitation`."""

Pending = JoinInvitationMixin | InvitationLinkMixin
"""What :func:`pending_invitation` returns and :func:`accept` takes."""


def why_not_pending(invitation: JoinInvitationMixin) -> InvitationNotPending:
    """The exception that says why ``invitation`` can no longer be accepted."""
    if invitation.to_member and invitation.is_pending:  # to a member: never acceptable
        return InvitationNotPending(gettext("This invitation can no longer be accepted."))
    if invitation.status == Status.REVOKED.value:
        return InvitationRevoked(gettext("This invitation has been withdrawn."))
    if invitation.status == Status.SENT.value:
        return InvitationExpired(gettext("This invitation has expired."))
    return InvitationAlreadyUsed(gettext("This invitation has already been used."))


def reread(store: Store[t.Any], invitation: JoinInvitationMixin) -> None:
    """Read ``invitation`` again after a conditional UPDATE missed it, as the winner
    of a race left it: a locking read, since a plain one would see this transaction's
    snapshot on MariaDB (REPEATABLE READ) and give a stale reason. A row that is gone
    (purged, its inviter deleted) is an :class:`InvitationNotPending` too."""
    model = store.Invitation
    found = store.session.scalars(
        sa.select(model)
        .where(model.id == invitation.id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)  # the loaded instance is refreshed
    ).first()
    if found is None:
        raise InvitationNotPending(gettext("This invitation no longer exists."))


def check_pending(invitation: Pending) -> None:
    """Raise the reason ``invitation`` (or a shareable link) can no longer be accepted,
    if any."""
    if isinstance(invitation, InvitationLinkMixin):
        if not invitation.is_usable:
            raise links.why_not_usable(invitation)
    elif not invitation.is_pending:
        raise why_not_pending(invitation)


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


def _same_address(address: object, invitation: JoinInvitationMixin) -> bool:
    """Whether ``address`` (what the new account uses) is the invited mailbox, by the
    strict key (:func:`~flask_kaleo.addresses.identity_key`): ``Bob@`` is ``bob@``,
    the fullwidth ``ｂｏｂ@`` is not."""
    key = identity_key(address)
    return key is not None and key == identity_key(invitation.email)


def _another_address(invitation: JoinInvitationMixin) -> InvitationForAnotherAddress:
    return InvitationForAnotherAddress(
        gettext(
            "This invitation was sent to %(email)s: sign up with that address.",
            email=invitation.email,
        )
    )


@t.overload
def signup_email(store: Store[t.Any], value: None = None) -> str | None: ...
@t.overload
def signup_email(store: Store[t.Any], value: object) -> str: ...
def signup_email(store: Store[t.Any], value: object = None) -> str | None:
    """The address a signup should use.

    Without ``value`` (to prefill the form): the session's pending invitation's
    address, or None. With ``value`` (what the form sent): ``value`` trimmed; with
    ``KALEO_REQUIRE_INVITED_EMAIL`` on and a pending invitation, another address than
    the invited one raises :class:`~flask_kaleo.InvitationForAnotherAddress`, whose
    message says which address to use.
    """
    invitation = pending_invitation(store)
    if isinstance(invitation, InvitationLinkMixin):  # no address to prefill; maybe a domain
        if value is None:
            return None
        address = value.strip() if isinstance(value, str) else ""
        if invitation.domain is not None and not links.in_domain(address, invitation.domain):
            raise links.another_domain(invitation)
        return address
    if value is None:
        return None if invitation is None else invitation.email
    address = value.strip() if isinstance(value, str) else ""
    if (
        invitation is not None
        and current_app.config["KALEO_REQUIRE_INVITED_EMAIL"]
        and not _same_address(address, invitation)
    ):
        raise _another_address(invitation)
    return address


@t.overload
def accept(store: Store[U], invitation: JoinInvitationMixin, user: U) -> JoinInvitationMixin: ...
@t.overload
def accept(store: Store[U], invitation: InvitationLinkMixin, user: U) -> InvitationLinkMixin: ...
def accept(store: Store[U], invitation: Pending, user: U) -> Pending:
    """Mark ``invitation`` accepted by ``user``, in the caller's transaction; given a
    shareable link, take one of its uses (:func:`flask_kaleo.links.join`).

    Single-use: of two concurrent calls, one wins and the other raises an
    :class:`~flask_kaleo.exceptions.InvitationNotPending`. Accepting proves only that
    ``user`` holds this invitation's link: other inviters' invitations to the same
    address become "joined independently" only when the link was emailed to that
    address (not a ``send=False`` one, nor a shareable link) and ``user``'s address
    (``KALEO_USER_EMAIL_ATTRIBUTE``) is that very mailbox; otherwise they stay pending
    until :func:`process_independent_joins` is told the address was confirmed. With
    ``KALEO_REQUIRE_INVITED_EMAIL``, a ``user`` with another address raises
    :class:`~flask_kaleo.InvitationForAnotherAddress` and nothing changes.
    """
    if isinstance(invitation, InvitationLinkMixin):
        link = links.join(store, invitation, user)
        _forget_if(link)
        return link
    model = store.Invitation
    session = store.session
    same_address = _same_address(store.user_email(user), invitation)
    if not same_address and current_app.config["KALEO_REQUIRE_INVITED_EMAIL"]:
        raise _another_address(invitation)
    user_id = store.user_id(user)
    result = session.execute(
        sa.update(model)
        .where(
            model.id == invitation.id,
            model.status == Status.SENT.value,
            not_expired(model.expires_at, utcnow()),
            model.to_member == sa.false(),
        )
        .values(status=Status.ACCEPTED.value, to_user_id=user_id, pending_email_key=None)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        reread(store, invitation)
        raise why_not_pending(invitation)
    session.refresh(invitation)
    if invitation.from_user_id is not None:  # NULL once the inviter's account is gone
        store.counters.count_accepted(session, invitation.from_user_id, store.default_allocation())
    _forget_if(invitation)
    inviter = store.get_user(invitation.from_user_id)
    signals.send(signals.invite_accepted, invitation=invitation, inviter=inviter, invitee=user)
    if same_address and not invitation.link_only:  # the emailed link proves the mailbox
        _mark_joined(store, user, invitation.email, exclude_id=invitation.id)
    return invitation


def _forget_if(pending: Pending) -> None:
    """Forget the session's pending invitation if it is ``pending`` (now used)."""
    if has_request_context() and flask_session.get(SESSION_KEY) == _session_value(pending):
        flask_session.pop(SESSION_KEY)


def process_independent_joins(store: Store[U], user: U, email: str) -> list[JoinInvitationMixin]:
    """``user`` proved ``email`` is theirs (they confirmed it): every unaccepted,
    unrevoked invitation to it, expired ones too, becomes "joined independently".

    "It" is the mailbox ``email`` names, by the strict key
    (:func:`~flask_kaleo.addresses.identity_key`): invitations to a lookalike of it
    (fullwidth letters, a ligature) stay pending. Runs in the caller's transaction;
    returns the invitations it changed.
    """
    return _mark_joined(store, user, email, exclude_id=None)


def _mark_joined(
    store: Store[U], user: U, email: str, exclude_id: int | None
) -> list[JoinInvitationMixin]:
    key = identity_key(email)
    if key is None:  # not an address: no invitation was sent to it
        return []
    model = store.Invitation
    session = store.session
    statement = sa.select(model).where(
        model.email_key == address_key(email),  # indexed; the strict matches are among these
        model.status == Status.SENT.value,
        model.to_member == sa.false(),  # stays pending: "joined" would tell it was a member
    )
    if exclude_id is not None:
        statement = statement.where(model.id != exclude_id)
    invitations: list[JoinInvitationMixin] = [
        invitation
        for invitation in session.scalars(statement)
        if identity_key(invitation.email) == key
    ]
    if not invitations:
        return []
    session.execute(
        sa.update(model)
        .where(model.id.in_([i.id for i in invitations]), model.status == Status.SENT.value)
        .values(
            status=Status.JOINED_INDEPENDENTLY.value,
            to_user_id=store.user_id(user),
            pending_email_key=None,
        )
        .execution_options(synchronize_session=False)
    )
    for invitation in invitations:
        session.refresh(invitation)
        inviter = store.get_user(invitation.from_user_id)
        signals.send(
            signals.joined_independently, invitation=invitation, inviter=inviter, invitee=user
        )
    return invitations


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
        if current_app.config["KALEO_INVITE_ONLY"] and pending_invitation(store) is None:
            return render_template("kaleo/invite_only.html"), 403
        return view(*args, **kwargs)

    return t.cast(F, guarded)


INVITATION_REQUIRED = N_(
    "Signing up is by invitation only: follow the link in your invitation email."
)


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
    invitation = _remembered(store)
    if invitation is not None:
        try:
            check_pending(invitation)
        except InvitationNotPending:
            forget()  # said once: on an open site, the next attempt signs up uninvited
            raise
    elif current_app.config["KALEO_INVITE_ONLY"]:
        raise InvitationNotPending(gettext(INVITATION_REQUIRED))
    address = signup_email(store, email)
    session = store.session
    try:
        user = create_user(address)
        session.add(user)
        session.flush()  # the user's primary key, for the invitation
        if invitation is not None:
            accept(store, invitation, user)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return user


def _remembered(store: Store[t.Any]) -> Pending | None:
    """The invitation (or shareable link) the session remembers, pending or not (None
    without one)."""
    digest = flask_session.get(SESSION_KEY) if has_request_context() else None
    return _by_session_value(store, digest) if isinstance(digest, str) else None
