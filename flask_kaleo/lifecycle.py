"""What happens to an invitation after it was sent: resend, revoke, expiry, statistics
and purging. :class:`~flask_kaleo.Kaleo` exposes each as a method.

Expiry rules, in one place:

- an expired invitation cannot be accepted, is not the session's pending invitation,
  shows as ``expired`` in the lists and counts as ``expired`` in the statistics;
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
from .exceptions import InvitingNotAllowed
from .exceptions import ResendTooSoon
from .mail import send_invitation
from .models import Status
from .models import new_token
from .models import token_digest
from .models import utcnow

if t.TYPE_CHECKING:
    from .extension import Kaleo


@dataclasses.dataclass(frozen=True)
class InvitationStats:
    """Site-wide figures over every stored invitation (``flask kaleo stats``)."""

    sent: int
    accepted: int
    joined_independently: int
    pending: int
    expired: int
    revoked: int

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted ÷ sent, or None before anything was sent."""
        return self.accepted / self.sent if self.sent else None

    def as_dict(self) -> dict[str, t.Any]:
        return {**dataclasses.asdict(self), "acceptance_rate": self.acceptance_rate}


def _app() -> t.Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def resend(kaleo: Kaleo, invitation: t.Any) -> t.Any:
    """Mail ``invitation`` again under a new token and commit; the old link dies.

    Spends nothing. Keeps the expiry unless ``KALEO_RESEND_RESETS_EXPIRY``; refused
    within ``KALEO_RESEND_INTERVAL`` seconds of the last sending. One conditional
    UPDATE swaps the token, so two racing resends make one winner; the email goes out
    before the commit, and a delivery failure rolls back (the old link keeps working).
    """
    config = current_app.config
    session = kaleo.db.session
    model = kaleo.JoinInvitation
    inviter = session.get(kaleo.user_model, invitation.from_user_id)
    if inviter is None or not kaleo.may_invite(inviter):
        raise InvitingNotAllowed("You are not allowed to send invitations.")
    now = utcnow()
    interval = dt.timedelta(seconds=config["KALEO_RESEND_INTERVAL"])
    old_digest = invitation.token_digest
    token, digest = new_token()
    values: dict[str, t.Any] = {
        "token_digest": digest,
        "replaced_token_digest": old_digest,
        "resent_at": now,
    }
    if config["KALEO_RESEND_RESETS_EXPIRY"]:
        values["expires_at"] = now + dt.timedelta(hours=config["KALEO_DEFAULT_EXPIRATION"])
    try:
        result = session.execute(
            sa.update(model)
            .where(
                model.id == invitation.id,
                model.status == Status.SENT.value,
                model.expires_at > now,
                model.token_digest == old_digest,
                sa.func.coalesce(model.resent_at, model.sent_at) <= now - interval,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.refresh(invitation)
        if result.rowcount != 1:
            kaleo.check_pending(invitation)
            raise _too_soon(invitation, interval, now)
        invitation.token = token
        send_invitation(invitation, inviter_name=kaleo.user_email(inviter))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    signals.invite_resent.send(_app(), invitation=invitation, inviter=inviter)
    return invitation


def _too_soon(invitation: t.Any, interval: dt.timedelta, now: dt.datetime) -> ResendTooSoon:
    last = invitation.resent_at or invitation.sent_at
    wait = max(int((last + interval - now).total_seconds()), 1)
    minutes, seconds = divmod(wait, 60)
    when = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
    return ResendTooSoon(f"This invitation was sent a moment ago. Try again in {when}.")


def revoke(kaleo: Kaleo, invitation: t.Any) -> t.Any:
    """Withdraw an unaccepted invitation (pending or expired) and commit.

    The invitation goes back to the inviter's allocation in the same transaction, and
    its link then shows a "revoked" page. Raises
    :class:`~flask_kaleo.exceptions.InvitationNotPending` when it was already accepted,
    joined or revoked.
    """
    session = kaleo.db.session
    model = kaleo.JoinInvitation
    try:
        result = session.execute(
            sa.update(model)
            .where(model.id == invitation.id, model.status == Status.SENT.value)
            .values(status=Status.REVOKED.value, pending_email_key=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.refresh(invitation)
            raise kaleo._why_not_pending(invitation)
        kaleo.counters.give_back(session, invitation.from_user_id)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(invitation)
    inviter = session.get(kaleo.user_model, invitation.from_user_id)
    signals.invite_revoked.send(_app(), invitation=invitation, inviter=inviter)
    return invitation


def _count(condition: sa.ColumnElement[bool]) -> t.Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def stats(kaleo: Kaleo, user_id: t.Any = None) -> InvitationStats:
    """The figures over every invitation (or one inviter's), in one aggregate query."""
    model = kaleo.JoinInvitation
    now = utcnow()
    unanswered = model.status == Status.SENT.value
    statement = sa.select(
        sa.func.count(model.id),
        _count(model.status == Status.ACCEPTED.value),
        _count(model.status == Status.JOINED_INDEPENDENTLY.value),
        _count(sa.and_(unanswered, model.expires_at > now)),
        _count(sa.and_(unanswered, model.expires_at <= now)),
        _count(model.status == Status.REVOKED.value),
    )
    if user_id is not None:
        statement = statement.where(model.from_user_id == user_id)
    row = kaleo.db.session.execute(statement).one()
    return InvitationStats(*(int(value) for value in row))


def expired_before(kaleo: Kaleo, cutoff: dt.datetime) -> sa.ColumnElement[bool]:
    model = kaleo.JoinInvitation
    return sa.and_(model.status == Status.SENT.value, model.expires_at <= cutoff)


def purge_expired(kaleo: Kaleo, older_than: dt.timedelta, *, dry_run: bool = False) -> int:
    """Delete unanswered invitations that expired more than ``older_than`` ago, in one
    statement; with ``dry_run``, only count them. Returns how many.

    Counters are untouched: an expired invitation stays spent (revoke gives one back).
    """
    model = kaleo.JoinInvitation
    session = kaleo.db.session
    condition = expired_before(kaleo, utcnow() - older_than)
    if dry_run:
        return int(session.scalar(sa.select(sa.func.count(model.id)).where(condition)) or 0)
    try:
        result = session.execute(
            sa.delete(model).where(condition).execution_options(synchronize_session=False)
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return int(result.rowcount)


def was_replaced(kaleo: Kaleo, token: str) -> bool:
    """Whether ``token`` is the old link of an invitation that was resent.

    Only the link the latest resend replaced is remembered; an older one is unknown.
    """
    model = kaleo.JoinInvitation
    statement = sa.select(model.id).where(model.replaced_token_digest == token_digest(token))
    return kaleo.db.session.execute(statement.limit(1)).first() is not None
