"""The staff's reads: members and invitations a keyset page at a time, and the
activity of the last days."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from ..models import JoinInvitationMixin
from .store import Store

U = t.TypeVar("U")
R = t.TypeVar("R")
InvitationState = t.Literal[
    "pending", "sending", "link", "accepted", "joined", "revoked", "undeliverable", "expired"
]


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


def members(
    store: Store[U], *, search: str | None, after: str | None, limit: int
) -> Page[MemberRow]:
    raise NotImplementedError


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
    raise NotImplementedError


def activity(store: Store[U], days: int) -> Activity:
    raise NotImplementedError
