"""Every statement that moves one member's invitation counters, in one place (the
set-based ones that move many at once are in :mod:`flask_kaleo.core.allocations`).

Counters only ever move inside SQL (``SET x = x + 1`` with a condition), never by
reading a value into Python and writing it back, so concurrent requests cannot lose
an update. The statements of the invite request are built once, with bound
parameters, so each use skips building and caching them again.

Every statement that spends also requires that staff have not suspended the member's
inviting (``inviting_suspended_at IS NULL``): the stat row's lock then orders a
suspension and an invitation in flight, so an invitation is either refused or was
counted before the suspension committed, never spent after it.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ..config import UNLIMITED
from ..models import invitations_remaining
from ..models import rowcount
from ..models import table_of
from .suspension import refusal

Executor: t.TypeAlias = Session | sa.Connection
"""Where a statement runs: the session (which flushes what is pending first), or the
connection of its transaction (for a caller that knows nothing is pending)."""
UserId: t.TypeAlias = t.Any
"""A user's primary key, whatever its type in the app's user model."""


def dialect_of(executor: Executor) -> sa.Dialect:
    """The database behind ``executor``."""
    if isinstance(executor, sa.Connection):
        return executor.dialect
    return executor.get_bind().dialect


def insert_if_absent(table: sa.Table, dialect: str, key: str = "user_id") -> sa.Insert:
    """An INSERT into ``table`` that does nothing where a row with the same unique
    ``key`` exists already (a race's loser)."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
    if dialect in ("mysql", "mariadb"):
        # Unlike INSERT IGNORE this takes an exclusive lock on a duplicate, so two
        # racing creators cannot deadlock upgrading shared locks.
        statement = mysql.insert(table)
        return statement.on_duplicate_key_update({key: statement.inserted[key]})
    raise NotImplementedError(f"flask-kaleo does not support the {dialect} database yet")


class Counters:
    """The counter statements of one member, on one stat table."""

    def __init__(self, stat_model: type) -> None:
        self.stat = table_of(stat_model)
        stat = self.stat
        user_id = stat.c.user_id == sa.bindparam("member")
        self._remaining = sa.select(stat.c.invites_allocated, stat.c.invites_sent).where(user_id)
        self._suspension = (
            sa.select(stat.c.inviting_suspended_at, stat.c.suspension_reason)
            .where(user_id)
            .with_for_update()
        )
        self._spend_one = (
            sa.update(stat)
            .where(
                user_id,
                stat.c.inviting_suspended_at.is_(None),
                sa.or_(
                    stat.c.invites_allocated == UNLIMITED,
                    stat.c.invites_sent < stat.c.invites_allocated,
                ),
            )
            .values(invites_sent=stat.c.invites_sent + 1)
        )
        self._spend_one_returning = self._spend_one.returning(
            stat.c.invites_allocated, stat.c.invites_sent
        )
        self._ensure_row: dict[str, sa.Insert] = {}

    def remaining(self, session: Executor, user_id: UserId, default_allocation: int) -> int:
        """Invitations ``user_id`` may still send (-1: unlimited)."""
        row = session.execute(self._remaining, {"member": user_id}).first()
        if row is None:
            return default_allocation
        return invitations_remaining(row.invites_allocated, row.invites_sent)

    def spend(
        self, session: Executor, user_id: UserId, default_allocation: int, amount: int = 1
    ) -> int | None:
        """Take one invitation (or ``amount``: a link's uses) from ``user_id``'s
        allocation and return how many are left then (-1: unlimited); None, spending
        nothing, when fewer were left. Raises :class:`~flask_kaleo.InvitingSuspended`,
        spending nothing, while staff have suspended the member's inviting.

        The UPDATE's condition is the allocation check (and the suspension's), so two
        racing requests can never both take the last invitation. The row lock it takes
        also serialises one user's concurrent invitations for the rest of the
        transaction. Where the
        database can, the UPDATE returns the new counters (one round trip, not two).
        """
        if default_allocation != 0:
            self.ensure_row(session, user_id, default_allocation)
        stat = self.stat
        dialect = dialect_of(session)
        if amount == 1:
            statement: sa.Update = self._spend_one
            returning: sa.Update = self._spend_one_returning
            parameters = {"member": user_id}
        else:
            statement = (
                sa.update(stat)
                .where(
                    stat.c.user_id == user_id,
                    stat.c.inviting_suspended_at.is_(None),
                    sa.or_(
                        stat.c.invites_allocated == UNLIMITED,
                        stat.c.invites_sent <= stat.c.invites_allocated - amount,
                    ),
                )
                .values(invites_sent=stat.c.invites_sent + amount)
            )
            returning = statement.returning(stat.c.invites_allocated, stat.c.invites_sent)
            parameters = {}
        if not dialect.update_returning:  # MariaDB/MySQL
            if rowcount(session.execute(statement, parameters)) != 1:
                self.refuse_if_suspended(session, user_id)
                return None
            return self.remaining(session, user_id, default_allocation)
        row = session.execute(returning, parameters).first()
        if row is None:
            self.refuse_if_suspended(session, user_id)
            return None
        return invitations_remaining(*row)

    def refuse_if_suspended(self, session: Executor, user_id: UserId) -> None:
        """Lock ``user_id``'s stat row and raise :class:`~flask_kaleo.InvitingSuspended`
        if staff suspended their inviting. A spend that was refused asks why; a resend,
        an extension and a reminder spend nothing, so they ask this under the lock
        that orders them with a suspension (a member without a stat row was never
        suspended)."""
        row = session.execute(self._suspension, {"member": user_id}).first()
        if row is not None and row.inviting_suspended_at is not None:
            raise refusal(row.suspension_reason)

    def set_allocation(
        self, session: Session, user_id: UserId, allocated: int, default_allocation: int
    ) -> None:
        """Make ``user_id``'s allocation ``allocated`` (-1: unlimited).

        Raises ValueError, changing nothing, when a finite ``allocated`` is below what
        the user already sent (the database would refuse it too).
        """
        self.ensure_row(session, user_id, default_allocation)
        stat = self.stat
        statement = sa.update(stat).where(stat.c.user_id == user_id)
        if allocated != UNLIMITED:
            statement = statement.where(stat.c.invites_sent <= allocated)
        result = session.execute(statement.values(invites_allocated=allocated))
        if rowcount(result) != 1:
            raise ValueError(
                f"cannot allocate {allocated} invitations: the user has already sent more"
            )

    def spend_beyond(self, session: Executor, user_id: UserId, default_allocation: int) -> bool:
        """Record one sent invitation even when none is left (staff's ``--force``).

        Spends one that is left if there is one (False); otherwise raises the used-up
        finite allocation by one as it counts the invitation, so ``invites_sent <=
        invites_allocated`` still holds, and returns True: the invitation then records
        that it was forced, so that giving it back lowers the raise again
        (:meth:`give_back`) rather than hand the member an invitation they never had.
        The allocation is assigned first: MariaDB evaluates SET clauses left to right,
        and it must see the old ``invites_sent`` (as PostgreSQL and SQLite always do).
        A suspended member is refused as :meth:`spend` refuses them: force does not
        override staff.
        """
        if default_allocation == 0:  # spend() creates the row otherwise
            self.ensure_row(session, user_id, default_allocation)
        stat = self.stat
        allocated = stat.c.invites_allocated
        sent = stat.c.invites_sent
        raise_by_one = (
            sa.update(stat)
            .where(
                stat.c.user_id == user_id,
                stat.c.inviting_suspended_at.is_(None),
                allocated != UNLIMITED,
                allocated <= sent,
            )
            .ordered_values((allocated, sent + 1), (sent, sent + 1))
        )
        # Staff may change the allocation, or suspend the member, between the two
        # statements: the loop ends, as spend() raises once they are suspended.
        while True:
            if self.spend(session, user_id, default_allocation) is not None:
                return False
            if rowcount(session.execute(raise_by_one)) == 1:
                return True

    def give_back(
        self, session: Session, user_id: UserId, *, forced: bool = False, amount: int = 1
    ) -> None:
        """Return one spent invitation (a revoked or undeliverable one), or ``amount``
        (a link's unused uses), to ``user_id``'s allocation.

        A ``forced`` one (see :meth:`spend_beyond`) also lowers the finite allocation it
        raised, in the same statement: the member gets back what they had, not one more.
        """
        if user_id is None:  # the inviter's account is gone: nothing to give back to
            return
        stat = self.stat
        if amount == 0:
            return
        values: dict[str, sa.ColumnElement[int]] = {"invites_sent": stat.c.invites_sent - amount}
        if forced:
            allocated = stat.c.invites_allocated
            values["invites_allocated"] = sa.case(
                (allocated == UNLIMITED, allocated), else_=allocated - 1
            )
        session.execute(
            sa.update(stat)
            .where(stat.c.user_id == user_id, stat.c.invites_sent >= amount)
            .values(values)
        )

    def count_accepted(self, session: Session, user_id: UserId, default_allocation: int) -> None:
        self.ensure_row(session, user_id, default_allocation)
        stat = self.stat
        session.execute(
            sa.update(stat)
            .where(stat.c.user_id == user_id)
            .values(invites_accepted=stat.c.invites_accepted + 1)
        )

    def ensure_row(self, session: Executor, user_id: UserId, default_allocation: int) -> None:
        """Create ``user_id``'s stat row with the default allocation unless it exists."""
        dialect = dialect_of(session).name
        statement = self._ensure_row.get(dialect)
        if statement is None:
            statement = self._ensure_row[dialect] = insert_if_absent(self.stat, dialect)
        values = {
            "user_id": user_id,
            "invites_allocated": default_allocation,
            "invites_sent": 0,
            "invites_accepted": 0,
        }
        session.execute(statement, values)
