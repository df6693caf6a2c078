"""Sending an invitation: the checks, then the spend and the row in one transaction,
then the email's delivery after the commit."""

from __future__ import annotations

import datetime as dt
import functools
import typing as t

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import signals
from ..config import MESSAGE_MAX_LENGTH
from ..config import current_config
from ..constants import ExpiresIn
from ..delivery.render import accept_url
from ..delivery.transport import OutgoingEmail
from ..exceptions import AlreadyInvited
from ..exceptions import AlreadyMember
from ..exceptions import CannotInviteSelf
from ..exceptions import InvitingNotAllowed
from ..exceptions import NotEnoughInvitations
from ..i18n import gettext
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import utcnow
from .addresses import Address
from .addresses import address_key
from .addresses import canonical_address
from .addresses import clean_message
from .counters import UserId
from .expiry import choose_lifetime
from .hooks import Hooks
from .lease import lease_until
from .sending import Delivery
from .store import Store
from .tokens import new_token

U = t.TypeVar("U")


def invite(
    store: Store[U],
    hooks: Hooks[U],
    delivery: Delivery,
    from_user: U,
    email: str,
    message: str | None,
    *,
    force: bool,
    fields: t.Mapping[str, object],
    send: bool = True,
    expires_in: ExpiresIn = None,
) -> JoinInvitationMixin:
    """Spend one of ``from_user``'s invitations on ``email``, commit, then deliver it.

    The spend and the new row commit together; the email goes out after the commit
    (inline, or through the queue), and an email that cannot be delivered gives the
    invitation back (see :mod:`flask_kaleo.core.sending`). With ``force`` the invitation
    is sent even when none is left: the allocation grows by the one it records, and
    shrinks again if that invitation is revoked or given back.

    With ``send=False`` nothing is mailed: the invitation is spent and stored the same
    way, marked ``link_only`` (and delivered, so no sweep sends it), and returned with
    its ``accept_url`` (never stored). No email means the daily sending limits, which
    count emails, neither check nor count it.
    """
    address = canonical_address(email, smtputf8=current_config().smtputf8)
    message = clean_message(message, MESSAGE_MAX_LENGTH)
    if not hooks.has_invite_permission(from_user):
        raise InvitingNotAllowed(gettext("You are not allowed to send invitations."))
    if address.key == address_key(store.user_email(from_user)):
        raise CannotInviteSelf(gettext("You cannot invite yourself."))

    lifetime = choose_lifetime(current_config(), hooks.has_manage_permission(from_user), expires_in)
    inviter_id = store.user_id(from_user)
    attempt = functools.partial(
        _record,
        store,
        delivery,
        from_user,
        inviter_id,
        address,
        message,
        force,
        fields,
        send=send,
        lifetime=lifetime,
    )
    try:
        invitation, outgoing = attempt(slot_taken=False)
    except IntegrityError as error:
        if not _pending_slot_taken(error):
            raise
        # Rarely, the address holds a pending invitation of ours: refuse, or free the
        # slot if that one has expired, and try once more.
        try:
            invitation, outgoing = attempt(slot_taken=True)
        except IntegrityError as error:
            if _pending_slot_taken(error):
                raise _already_invited(address) from None
            raise
    if send:
        delivery.start(invitation, outgoing)
    signals.send(signals.invite_sent, invitation=invitation, inviter=from_user)
    return invitation


def _already_invited(address: Address) -> AlreadyInvited:
    return AlreadyInvited(gettext("You have already invited %(email)s.", email=address.email))


def _pending_slot_taken(error: IntegrityError) -> bool:
    """Whether the one-pending-invitation-per-inviter-and-address constraint refused."""
    return "pending" in str(error.orig)


