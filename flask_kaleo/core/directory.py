"""The staff's reads: members and invitations a keyset page at a time, and the
activity of the last days."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from ..config import DELIVERY_STUCK_AFTER
from ..config import current_config
from ..constants import InvitationState
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import expired
from ..models import invitations_remaining
from ..models import not_expired
from ..models import table_of
from ..models import utcnow
from . import keyset
from .addresses import address_key
from .store import Store
from .store import key_fits

U = t.TypeVar("U")
R = t.TypeVar("R")
Counted: t.TypeAlias = "sa.Select[str, dt.date, int]"
"""A branch of the overview's UNION ALL: a kind, a day (NULL: the period), a count."""


@dataclasses.dataclass(frozen=True)
class Page(t.Generic[R]):
    """One keyset page: ``rows``, and ``after``, the cursor of the next page (None on
    the last)."""

    rows: list[R]
    after: str | None


@dataclasses.dataclass(frozen=True)
class MemberRow:
    """A member with their counters (the default allocation if they have no row)."""

    user_id: object
    email: str
    allocated: int
    sent: int
    accepted: int
    remaining: int
    suspended: bool
    suspension_reason: str | None


@dataclasses.dataclass(frozen=True)
class Day:
    day: dt.date
    sent: int
    delivered: int
    accepted: int


@dataclasses.dataclass(frozen=True)
class Activity:
    """The overview: per day, the funnel over the period, and what needs attention."""

    days: list[Day]
    sent: int
    delivered: int
    accepted: int
    undeliverable: int
    """Undeliverable invitations sent in the period."""
    stuck: int
    """Invitations whose email has waited longer than the sweep's threshold."""


class utc_date(FunctionElement[dt.date]):
    """The UTC calendar day of a stored UTC datetime column."""

    type = sa.Date()
    inherit_cache = True
    name = "utc_date"


@compiles(utc_date)
def _utc_date(element: utc_date, compiler: SQLCompiler, **kw: object) -> str:
    # SQLite and MariaDB store the UTC time itself: its date is the day.
    return f"DATE({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: object) -> str:
    # timestamptz: the day in UTC, whatever the session's time zone.
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


NUL = "\x00"
"""In no address; PostgreSQL refuses it in any text it is sent, so a search holding
it finds nothing without asking."""


