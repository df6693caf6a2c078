"""What happens to an invitation after it was sent: revoke, extend, the report of
invitations by state, and purging (a resend is :mod:`.resending`'s).

Expiry rules, in one place:

- an expired invitation cannot be accepted, is not the session's pending invitation,
  shows as ``expired`` in the lists and counts as ``expired`` in the report;
- it cannot be resent (its accept URL is dead; resending would mail another dead one):
  the inviter invites the address again, or extends it;
- it can be revoked, which gives it back to the inviter's allocation;
- it can be extended (:func:`extend`), which brings it back to life with its accept URL;
- an invitation whose ``expires_at`` is NULL never expires;
- ``purge_expired`` deletes those that expired before a cut-off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..config import current_config
from ..constants import NEVER
from ..exceptions import ExpiryOutOfBounds
from ..exceptions import InvitingNotAllowed
from ..i18n import N_
from ..i18n import gettext
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import expired
from ..models import not_expired
from ..models import rowcount
from ..models import utcnow
from . import audit
from .expiry import check_new_expiry
from .hooks import Hooks
from .store import Store

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

    def as_dict(self) -> dict[str, int | float | None]:
        return {**dataclasses.asdict(self), "acceptance_rate": self.acceptance_rate}


def revoke(
    store: Store[U], invitation: JoinInvitationMixin, *, by: object = None
) -> JoinInvitationMixin:
    """Withdraw an unaccepted invitation (pending or expired) and commit.

    The invitation goes back to the inviter's allocation in the same transaction (a
    forced one lowers the allocation it raised instead), and
    its accept URL then shows a "revoked" page. Raises
    :class:`~flask_kaleo.exceptions.InvitationNotPending` when it was already accepted,
    joined or revoked. With ``by`` (staff, or what acted), the audit log records it
    in the same transaction.
    """
    model = store.JoinInvitation
    with store.transaction() as session:
        result = session.execute(
            sa.update(model)
            .where(model.id == invitation.id, model.status == Status.SENT.value)
            .values(status=Status.REVOKED.value, pending_email_key=None)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            invitation.reread(session)
            raise invitation.why_not_pending()
        store.counters.give_back(session, invitation.from_user_id, forced=invitation.forced)
        if by is not None:
            _audit(store, session, "revoke", invitation, by, {"email": invitation.email})
    store.session.refresh(invitation)
    inviter = store.get_user(invitation.from_user_id)
    signals.send(signals.invite_revoked, invitation=invitation, inviter=inviter)
    return invitation


REINVITED = N_(
    "This address was invited again since this invitation expired: extend the newer"
    " invitation instead."
)


def _audit(
    store: Store[U],
    session: Session,
    action: audit.Action,
    invitation: JoinInvitationMixin,
    by: object,
    detail: dict[str, object],
) -> None:
    """The audit entry of an action on ``invitation``: its inviter is the target."""
    inviter = store.get_user(invitation.from_user_id)
    audit.record(
        store,
        session,
        action,
        by=by,
        target=inviter,
        target_label=None if inviter is not None else invitation.inviter_label,
        invitation_id=invitation.id,
        detail=detail,
    )


def extend(
    store: Store[U],
    hooks: Hooks[U],
    invitation: JoinInvitationMixin,
    *,
    by: dt.timedelta | None = None,
    to: dt.datetime | t.Literal["never"] | None = None,
    actor: object = None,
) -> JoinInvitationMixin:
    """Move an unanswered invitation's expiry, keeping its accept URL (resend changes the
    token); an expired one comes back to life, unless its address was invited again
    since (its slot went to the newer invitation).

    ``by`` counts from the current expiry, or from now if that has passed; ``to`` is
    the new expiry itself (:data:`~flask_kaleo.NEVER` for none). The result must be
    later than now and than the current expiry, and (unless the inviter has the manage
    permission) at most the longest of ``KALEO_EXPIRATION_BOUNDS`` from now, else
    :class:`~flask_kaleo.ExpiryOutOfBounds`. One conditional UPDATE, on the expiry it
    read: of two racing extensions, the second is refused. A suspended inviter's
    invitation is not extended (:class:`~flask_kaleo.InvitingSuspended`).

    ``actor`` (staff, or what acted) has the audit log record the extension; one past
    the bounds (only managers may) is recorded in any case, with the inviter as the
    actor unless ``actor`` names another.
    """
    if (by is None) == (to is None):
        raise TypeError("extend() takes one of by= or to=")
    inviter = store.get_user(invitation.from_user_id)
    if inviter is None or not hooks.has_invite_permission(inviter):
        raise InvitingNotAllowed(gettext("You are not allowed to manage this invitation."))
    check_pending_or_expired(invitation)
    current = invitation.expires_at
    if current is None:
        raise ExpiryOutOfBounds(gettext("This invitation never expires."))
    now = utcnow()
    new: dt.datetime | None
    if by is not None:
        try:
            new = max(current, now) + by
        except OverflowError:  # past the year 9999: staff are not bounded otherwise
            raise ExpiryOutOfBounds(gettext("That is too far in the future.")) from None
    elif to == NEVER:
        new = None
    elif isinstance(to, dt.datetime):
        if to.tzinfo is None:
            raise ValueError("to= must be a timezone-aware datetime")
        new = to
    else:
        raise TypeError(f"to= must be a datetime or 'never', not {to!r}")
    config = current_config()
    check_new_expiry(config, hooks.has_manage_permission(inviter), new, now)
    if new is not None and new <= current:
        raise ExpiryOutOfBounds(gettext("An extension must move the expiry later."))
    beyond = new is None or new - now > config.expiration_bounds[1]
    model = store.JoinInvitation
    with store.transaction() as session:
        result = session.execute(
            sa.update(model)
            .where(
                model.id == invitation.id,
                model.status == Status.SENT.value,
                model.expires_at == current,
                model.pending_email_key.is_not(None),
            )
            .values(expires_at=new)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            invitation.reread(session)
            check_pending_or_expired(invitation)
            if invitation.pending_email_key is None:
                raise ExpiryOutOfBounds(gettext(REINVITED))
            raise ExpiryOutOfBounds(
                gettext("This invitation was just changed; reload and try again.")
            )
        # After the invitation's row, as a suspension locks them: no waiting in a circle.
        store.counters.refuse_if_suspended(session, invitation.from_user_id)
        if actor is not None or beyond:
            detail = {
                "from": current.isoformat(),
                "to": NEVER if new is None else new.isoformat(),
                "beyond_bounds": beyond,
            }
            _audit(store, session, "extend", invitation, actor or inviter, detail)
    store.session.refresh(invitation)
    return invitation


def check_pending_or_expired(invitation: JoinInvitationMixin) -> None:
    """Raise why an invitation cannot be extended: answered, revoked or given back."""
    if invitation.status != Status.SENT.value:
        raise invitation.why_not_pending()


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def report(store: Store[U], inviter_id: object = None) -> InvitationReport:
    """The invitations by state, all or one inviter's, in one aggregate query."""
    model = store.JoinInvitation
    now = utcnow()
    unanswered = model.status == Status.SENT.value
    statement = sa.select(
        sa.func.count(model.id),
        _count(model.status == Status.ACCEPTED.value),
        _count(model.status == Status.JOINED_INDEPENDENTLY.value),
        _count(sa.and_(unanswered, not_expired(model.expires_at, now))),
        _count(sa.and_(unanswered, expired(model.expires_at, now))),
        _count(model.status == Status.REVOKED.value),
        _count(model.status == Status.UNDELIVERABLE.value),
    )
    if inviter_id is not None:
        statement = statement.where(model.from_user_id == inviter_id)
    row = store.session.execute(statement).one()
    return InvitationReport(*(int(value) for value in row))


def purge_expired(store: Store[U], older_than: dt.timedelta, *, dry_run: bool = False) -> int:
    """Delete unanswered invitations that expired more than ``older_than`` ago, in one
    statement, and the log's sends older than two days (no daily limit counts them);
    with ``dry_run``, only count the invitations. Returns how many invitations.

    Counters are untouched: an expired invitation stays spent (revoke gives one back).
    """
    model = store.JoinInvitation
    condition = sa.and_(
        model.status == Status.SENT.value, expired(model.expires_at, utcnow() - older_than)
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
