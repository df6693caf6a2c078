"""Suspending and resuming a member's inviting."""

from __future__ import annotations

import dataclasses
import typing as t

from .hooks import Hooks
from .store import Store

U = t.TypeVar("U")
Actor: t.TypeAlias = object
"""Who acted: a user, a label (``"command line"``) or None (unknown)."""


@dataclasses.dataclass(frozen=True)
class SuspendReport:
    """What :meth:`Kaleo.suspend_inviting <flask_kaleo.Kaleo.suspend_inviting>` did."""

    suspended: int
    """Members newly suspended (the member, and with ``subtree`` those below)."""
    revoked_invitations: int
    """Pending invitations revoked (``revoke_pending``)."""
    revoked_links: int
    """Shareable links revoked (``revoke_pending``)."""


def suspend_inviting(
    store: Store[U],
    hooks: Hooks[U],
    user: U,
    reason: str,
    *,
    by: Actor,
    revoke_pending: bool,
    subtree: int,
) -> SuspendReport:
    raise NotImplementedError


def resume_inviting(store: Store[U], hooks: Hooks[U], user: U, *, by: Actor) -> bool:
    raise NotImplementedError
