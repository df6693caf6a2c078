"""Accepting what a signup redeems (an invitation, or a shareable link: a
:class:`~flask_kaleo.models.Pending`): finding it from what the visitor's session
remembered, the signup's address checked against it, the single-use accept, the
signup that creates the user and accepts in one commit, and "joined independently".
The session itself is the web layer's (:mod:`flask_kaleo.web.session`): these
functions take what they need from it as arguments."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from .. import signals
from ..config import current_config
from ..exceptions import InvitationNotPending
from ..exceptions import InvitationReplaced
from ..i18n import N_
from ..i18n import gettext
from ..models import InvitationLinkMixin
from ..models import JoinInvitationMixin
from ..models import Pending
from ..models import Status
from ..models import rowcount
from ..models import utcnow
from .addresses import address_key
from .addresses import identity_key
from .lineage import record_referral
from .links import in_domain
from .store import Store
from .tokens import MAX_TOKEN_LENGTH

U = t.TypeVar("U")
P = t.TypeVar("P", bound=Pending)

INVITATION_REQUIRED = N_(
    "Signing up is by invitation only: follow the link in your invitation email."
)


REPLACED = N_(
    "This invitation was sent again with a new link, so this one no longer works."
    " Use the link in the most recent invitation email."
)


def invitation_by_token(store: Store[U], token: str) -> JoinInvitationMixin | None:
    """The invitation whose accept URL ends in ``token``, in any state; None for a
    token nobody holds (or an invitation never mailed, to a member's address). The
    token a resend replaced raises :class:`~flask_kaleo.InvitationReplaced`."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    invitation = store.invitation_by_token(token)
    if invitation is None and store.was_replaced(token):
        raise InvitationReplaced(gettext(REPLACED))
    return None if invitation is None or invitation.to_member else invitation


def check_pending(pending: Pending) -> None:
    """Raise the reason ``pending`` can no longer be redeemed, if any."""
    if not pending.is_pending:
        raise pending.why_not_pending()


def _same_address(address: object, invited: str) -> bool:
    """Whether ``address`` (what the new account uses) is the ``invited`` mailbox, by
    the strict key (:func:`~flask_kaleo.core.addresses.identity_key`): ``Bob@`` is
    ``bob@``, the fullwidth ``ｂｏｂ@`` is not."""
    key = identity_key(address)
    return key is not None and key == identity_key(invited)


def check_address(pending: Pending, address: str) -> None:
    """Raise :class:`~flask_kaleo.InvitationForAnotherAddress` unless ``pending``
    admits ``address``: at a link's domain, and with ``KALEO_REQUIRE_INVITED_EMAIL``
    the invited address itself."""
    invited = pending.invited_address
    if (
        invited is not None
        and current_config().require_invited_email
        and not _same_address(address, invited)
    ):
        raise pending.another_address()
    domain = pending.allowed_domain
    if domain is not None and not in_domain(address, domain):
        raise pending.another_address()


def accept(store: Store[U], pending: P, user: U) -> P:
    """Record that ``user`` redeemed ``pending``, in the caller's transaction: an
    invitation becomes accepted, a shareable link gives up one of its uses.

    Single-use: the conditional UPDATE is the check, so of racing calls only as many
    win as it allows (one, or the link's uses left); the others raise an
    :class:`~flask_kaleo.exceptions.InvitationNotPending`. Accepting proves only that
    ``user`` holds its accept URL: other inviters' invitations to the same address
    become "joined independently" only when the URL was emailed to that address (not
    a ``send=False`` invitation, nor a link) and ``user``'s address
    (``KALEO_USER_EMAIL_ATTRIBUTE``) is that very mailbox; otherwise they stay pending
    until :func:`process_independent_joins` is told the address was confirmed. An
    address :func:`check_address` refuses raises
    :class:`~flask_kaleo.InvitationForAnotherAddress` and nothing changes.
    """
    address = store.user_email(user)
    check_address(pending, address)
    session = store.session
    user_id = store.user_id(user)
    now = utcnow()
    result = session.execute(
        sa.update(type(pending))
        .where(*pending.pending_where(now))
        .values(**pending.accepted_values(user_id))
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        pending.reread(session)
        raise pending.why_not_pending()
    pending.record_use(session, user_id, address, now)
    session.refresh(pending)
    via_link = isinstance(pending, InvitationLinkMixin)
    record_referral(
        store,
        user_id,
        address,
        pending.from_user_id,
        pending.inviter_label,
        invitation_id=None if via_link else pending.id,
        link_id=pending.id if via_link else None,
    )
    if pending.from_user_id is not None:  # NULL once the inviter's account is gone
        store.counters.count_accepted(session, pending.from_user_id, store.default_allocation())
    pending.announce_accepted(store.get_user(pending.from_user_id), user)
    emailed = pending.emailed_address
    if emailed is not None and _same_address(address, emailed):  # it proves the mailbox
        _mark_joined(store, user, emailed, exclude_id=pending.id)
    return pending


def process_independent_joins(store: Store[U], user: U, email: str) -> list[JoinInvitationMixin]:
    """``user`` proved ``email`` is theirs (they confirmed it): every unaccepted,
    unrevoked invitation to it, expired ones too, becomes "joined independently".

    "It" is the mailbox ``email`` names, by the strict key
    (:func:`~flask_kaleo.core.addresses.identity_key`): invitations to a lookalike of it
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
    model = store.JoinInvitation
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


def find_remembered(store: Store[U], value: str) -> Pending | None:
    """The invitation or link a session's remembered ``value``
    (:attr:`~flask_kaleo.models.Pending.session_value`) names, in any state."""
    # The link's prefix first: an invitation's is empty.
    link = store.InvitationLink
    condition = link.by_session_value(value)
    if condition is not None:
        return store.session.scalars(sa.select(link).where(condition)).first()
    invitation = store.JoinInvitation
    condition = invitation.by_session_value(value)
    if condition is None:
        return None
    return store.session.scalars(sa.select(invitation).where(condition)).first()


def still_pending(store: Store[U], value: str) -> Pending | None:
    """What the session's ``value`` names, while a signup may still redeem it."""
    found = find_remembered(store, value)
    return found if found is not None and found.is_pending else None


def check_signup_address(pending: Pending | None, value: object) -> str:
    """The address a signup form sent (``value``), trimmed and checked against what
    the signup redeems (:func:`check_address`)."""
    address = value.strip() if isinstance(value, str) else ""
    if pending is not None:
        check_address(pending, address)
    return address


def signup(
    store: Store[U],
    remembered: str | None,
    email: object,
    create_user: t.Callable[[str], U],
    forget: t.Callable[[], None],
) -> U:
    """Create the account a signup form asked for and accept what the session
    remembered (its value ``remembered``) with it, in one commit; ``forget()`` makes
    the session forget it, once used or no longer pending.

    ``create_user(address)`` builds the user (not yet added to the session) for the
    checked address. Raises :class:`~flask_kaleo.InvitationNotPending` (the
    invitation was used, expired or revoked since its URL was followed; another
    address than the invited one with ``KALEO_REQUIRE_INVITED_EMAIL``; no invitation
    with ``KALEO_INVITE_ONLY``) with nothing created; any error of the app's own
    (a duplicate address) rolls back too and is raised as it is.
    """
    pending = None if remembered is None else find_remembered(store, remembered)
    if pending is not None:
        try:
            check_pending(pending)
        except InvitationNotPending:
            forget()  # said once: on an open site, the next attempt signs up uninvited
            raise
    elif current_config().invite_only:
        raise InvitationNotPending(gettext(INVITATION_REQUIRED))
    address = check_signup_address(pending, email)
    session = store.session
    try:
        user = create_user(address)
        session.add(user)
        session.flush()  # the user's primary key, for the invitation
        if pending is not None:
            accept(store, pending, user)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if pending is not None:
        forget()
    return user
