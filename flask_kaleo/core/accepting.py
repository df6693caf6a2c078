"""Accepting an invitation: why one can no longer be, the signup's address checked
against it, the single-use accept, and "joined independently". The visitor's session
(which invitation a signup is for) is the web layer's: :mod:`flask_kaleo.web.session`."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from .. import signals
from ..config import current_config
from ..exceptions import InvitationAlreadyUsed
from ..exceptions import InvitationExpired
from ..exceptions import InvitationForAnotherAddress
from ..exceptions import InvitationNotPending
from ..exceptions import InvitationRevoked
from ..i18n import gettext
from ..models import InvitationLinkMixin
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import rowcount
from ..models import utcnow
from . import links
from .addresses import address_key
from .addresses import identity_key
from .expiry import not_expired
from .store import Store

U = t.TypeVar("U")

Pending = JoinInvitationMixin | InvitationLinkMixin
"""What a signup can redeem: an invitation, or a shareable link; :func:`accept` takes
either."""


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


def _same_address(address: object, invitation: JoinInvitationMixin) -> bool:
    """Whether ``address`` (what the new account uses) is the invited mailbox, by the
    strict key (:func:`~flask_kaleo.core.addresses.identity_key`): ``Bob@`` is ``bob@``,
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
def accept(store: Store[U], invitation: JoinInvitationMixin, user: U) -> JoinInvitationMixin: ...
@t.overload
def accept(store: Store[U], invitation: InvitationLinkMixin, user: U) -> InvitationLinkMixin: ...
def accept(store: Store[U], invitation: Pending, user: U) -> Pending:
    """Mark ``invitation`` accepted by ``user``, in the caller's transaction; given a
    shareable link, take one of its uses (:func:`flask_kaleo.core.links.join`).

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
        return links.join(store, invitation, user)
    model = store.Invitation
    session = store.session
    same_address = _same_address(store.user_email(user), invitation)
    if not same_address and current_config().require_invited_email:
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
    inviter = store.get_user(invitation.from_user_id)
    signals.send(signals.invite_accepted, invitation=invitation, inviter=inviter, invitee=user)
    if same_address and not invitation.link_only:  # the emailed link proves the mailbox
        _mark_joined(store, user, invitation.email, exclude_id=invitation.id)
    return invitation


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


def check_signup_address(pending: Pending | None, value: object) -> str:
    """The address a signup form sent (``value``), trimmed and checked against what
    the signup redeems: a shareable link's domain, or with ``KALEO_REQUIRE_INVITED_EMAIL``
    the invited address (:class:`~flask_kaleo.InvitationForAnotherAddress`, whose
    message says which address to use)."""
    address = value.strip() if isinstance(value, str) else ""
    if isinstance(pending, InvitationLinkMixin):
        if pending.domain is not None and not links.in_domain(address, pending.domain):
            raise links.another_domain(pending)
    elif (
        pending is not None
        and current_config().require_invited_email
        and not _same_address(address, pending)
    ):
        raise _another_address(pending)
    return address


def create_and_accept(
    store: Store[U], pending: Pending | None, address: str, create_user: t.Callable[[str], U]
) -> U:
    """Create the user ``create_user(address)`` builds and accept ``pending`` (if any)
    with it, in one commit; on any error, roll both back and raise it."""
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
    return user
