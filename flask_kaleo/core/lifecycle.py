"""What happens to an invitation after it was sent: resend, revoke, the report of
invitations by state, and purging.

Expiry rules, in one place:

- an expired invitation cannot be accepted, is not the session's pending invitation,
  shows as ``expired`` in the lists and counts as ``expired`` in the report;
- it cannot be resent (its link is dead; resending would mail another dead link or,
  with ``KALEO_RESEND_RESETS_EXPIRY``, bring back an invitation whose address may
  already hold a newer one): the inviter invites the address again instead;
- it can be revoked, which gives it back to the inviter's allocation;
- it can be extended (:func:`extend`), which brings it back to life with its link;
- an invitation whose ``expires_at`` is NULL never expires;
- ``purge_expired`` deletes those that expired before a cut-off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from .. import signals
from ..exceptions import DeliveryError
from ..exceptions import DeliveryFailed
from ..exceptions import ExpiryOutOfBounds
from ..exceptions import InvitingNotAllowed
from ..exceptions import ResendTooSoon
from ..i18n import N_
from ..i18n import gettext
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import rowcount
from ..models import utcnow
from .accepting import check_pending
from .accepting import reread
from .accepting import why_not_pending
from .expiry import NEVER
from .expiry import check_new_expiry
from .expiry import expired
from .expiry import not_expired
from .permissions import Permissions
from .sending import Delivery
from .sending import lease_free
from .sending import lease_until
from .sending import undo_record
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
    of the last sending, or while an email of it is at the relay (its delivery's
    lease). One conditional UPDATE swaps the token and commits, so two racing resends
    make one winner; the email goes out after the commit. A delivery failure puts the
    old link back (it keeps working): inline at once, raising
    :class:`~flask_kaleo.DeliveryFailed`; queued, the worker mints the new link and
    puts the old one back if its email cannot go.
    """
    config = current_app.config
    model = store.Invitation
    inviter = store.get_user(invitation.from_user_id)
    if inviter is None or not permissions.has_invite_permission(inviter):
        raise InvitingNotAllowed(gettext("You are not allowed to send invitations."))
    now = utcnow()
    interval = dt.timedelta(seconds=config["KALEO_RESEND_INTERVAL"])
    token, digest, before, values = new_link(
        invitation, delivery.queued(), now, "expires_at", "link_only"
    )
    values["link_only"] = False  # a link-only invitation is mailed now, under a new link
    if config["KALEO_RESEND_RESETS_EXPIRY"] and invitation.expires_at is not None:
        values["expires_at"] = now + dt.timedelta(hours=config["KALEO_DEFAULT_EXPIRATION"])
    with sending_again(store, invitation) as session:
        result = session.execute(
            sa.update(model)
            .where(
                model.id == invitation.id,
                model.status == Status.SENT.value,
                not_expired(model.expires_at, now),
                model.token_digest == before["token_digest"],
                lease_free(model, now),
                sa.or_(  # a link never mailed may be mailed at once
                    model.link_only,
                    sa.func.coalesce(model.resent_at, model.sent_at) <= now - interval,
                ),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            reread(store, invitation)
            check_pending(invitation)
            raise _too_soon(invitation, interval, now)
        count_another_send(store, session, invitation, now)
        session.refresh(invitation)
        email = None
        if not delivery.queued():
            invitation.token = token
            label = store.inviter_label(inviter)
            email = delivery.render(invitation, token, inviter_label=label, first=False)
    if delivery.queued():
        unchanged = invitation.token_digest  # queued, the worker mints the new link
        delivery.enqueue(
            invitation.id, now, undo=lambda: _put_back(store, invitation, unchanged, before)
        )
    else:
        try:
            if email is not None:  # None: an invitation to a member is never mailed
                delivery.send(email)
        except DeliveryError as error:
            current_app.logger.warning("flask-kaleo could not deliver a resend: %s", error)
            _put_back(store, invitation, digest, before)
            raise DeliveryFailed(
                gettext(
                    "The invitation email could not be delivered; its earlier link still"
                    " works. Please try again in a moment."
                )
            ) from error
        except Exception:
            _put_back(store, invitation, digest, before)
            raise
        delivery.mark_delivered_or_log(invitation, digest)
    signals.send(signals.invite_resent, invitation=invitation, inviter=inviter)
    return invitation


REISSUED = (
    "token_digest",
    "replaced_token_digest",
    "resent_at",
    "delivered_at",
    "delivery_attempts",
    "undo_sending",
)
"""The columns an email under a new link (a resend, a reminder) changes."""


def new_link(
    invitation: JoinInvitationMixin, queued: bool, now: dt.datetime, *keep: str
) -> tuple[str, str, dict[str, t.Any], dict[str, t.Any]]:
    """What mailing ``invitation`` again under a new link writes: the new token and its
    digest (inline; queued, the worker mints them), the columns as they were (those of
    :data:`REISSUED` and ``keep``, to put back if the email cannot go, kept in the row
    too for whoever finishes the delivery), and the new values (inline, with the
    lease of the claim)."""
    before = {name: getattr(invitation, name) for name in (*REISSUED, *keep)}
    token, digest = new_token()
    values: dict[str, t.Any] = {
        "resent_at": now,
        "delivered_at": None,
        "delivery_attempts": 0,
        "delivery_lease_until": None,
        "undo_sending": undo_record(before),
    }
    if not queued:
        values.update(token_digest=digest, replaced_token_digest=invitation.token_digest)
        values.update(delivery_attempts=1, delivery_lease_until=lease_until(now))
    return token, digest, before, values


@contextlib.contextmanager
def sending_again(store: Store[t.Any], invitation: JoinInvitationMixin) -> t.Iterator[Session]:
    """The transaction of a resend or reminder: begun afresh (MariaDB), the address's
    row locked first (locks go address, then the inviter's row)."""
    with store.transaction(keep_loaded=True) as session:
        store.fresh_snapshot()
        if current_app.config["KALEO_ADDRESS_DAILY_LIMIT"] is not None:
            store.limits.lock_address(session, invitation.email_key)
        yield session


def count_another_send(
    store: Store[t.Any], session: Session, invitation: JoinInvitationMixin, now: dt.datetime
) -> None:
    """Inside the transaction that claimed a resend or reminder (after the address's
    lock): lock the inviter's row, check both daily limits, and log the send."""
    config = current_app.config
    member_limit = config["KALEO_DAILY_SEND_LIMIT"]
    if member_limit is not None and invitation.from_user_id is not None:
        store.limits.lock_member(session, invitation.from_user_id)
    store.limits.check(
        session,
        invitation.from_user_id,
        invitation.email_key,
        now,
        member_limit=member_limit,
        address_limit=config["KALEO_ADDRESS_DAILY_LIMIT"],
    )
    store.limits.record(session, invitation.id, invitation.from_user_id, invitation.email_key, now)


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
            .values(**before, delivery_lease_until=None)
            .execution_options(synchronize_session=False)
        )
        session.refresh(invitation)


def _too_soon(
    invitation: JoinInvitationMixin, interval: dt.timedelta, now: dt.datetime
) -> ResendTooSoon:
    last = invitation.resent_at or invitation.sent_at
    wait = max(int((last + interval - now).total_seconds()), 1)
    minutes, seconds = divmod(wait, 60)
    if minutes:
        when = gettext("%(minutes)d min %(seconds)d s", minutes=minutes, seconds=seconds)
    else:
        when = gettext("%(seconds)d s", seconds=seconds)
    return ResendTooSoon(
        gettext("This invitation was sent a moment ago. Try again in %(when)s.", when=when)
    )


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


REINVITED = N_(
    "This address was invited again since this invitation expired: extend the newer"
    " invitation instead."
)


def extend(
    store: Store[U],
    permissions: Permissions[U],
    invitation: JoinInvitationMixin,
    *,
    by: dt.timedelta | None = None,
    to: dt.datetime | t.Literal["never"] | None = None,
) -> JoinInvitationMixin:
    """Move an unanswered invitation's expiry, keeping its link (resend changes the
    link); an expired one comes back to life, unless its address was invited again
    since (its slot went to the newer invitation).

    ``by`` counts from the current expiry, or from now if that has passed; ``to`` is
    the new expiry itself (:data:`~flask_kaleo.NEVER` for none). The result must be
    later than now and than the current expiry, and (unless the inviter has the manage
    permission) at most ``KALEO_MAX_EXPIRATION`` hours from now, else
    :class:`~flask_kaleo.ExpiryOutOfBounds`. One conditional UPDATE, on the expiry it
    read: of two racing extensions, the second is refused.
    """
    if (by is None) == (to is None):
        raise TypeError("extend() takes one of by= or to=")
    inviter = store.get_user(invitation.from_user_id)
    if inviter is None or not permissions.has_invite_permission(inviter):
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
    check_new_expiry(current_app.config, permissions.has_manage_permission(inviter), new, now)
    if new is not None and new <= current:
        raise ExpiryOutOfBounds(gettext("An extension must move the expiry later."))
    model = store.Invitation
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
            reread(store, invitation)
            check_pending_or_expired(invitation)
            if invitation.pending_email_key is None:
                raise ExpiryOutOfBounds(gettext(REINVITED))
            raise ExpiryOutOfBounds(
                gettext("This invitation was just changed; reload and try again.")
            )
    store.session.refresh(invitation)
    return invitation


def check_pending_or_expired(invitation: JoinInvitationMixin) -> None:
    """Raise why an invitation cannot be extended: answered, revoked or given back."""
    if invitation.status != Status.SENT.value:
        raise why_not_pending(invitation)


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
        _count(sa.and_(unanswered, not_expired(model.expires_at, now))),
        _count(sa.and_(unanswered, expired(model.expires_at, now))),
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
