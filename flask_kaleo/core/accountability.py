"""The accountability report: per inviter, what they sent, what was accepted, and
how many of the people they brought in are in trouble."""

from __future__ import annotations

import dataclasses
import typing as t

import sqlalchemy as sa
import sqlalchemy.orm

from ..config import current_config
from ..constants import AccountabilitySort
from ..models import table_of
from .hooks import Hooks
from .store import Store

U = t.TypeVar("U")
SortKey: t.TypeAlias = AccountabilitySort


@dataclasses.dataclass(frozen=True)
class InviterRecord:
    """One inviter's line of the report."""

    user_id: object
    label: str
    sent: int
    accepted: int
    in_trouble: int
    """Invitees in trouble (see :meth:`~flask_kaleo.Kaleo.members_in_trouble`)."""
    suspended: bool

    @property
    def acceptance_rate(self) -> float | None:
        """``accepted / sent``, or None before anything was sent."""
        return None if self.sent == 0 else self.accepted / self.sent


def _in_trouble(store: Store[U], hooks: Hooks[U]) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """The referral edges joined to their invitee, and the SQL condition "the invitee
    is in trouble": the app's (:attr:`Hooks.in_trouble`, on the user model) or their
    own inviting suspended. For a few inviters' counts, each looked up by inviter."""
    edge = table_of(store.Referral)
    invitee_stat = table_of(store.InvitationStat).alias("invitee_stat")
    suspended = invitee_stat.c.inviting_suspended_at.is_not(None)
    if hooks.in_trouble is None:
        joined = edge.join(invitee_stat, invitee_stat.c.user_id == edge.c.invitee_id)
        return joined, suspended
    user_key = sa.inspect(store.user_model).mapper.primary_key[0]
    joined = edge.join(store.user_model, user_key == edge.c.invitee_id).outerjoin(
        invitee_stat, invitee_stat.c.user_id == edge.c.invitee_id
    )
    return joined, sa.or_(suspended, hooks.in_trouble())


def _troubled_per_inviter(store: Store[U], hooks: Hooks[U], at_least: int) -> sa.Subquery:
    """Per inviter, how many of their invitees are in trouble (``inviter_id``, ``n``),
    for those with ``at_least`` of them (1 or more). The members in trouble are found
    first, a UNION of the app's condition and the suspended stat rows, then their
    edges: every inviter's count is one pass over the few members in trouble."""
    edge = table_of(store.Referral)
    stat = table_of(store.InvitationStat)
    troubled: sa.Select[t.Any] | sa.CompoundSelect[t.Any] = sa.select(stat.c.user_id).where(
        stat.c.inviting_suspended_at.is_not(None)
    )
    if hooks.in_trouble is not None:
        user_key = sa.inspect(store.user_model).mapper.primary_key[0]
        troubled = sa.union(sa.select(user_key).where(hooks.in_trouble()), troubled)
    members = troubled.subquery("in_trouble")
    return (
        sa.select(edge.c.inviter_id, sa.func.count().label("n"))
        .select_from(edge.join(members, edge.c.invitee_id == members.c[0]))
        .group_by(edge.c.inviter_id)
        .having(sa.func.count() >= max(at_least, 1))
        .subquery("troubled")
    )


def accountability(
    store: Store[U],
    hooks: Hooks[U],
    *,
    sort: SortKey,
    descending: bool,
    limit: int,
    min_in_trouble: int | None,
    max_rate: float | None,
    min_sent: int | None,
) -> list[InviterRecord]:
    """The report's lines, in one statement, for inviters with something sent.

    Sent and accepted are the stat row's counters: an invitation revoked or found
    undeliverable was given back to the allocation, so it is not counted as sent. An
    invitee is in trouble when the app's :meth:`~flask_kaleo.Kaleo.members_in_trouble`
    condition holds for them or their own inviting is suspended. Sorted by ``sort``
    (``sent``, ``accepted``, ``rate``, ``trouble``), ties by the inviter's id;
    ``max_rate`` keeps those whose acceptance is below it.
    """
    stat = table_of(store.InvitationStat)
    edge = table_of(store.Referral)
    inviter = sa.orm.aliased(store.user_model, name="inviter")
    inviter_key = sa.inspect(inviter).mapper.primary_key[0]
    label = getattr(inviter, current_config().user_email_attribute)
    joined, condition = _in_trouble(store, hooks)
    counted = sa.select(sa.func.count()).select_from(joined).where(condition)
    sources = stat.join(inviter, getattr(inviter, inviter_key.key) == stat.c.user_id)
    trouble: sa.ColumnElement[int]
    if min_in_trouble is not None and min_in_trouble >= 1:
        # Only inviters with that many: an inner join to their counts (a minimum of
        # 0 or less keeps every line, as no minimum does).
        grouped = _troubled_per_inviter(store, hooks, min_in_trouble)
        sources = sources.join(grouped, grouped.c.inviter_id == stat.c.user_id)
        trouble = grouped.c.n
    elif sort == "trouble":
        # Every inviter's count is needed, none for those with no one in trouble.
        grouped = _troubled_per_inviter(store, hooks, 1)
        sources = sources.outerjoin(grouped, grouped.c.inviter_id == stat.c.user_id)
        trouble = sa.func.coalesce(grouped.c.n, 0)
    else:
        # Only the lines shown are counted: the busiest inviters come off an index.
        trouble = counted.where(edge.c.inviter_id == stat.c.user_id).scalar_subquery()
    rate = stat.c.invites_accepted * sa.literal_column("1.0") / stat.c.invites_sent
    statement = (
        sa.select(
            stat.c.user_id,
            label,
            stat.c.invites_sent,
            stat.c.invites_accepted,
            trouble.label("in_trouble"),
            stat.c.inviting_suspended_at,
        )
        .select_from(sources)
        .where(stat.c.invites_sent > 0)
    )
    if min_sent is not None:
        statement = statement.where(stat.c.invites_sent >= min_sent)
    if max_rate is not None:
        statement = statement.where(rate < max_rate)
    key = {
        "sent": stat.c.invites_sent,
        "accepted": stat.c.invites_accepted,
        "rate": rate,
        "trouble": trouble,
    }[sort]
    order = [key.desc(), stat.c.user_id.desc()] if descending else [key.asc(), stat.c.user_id]
    statement = statement.order_by(*order).limit(limit)
    return [
        InviterRecord(
            user_id=row[0],
            label=str(row[1] or ""),
            sent=int(row[2]),
            accepted=int(row[3]),
            in_trouble=int(row[4]),
            suspended=row[5] is not None,
        )
        for row in store.session.execute(statement)
    ]
