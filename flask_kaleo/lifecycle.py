"""What happens to an invitation after it was sent: resend, revoke, the report of
invitations by state, and purging.

Expiry rules, in one place:

- an expired invitation cannot be accepted, is not the session's pending invitation,
  shows as ``expired`` in the lists and counts as ``expired`` in the report;
- it cannot be resent (its link is dead; resending would mail another dead link or,
  with ``KALEO_RESEND_RESETS_EXPIRY``, bring back an invitation whose address may
  already hold a newer one): the inviter invites the address again instead;
- it can be revoked, which gives it back to the inviter's allocation;
- ``purge_expired`` deletes those that expired before a cut-off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app

from . import signals
from .accepting import check_pending
from .accepting import reread
from .accepting import why_not_pending
from .delivery import Delivery
from .exceptions import DeliveryError
from .exceptions import DeliveryFailed
from .exceptions import InvitingNotAllowed
from .exceptions import ResendTooSoon
from .models import JoinInvitationMixin
from .models import Status
from .models import rowcount
from .models import utcnow
from .permissions import Permissions
from .store import Store
from .tokens import new_token

U = t.TypeVar("U")


@dataclasses.dataclass(frozen=True)
class InvitationReport:
    """How many invitations are in each state (site-wide, or one inviter's)."""

    sent: int
    accepted: int
    joined_independently: int
    pending: int
    expired: int
    revoked: int
    undeliverable: int

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted ÷ sent, or None before anything was sent."""
        return self.accepted / self.sent if self.sent else None

    def as_dict(self) -> dict[str, t.Any]:
        return {**dataclasses.asdict(self), "acceptance_rate": self.acceptance_rate}


def resend(
    store: Store[U],
    permissions: Permissions[U],
    delivery: Delivery,
    invitation: JoinInvitationMixin,
) -> JoinInvitationMixin:
    """Mail ``invitation`` again under a new link; the old link then dies.

    Spends nothing, but counts towards the daily sending limits (refused with
    :class:`~flask_kaleo.SendingLimitReached` at either). Keeps the expiry unless
    ``KALEO_RESEND_RESETS_EXPIRY``; refused within ``KALEO_RESEND_INTERVAL`` seconds
    of the last sending. One conditional UPDATE swaps the token and commits, so two
    racing resends make one winner; the email goes out after the commit. Inline, a
    delivery failure puts the old link back (it keeps working) and raises
    :class:`~flask_kaleo.DeliveryFailed`; queued, the worker mints the new link.
    """
    config = current_app.config
    model = store.Invitation
    inviter = store.get_user(invitation.from_user_id)
    if inviter is None or not permissions.has_invite_permission(inviter):
        raise InvitingNotAllowed("You are not allowed to send invitations.")
    now = utcnow()
    interval = dt.timedelta(seconds=config["KALEO_RESEND_INTERVAL"])
    before = {
        "token_digest": invitation.token_digest,
        "replaced_token_digest": invitation.replaced_token_digest,
        "resent_at": invitation.resent_at,
        "expires_at": invitation.expires_at,
        "delivered_at": invitation.delivered_at,
        "delivery_attempts": invitation.delivery_attempts,
    }
    token, digest = new_token()
    values: dict[str, t.Any] = {"resent_at": now, "delivered_at": None, "delivery_attempts": 0}
    if not delivery.queued():  # queued, the worker mints the new link
        values.update(token_digest=digest, replaced_token_digest=invitation.token_digest)
        values["delivery_attempts"] = 1
    if config["KALEO_RESEND_RESETS_EXPIRY"]:
        values["expires_at"] = now + dt.timedelta(hours=config["KALEO_DEFAULT_EXPIRATION"])
    member_limit = config["KALEO_DAILY_SEND_LIMIT"]
    address_limit = config["KALEO_ADDRESS_DAILY_LIMIT"]
    with store.transaction(keep_loaded=True) as session:
        store.fresh_snapshot()
        if address_limit is not None:  # locks first: address, then the inviter's row
            store.limits.lock_address(session, invitation.email_key)
        result = session.execute(
            sa.update(model)
            .where(
                model.id == invitation.id,
                model.status == Status.SENT.value,
                model.expires_at > now,
                model.token_digest == before["token_digest"],
                sa.func.coalesce(model.resent_at, model.sent_at) <= now - interval,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            reread(store, invitation)
            check_pending(invitation)
            raise _too_soon(invitation, interval, now)
        if member_limit is not None:
            store.limits.lock_member(session, invitation.from_user_id)
        store.limits.check(
            session,
            invitation.from_user_id,
            invitation.email_key,
            now,
            member_limit=member_limit,
            address_limit=address_limit,
        )
        store.limits.record(
            session, invitation.id, invitation.from_user_id, invitation.email_key, now
        )
        session.refresh(invitation)
        email = None
        if not delivery.queued():
            invitation.token = token
            label = store.inviter_label(inviter)
            email = delivery.render(invitation, token, inviter_label=label, first=False)
    if delivery.queued():
        unchanged = invitation.token_digest  # queued, the worker mints the new link
        delivery.enqueue(
            invitation.id, undo=lambda: _put_back(store, invitation, unchanged, before)
        )
    else:
        try:
            if email is not None:  # None: an invitation to a member is never mailed
                delivery.send(email)
        except DeliveryError as error:
            current_app.logger.warning("flask-kaleo could not deliver a resend: %s", error)
            _put_back(store, invitation, digest, before)
            raise DeliveryFailed(
                "The invitation email could not be delivered; its earlier link still works."
                " Please try again in a moment."
            ) from error
        except Exception:
            _put_back(store, invitation, digest, before)
            raise
        delivery.mark_delivered_or_log(invitation, digest)
    signals.send(signals.invite_resent, invitation=invitation, inviter=inviter)
    return invitation


def _put_back(
    store: Store[t.Any], invitation: JoinInvitationMixin, digest: str, before: dict[str, t.Any]
) -> None:
    """Undo a resend whose email could not go out (``digest`` is the link it set): the
    earlier link works again."""
    model = store.Invitation
    with store.transaction() as session:
        session.execute(
            sa.update(model)
            .where(model.id == invitation.id, model.token_digest == digest)
            .values(**before)
            .execution_options(synchronize_session=False)
        )
        session.refresh(invitation)


def _too_soon(
    invitation: JoinInvitationMixin, interval: dt.timedelta, now: dt.datetime
) -> ResendTooSoon:
    last = invitation.resent_at or invitation.sent_at
    wait = max(int((last + interval - now).total_seconds()), 1)
    minutes, seconds = divmod(wait, 60)
    when = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
    return ResendTooSoon(f"This invitation was sent a moment ago. Try again in {when}.")


def revoke(store: Store[t.Any], invitation: JoinInvitationMixin) -> JoinInvitationMixin:
    """Withdraw an unaccepted invitation (pending or expired) and commit.

    The invitation goes back to the inviter's allocation in the same transaction (a
    forced one lowers the allocation it raised instead), and
    its link then shows a "revoked" page. Raises
    :class:`~flask_kaleo.exceptions.InvitationNotPending` when it was already accepted,
    joined or revoked.
    """
    model = store.Invitation
    with store.transaction() as session:
        result = session.execute(
            sa.update(model)
            .where(model.id == invitation.id, model.status == Status.SENT.value)
            .values(status=Status.REVOKED.value, pending_email_key=None)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            reread(store, invitation)
            raise why_not_pending(invitation)
        store.counters.give_back(session, invitation.from_user_id, forced=invitation.forced)
    store.session.refresh(invitation)
    inviter = store.get_user(invitation.from_user_id)
    signals.send(signals.invite_revoked, invitation=invitation, inviter=inviter)
    return invitation


def _count(condition: sa.ColumnElement[bool]) -> t.Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def report(store: Store[t.Any], inviter_id: t.Any = None) -> InvitationReport:
    """The invitations by state, all or one inviter's, in one aggregate query."""
    model = store.Invitation
    now = utcnow()
    unanswered = model.status == Status.SENT.value
    statement = sa.select(
        sa.func.count(model.id),
        _count(model.status == Status.ACCEPTED.value),
        _count(model.status == Status.JOINED_INDEPENDENTLY.value),
        _count(sa.and_(unanswered, model.expires_at > now)),
        _count(sa.and_(unanswered, model.expires_at <= now)),
        _count(model.status == Status.REVOKED.value),
        _count(model.status == Status.UNDELIVERABLE.value),
    )
    if inviter_id is not None:
        statement = statement.where(model.from_user_id == inviter_id)
    row = store.session.execute(statement).one()
    return InvitationReport(*(int(value) for value in row))


def purge_expired(store: Store[t.Any], older_than: dt.timedelta, *, dry_run: bool = False) -> int:
    """Delete unanswered invitations that expired more than ``older_than`` ago, in one
    statement, and the log's sends older than two days (no daily limit counts them);
    with ``dry_run``, only count the invitations. Returns how many invitations.

    Counters are untouched: an expired invitation stays spent (revoke gives one back).
    """
    model = store.Invitation
    condition = sa.and_(
        model.status == Status.SENT.value, model.expires_at <= utcnow() - older_than
    )
    if dry_run:
        count = store.session.scalar(sa.select(sa.func.count(model.id)).where(condition))
        return int(count or 0)
    with store.transaction() as session:
        store.limits.purge(session, utcnow())
        result = session.execute(
            sa.delete(model).where(condition).execution_options(synchronize_session=False)
        )
    return rowcount(result)
