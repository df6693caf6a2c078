"""Giving invitations: one member's allocation, and the set-based bulk operations of
the CLI and the staff endpoints. Each commits."""

from __future__ import annotations

import typing as t

from ..config import UNLIMITED
from ..config import check_amount
from .store import Store

U = t.TypeVar("U")


def set_allocation(store: Store[U], user: U, allocated: int) -> None:
    """``user``'s allocation becomes ``allocated`` in all (-1: unlimited); ValueError
    for a finite value below what they already sent."""
    if allocated != UNLIMITED:
        check_amount(allocated)
    with store.transaction() as session:
        store.counters.set_allocation(
            session, store.user_id(user), allocated, store.default_allocation()
        )


def add_invites(store: Store[U], amount: int, *, everyone: bool, user: U | None) -> int:
    return _bulk(store, store.allocations.add, check_amount(amount), user, everyone=everyone)


def topoff_invites(store: Store[U], amount: int, *, user: U | None) -> int:
    return _bulk(store, store.allocations.top_off, check_amount(amount), user)


def infinite_invites(store: Store[U], *, user: U | None) -> int:
    return _bulk(store, store.allocations.make_unlimited, None, user)


def _bulk(
    store: Store[U],
    operation: t.Callable[..., int],
    amount: int | None,
    user: U | None,
    **options: t.Any,
) -> int:
    """One set-based counter operation, for every user or one, in its own transaction;
    the number of users it changed."""
    arguments = () if amount is None else (amount, store.default_allocation())
    user_id = None if user is None else store.user_id(user)
    with store.transaction() as session:
        return operation(session, *arguments, user_id=user_id, **options)