def _record(
    store: Store[U],
    delivery: Delivery,
    from_user: U,
    inviter_id: UserId,
    address: Address,
    message: str | None,
    force: bool,
    fields: t.Mapping[str, object],
    *,
    send: bool,
    lifetime: dt.timedelta | None,
    slot_taken: bool,
) -> tuple[JoinInvitationMixin, OutgoingEmail | None]:
    """One transaction: spend, store, and (for inline delivery) render the email. With
    ``slot_taken`` (the insert found the address's pending slot taken), first free the
    slot of an expired invitation, or refuse if it is still pending.

    The common path costs six statements (the address's lock, the spend returning what
    is left, one count of the day's sends, the member check, the insert and its entry
    in the log of sends): the pending slot is looked at only when the insert says it is
    taken. The counters and limits run on the transaction's connection, the session
    flushed first: nothing else is pending until the invitation is added.
    """
    config = current_config()
    member_limit = config.rate_limits.member if send else None
    address_limit = config.rate_limits.address if send else None
    key = address.key
    with store.transaction(keep_loaded=True) as session:
        store.fresh_snapshot()
        session.flush()
        connection = session.connection()
        if address_limit is not None:  # locks first: address, then the inviter's row
            store.limits.lock_address(connection, key)
        if slot_taken:
            _free_expired_slot(store, inviter_id, address)
        default = store.default_allocation()
        forced = False
        if force:
            forced = store.counters.spend_beyond(connection, inviter_id, default)
            remaining = None
        else:
            remaining = store.counters.spend(connection, inviter_id, default)
            if remaining is None:
                raise NotEnoughInvitations(gettext("You have no invitations left."))
        # The spend locked the inviter's row: their day's sends can be counted. Before
        # the member check, so a member's address counts like any other.
        now = utcnow()
        store.limits.check(
            connection,
            inviter_id,
            key,
            now,
            member_limit=member_limit,
            address_limit=address_limit,
        )
        # Only once an invitation is spent (rolled back if refused): a member with none
        # left learns nothing about who is a member.
        to_member = store.is_member(address)
        if to_member and not config.hides_members:
            raise AlreadyMember(gettext("%(email)s is already a member.", email=address.email))
        token, digest = new_token()
        invitation = _new_invitation(store, inviter_id, address, message, fields, digest, now)
        invitation.inviter_label = store.inviter_label(from_user)
        invitation.expires_at = None if lifetime is None else invitation.sent_at + lifetime
        invitation.forced = forced
        invitation.inviter_remaining = remaining
        # A member's address, with KALEO_MEMBER_PRIVACY: stored, spent and answered
        # like any other, but never mailed an invitation and never acceptable.
        invitation.to_member = to_member
        email = None
        if not send:  # the accept URL goes to the caller, once; nothing waits for delivery
            invitation.link_only = True
            invitation.delivered_at = invitation.sent_at
            invitation.token = token
            invitation.accept_url = accept_url(token)
        elif not delivery.queued():  # a queued email gets its token from the worker
            invitation.delivery_attempts = 1
            invitation.delivery_lease_until = lease_until(invitation.sent_at)
            invitation.token = token
            label = invitation.inviter_label
            email = delivery.render(invitation, token, inviter_label=label, first=True)
        session.add(invitation)
        session.flush()
        if send:  # the log counts emails
            store.limits.record(connection, invitation.id, inviter_id, key, invitation.sent_at)
    return invitation, email


def _free_expired_slot(store: Store[U], inviter_id: UserId, address: Address) -> None:
    """Refuse a second pending invitation; free the slot of an expired one.

    A locking read of the one row by its unique key (on MariaDB a plain one would fix
    the transaction's snapshot before the inviter's row is locked, and the daily count
    would miss sends), then an UPDATE by primary key only when needed.
    """
    model = store.JoinInvitation
    current = store.session.execute(
        sa.select(model.id, model.expires_at)
        .where(model.from_user_id == inviter_id, model.pending_email_key == address.key)
        .with_for_update()
    ).first()
    if current is None:
        return
    if current.expires_at is None or current.expires_at > utcnow():
        raise _already_invited(address)
    store.session.execute(
        sa.update(model)
        .where(model.id == current.id, model.pending_email_key.is_not(None))
        .values(pending_email_key=None)
    )


def _new_invitation(
    store: Store[U],
    inviter_id: UserId,
    address: Address,
    message: str | None,
    fields: t.Mapping[str, object],
    digest: str,
    now: dt.datetime,
) -> JoinInvitationMixin:
    """The new invitation's row, sent at ``now`` (the time the limits counted); its
    expiry is the caller's."""
    invitation: JoinInvitationMixin = store.JoinInvitation(
        **fields,
        from_user_id=inviter_id,
        email=address.email,
        email_key=address.key,
        pending_email_key=address.key,
        message=message,
        sent_at=now,
        status=Status.SENT.value,
        token_digest=digest,
    )
    return invitation
