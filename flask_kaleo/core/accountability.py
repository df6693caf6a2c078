"""The accountability report: per inviter, what they sent, what was accepted, and
how many of the people they brought in are in trouble."""

from __future__ import annotations

import dataclasses
import typing as t

from .hooks import Hooks
from .store import Store

U = t.TypeVar("U")
SortKey = t.Literal["sent", "accepted", "rate", "trouble"]


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
    raise NotImplementedError
