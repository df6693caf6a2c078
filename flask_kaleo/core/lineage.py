"""Who invited whom: the referral edges, written when an invitation or a link is
accepted, and read as a chain up or a tree down, each by one recursive query."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from .store import Store

U = t.TypeVar("U")


@dataclasses.dataclass(frozen=True)
class Node:
    """A member in the tree: the edge by which they joined, at ``depth`` (1: invited
    by the member asked about)."""

    referral_id: int
    user_id: object | None
    """NULL once the account is deleted (``label`` stays)."""
    label: str
    inviter_id: object | None
    inviter_label: str
    joined_at: dt.datetime
    depth: int
    invitees: int
    """How many they brought in themselves."""
    via: str
    """``invitation`` or ``link``."""


@dataclasses.dataclass(frozen=True)
class Lineage:
    """A member's place in the tree."""

    ancestors: list[Node]
    """Who invited them, who invited that member, ... up to the root: nearest first."""
    subtree: list[Node]
    """Everyone they brought in, to ``depth`` levels, in tree order (each node after
    its parent, siblings oldest first)."""
    total_invitees: int
    """How many they brought in directly."""


def invited_by(store: Store[U], user: U) -> U | None:
    raise NotImplementedError


def invitees(store: Store[U], user: U) -> list[U]:
    raise NotImplementedError


def lineage(store: Store[U], user: U, depth: int) -> Lineage:
    raise NotImplementedError


def descendant_ids(store: Store[U], user_id: object, depth: int) -> list[object]:
    """The user ids of everyone ``user_id`` brought in, to ``depth`` levels (deleted
    accounts left out), by one recursive query."""
    raise NotImplementedError


def record_referral(
    store: Store[U],
    invitee_id: object,
    invitee_label: str,
    inviter_id: object | None,
    inviter_label: str,
    *,
    invitation_id: int | None = None,
    link_id: int | None = None,
) -> None:
    """Write the edge of a member who just joined, in the accepting transaction (a
    member who already has one keeps it)."""
    raise NotImplementedError
