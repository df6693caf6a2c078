"""A member's sent list a keyset page at a time: the newest invitations, older ones a
cursor away, and the counts by state, in two statements whatever the history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa

from ..constants import InvitationState
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import expired
from ..models import utcnow
from . import keyset
from .directory import in_state
from .hooks import signed_in
from .store import Store

U = t.TypeVar("U")

SUMMARY_STATES: tuple[InvitationState, ...] = (
    "pending",
    "accepted",
    "joined",
    "expired",
    "revoked",
    "undeliverable",
)
"""The states the counts are given in, in this order (``pending``: may still be
accepted, whether its email is on its way, delivered or a link only)."""


@dataclasses.dataclass(frozen=True)
class SentPage:
    """One page of a member's sent list.

    ``rows`` oldest first (so an invitation added at the end keeps the order);
    ``older`` and ``newer`` are the cursors of the neighbouring pages (None: there is
    none, or ``newer`` is the first page: see ``first``); ``counts`` is every
    invitation the member sent by state (all of them, whatever ``state`` filters)."""

    rows: list[JoinInvitationMixin]
    counts: dict[str, int]
    state: InvitationState | None
    older: str | None
    newer: str | None
    first: bool
    """Whether this is the newest page (asked for without a cursor)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def sent_page(
    store: Store[U],
    user: U | None,
    *,
    state: str | None = None,
    before: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> SentPage:
    """The page of ``user``'s invitations older than the cursor ``before``, or newer
    than ``after``, or the newest ``limit`` (neither), in ``state`` (None: all), and
    the counts by state. A cursor or state that is not one reads the newest page: a
    hand-edited address never fails."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    wanted = next((known for known in SUMMARY_STATES if known == state), None)
    if user is None or not signed_in(user):
        return SentPage([], {}, wanted, None, None, True)
    model = store.JoinInvitation
    user_id = store.user_id(user)
    now = utcnow()
    statement = sa.select(model).where(model.from_user_id == user_id)
    if wanted is not None:
        statement = statement.where(in_state(model, wanted))
    before_key, after_key = _key(before, model.id), _key(after, model.id)
    if after_key is not None:
        sent_at, last_id = after_key
        statement = statement.where(
            model.sent_at >= sent_at,  # a range on the index; the OR breaks the ties
            sa.or_(model.sent_at > sent_at, model.id > last_id),
        ).order_by(model.sent_at, model.id)
    else:
        if before_key is not None:
            sent_at, last_id = before_key
            statement = statement.where(
                model.sent_at <= sent_at,
                sa.or_(model.sent_at < sent_at, model.id < last_id),
            )
        statement = statement.order_by(model.sent_at.desc(), model.id.desc())
    found: list[JoinInvitationMixin] = list(store.session.scalars(statement.limit(limit + 1)))
    more = len(found) > limit
    rows = found[:limit]
    if after_key is None:
        rows.reverse()
    first = before_key is None and after_key is None
    older = newer = None
    if rows:
        oldest, newest = rows[0], rows[-1]
        if more or after_key is not None:  # an "after" page came from an older one
            older = keyset.encode(oldest.sent_at, oldest.id)
        if (after_key is not None and more) or before_key is not None:
            newer = keyset.encode(newest.sent_at, newest.id)
    return SentPage(rows, _counts(store, user_id, now), wanted, older, newer, first)


def _key(cursor: str | None, id_column: t.Any) -> tuple[dt.datetime, int] | None:
    """The (sent_at, id) a cursor holds, or None for none or one that is not a cursor."""
    if not cursor:
        return None
    try:
        return keyset.decode_sent_key(cursor, id_column)
    except ValueError:
        return None


def _counts(store: Store[U], user_id: object, now: dt.datetime) -> dict[str, int]:
    """How many invitations the member sent in each state, in one statement: grouped by
    status in the order of the (inviter, status, expiry) index, read from it alone; the
    expired among the sent ones counted on the way."""
    model = store.JoinInvitation
    lapsed = sa.and_(model.status == Status.SENT.value, expired(model.expires_at, now))
    statement = (
        sa.select(
            model.status,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((lapsed, 1), else_=0)), 0),
        )
        .where(model.from_user_id == user_id)
        .group_by(model.status)
    )
    counts: dict[str, int] = {}
    for status, count, lapsed_count in store.session.execute(statement):
        if status == Status.SENT.value:
            counts["pending"] = int(count) - int(lapsed_count)
            counts["expired"] = int(lapsed_count)
        else:
            counts[str(status)] = int(count)
    return {name: counts[name] for name in SUMMARY_STATES if counts.get(name)}