def _prefix(search: str) -> str:
    """A LIKE pattern matching what starts with ``search`` (its wildcards escaped)."""
    escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def members(
    store: Store[U], *, search: str | None, after: str | None, limit: int
) -> Page[MemberRow]:
    """One page of members by primary key, each with their counters (the default
    allocation when they have no stat row), in one statement. ``search`` matches the
    start of the address, in any case. A cursor that is not one raises ValueError."""
    if search and NUL in search:
        return Page([], None)
    key = t.cast("sa.ColumnElement[t.Any]", sa.inspect(store.user_model).mapper.primary_key[0])
    email = getattr(store.user_model, current_config().user_email_attribute)
    stat = table_of(store.InvitationStat)
    default = store.default_allocation()
    joined = stat.c.user_id == key
    if after is not None:
        (last,) = keyset.decode(after, int if _python_type(key) is int else str)
        if not key_fits(key, last):  # past the largest id the column holds
            return Page([], None)
        # Said of both tables, so the stat table is read from the cursor on too
        # rather than from its first row.
        joined = sa.and_(joined, stat.c.user_id > last)
    statement = sa.select(
        key,
        email,
        sa.func.coalesce(stat.c.invites_allocated, default),
        sa.func.coalesce(stat.c.invites_sent, 0),
        sa.func.coalesce(stat.c.invites_accepted, 0),
        stat.c.inviting_suspended_at,
        stat.c.suspension_reason,
    ).outerjoin(stat, joined)
    if search:
        statement = statement.where(sa.func.lower(email).like(_prefix(search), escape="\\"))
    if after is not None:
        statement = statement.where(key > last)
    rows = store.session.execute(statement.order_by(key).limit(limit + 1)).all()
    members = [
        MemberRow(
            user_id=row[0],
            email=str(row[1] or ""),
            allocated=int(row[2]),
            sent=int(row[3]),
            accepted=int(row[4]),
            remaining=invitations_remaining(int(row[2]), int(row[3])),
            suspended=row[5] is not None,
            suspension_reason=row[6],
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return Page(members, keyset.encode(members[-1].user_id) if more else None)


def _python_type(column: sa.ColumnElement[t.Any]) -> type | None:
    try:
        return t.cast(type, column.type.python_type)
    except NotImplementedError:
        return None


def in_state(model: type[JoinInvitationMixin], state: InvitationState) -> sa.ColumnElement[bool]:
    """SQL: an invitation is in ``state``, as its ``display_status`` says (``pending``:
    it may still be accepted, whether its email is on its way or not)."""
    now = utcnow()
    sent = model.status == Status.SENT.value
    if state == "pending":
        return sa.and_(sent, not_expired(model.expires_at, now))
    if state == "expired":
        return sa.and_(sent, expired(model.expires_at, now))
    if state == "link":
        return sa.and_(sent, not_expired(model.expires_at, now), model.link_only == sa.true())
    if state == "sending":
        return sa.and_(
            sent,
            not_expired(model.expires_at, now),
            model.link_only == sa.false(),
            model.delivered_at.is_(None),
        )
    if state in ("accepted", "joined", "revoked", "undeliverable"):
        return model.status == state
    raise ValueError(f"not an invitation state: {state!r}")


def invitations(
    store: Store[U],
    *,
    state: InvitationState | None,
    inviter: U | None,
    address: str | None,
    sent_from: dt.datetime | None,
    sent_until: dt.datetime | None,
    after: str | None,
    limit: int,
) -> Page[JoinInvitationMixin]:
    """One page of invitations, newest first (by ``sent_at``, then ``id``), in one
    statement. ``address`` matches the invited address's key (any case, either form
    of its domain); ``sent_from`` is inclusive, ``sent_until`` exclusive. A cursor
    that is not one, or a state that is none, raises ValueError."""
    if address is not None and NUL in address:
        return Page([], None)
    model = store.JoinInvitation
    statement = sa.select(model)
    if state is not None:
        statement = statement.where(in_state(model, state))
    if inviter is not None:
        statement = statement.where(model.from_user_id == store.user_id(inviter))
    if address is not None:
        statement = statement.where(model.email_key == address_key(address))
    if sent_from is not None:
        statement = statement.where(model.sent_at >= sent_from)
    if sent_until is not None:
        statement = statement.where(model.sent_at < sent_until)
    if after is not None:
        sent_at, last_id = keyset.decode_sent_key(after, model.id)
        statement = statement.where(
            model.sent_at <= sent_at,  # a range on the index; the OR breaks the ties
            sa.or_(model.sent_at < sent_at, model.id < last_id),
        )
    statement = statement.order_by(model.sent_at.desc(), model.id.desc()).limit(limit + 1)
    rows: list[JoinInvitationMixin] = list(store.session.scalars(statement))
    page = rows[:limit]
    more = len(rows) > limit
    return Page(page, keyset.encode(page[-1].sent_at, page[-1].id) if more else None)


def activity(store: Store[U], days: int) -> Activity:
    """The overview of the last ``days`` days (today, in UTC, is the last), in one
    statement: each count is a branch of a UNION ALL, grouped by day."""
    if days < 1:
        raise ValueError("days must be at least 1")
    model = store.JoinInvitation
    edge = store.Referral
    now = utcnow()
    first = now.date() - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.timezone.utc)

    def per_day(kind: str, column: t.Any, *where: sa.ColumnElement[bool]) -> Counted:
        day = utc_date(column)
        return (
            sa.select(sa.literal(kind).label("kind"), day.label("day"), sa.func.count())
            .where(column >= start, *where)
            .group_by(day)
        )

    def total(kind: str, *where: sa.ColumnElement[bool]) -> Counted:
        nothing = sa.cast(sa.null(), sa.Date)
        counted = sa.select(sa.literal(kind), nothing, sa.func.count())
        return counted.select_from(model).where(*where)

    sending = sa.func.coalesce(model.resent_at, model.sent_at)
    statement = sa.union_all(
        per_day("sent", model.sent_at),
        per_day("delivered", model.delivered_at, model.link_only == sa.false()),
        per_day("accepted", edge.joined_at, edge.invitation_id.is_not(None)),
        total(
            "undeliverable",
            model.status == Status.UNDELIVERABLE.value,
            model.sent_at >= start,
        ),
        total(
            "stuck",
            model.status == Status.SENT.value,
            model.delivered_at.is_(None),
            model.link_only == sa.false(),
            sending <= now - DELIVERY_STUCK_AFTER,
        ),
    )
    counts: dict[tuple[str, dt.date | None], int] = {}
    for kind, day, count in store.session.execute(statement):
        counts[kind, _as_date(day)] = int(count)
    calendar = [first + dt.timedelta(days=n) for n in range(days)]
    rows = [
        Day(
            day=day,
            sent=counts.get(("sent", day), 0),
            delivered=counts.get(("delivered", day), 0),
            accepted=counts.get(("accepted", day), 0),
        )
        for day in calendar
    ]
    return Activity(
        days=rows,
        sent=sum(day.sent for day in rows),
        delivered=sum(day.delivered for day in rows),
        accepted=sum(day.accepted for day in rows),
        undeliverable=counts.get(("undeliverable", None), 0),
        stuck=counts.get(("stuck", None), 0),
    )


def _as_date(value: object) -> dt.date | None:
    """A day as the driver returns it (SQLite: a string)."""
    if value is None or isinstance(value, dt.date):
        return value if not isinstance(value, dt.datetime) else value.date()
    return dt.date.fromisoformat(str(value))
