"""Giving invitations: one member's allocation, and the set-based bulk operations of
the CLI and the staff endpoints. Each commits, with its entry in the audit log."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from ..config import UNLIMITED
from ..config import check_amount
from . import audit
from .store import Store

U = t.TypeVar("U")
GrantMode = t.Literal["add", "top_off", "unlimited"]


def set_allocation(store: Store[U], user: U, allocated: int, *, by: object = None) -> None:
    """``user``'s allocation becomes ``allocated`` in all (-1: unlimited); ValueError
    for a finite value below what they already sent. The audit entry keeps the old
    and the new allocation."""
    if allocated != UNLIMITED:
        check_amount(allocated)
    user_id = store.user_id(user)
    stat = store.counters.stat
    with store.transaction() as session:
        store.counters.ensure_row(session, user_id, store.default_allocation())
        old = session.execute(
            sa.select(stat.c.invites_allocated).where(stat.c.user_id == user_id).with_for_update()
        ).scalar_one()
        store.counters.set_allocation(session, user_id, allocated, store.default_allocation())
        audit.record(
            store,
            session,
            "set_allocation",
            by=by,
            target=user,
            detail={"old": old, "new": allocated},
        )


def add_invites(
    store: Store[U], amount: int, *, everyone: bool, user: U | None, by: object = None
) -> int:
    amount = check_amount(amount)
    return _bulk(store, "add", amount, user, by, everyone=everyone)


def topoff_invites(store: Store[U], amount: int, *, user: U | None, by: object = None) -> int:
    return _bulk(store, "top_off", check_amount(amount), user, by)


def infinite_invites(store: Store[U], *, user: U | None, by: object = None) -> int:
    return _bulk(store, "unlimited", None, user, by)


def _bulk(
    store: Store[U],
    mode: GrantMode,
    amount: int | None,
    user: U | None,
    by: object,
    *,
    everyone: bool = False,
) -> int:
    """One set-based counter operation, for every user or one, and its audit entry,
    in one transaction; the number of users it changed."""
    allocations = store.allocations
    default = store.default_allocation()
    user_id = None if user is None else store.user_id(user)
    with store.transaction() as session:
        if amount is None:
            changed = allocations.make_unlimited(session, user_id=user_id)
        elif mode == "top_off":
            changed = allocations.top_off(session, amount, default, user_id=user_id)
        else:
            changed = allocations.add(session, amount, default, everyone=everyone, user_id=user_id)
        detail = {
            "mode": mode,
            "amount": UNLIMITED if amount is None else amount,
            "everyone": everyone,
            "users_changed": changed,
        }
        audit.record(store, session, "grant", by=by, target=user, detail=detail)
    return changed
