"""Every statement that moves an invitation counter, in one place.

Counters only ever move inside SQL (``SET x = x + 1`` with a condition), never by
reading a value into Python and writing it back, so concurrent requests cannot lose
an update. Bulk operations are set-based: a constant number of statements, whatever
the number of users.
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

# Some drivers report -1 as the rowcount of INSERT ... SELECT unless asked to keep it.
_COUNTED = {"preserve_rowcount": True}


class Counters:
    """The counter statements for one stat table and one user table."""

    def __init__(self, stat_model: type, user_model: type) -> None:
        self.stat: sa.Table = stat_model.__table__  # type: ignore[attr-defined]
        user_primary_key: t.Any = sa.inspect(user_model).mapper.primary_key
        self.user_id: sa.ColumnElement[t.Any] = user_primary_key[0]

    def remaining(self, session: Session, user_id: t.Any, default_allocation: int) -> int:
        """Invitations ``user_id`` may still send (-1: unlimited)."""
        row = session.execute(
            sa.select(self.stat.c.invites_allocated, self.stat.c.invites_sent).where(
                self.stat.c.user_id == user_id
            )
        ).first()
        if row is None:
            return default_allocation
        return invitations_remaining(row.invites_allocated, row.invites_sent)

    def spend(
        self, session: Session, user_id: t.Any, default_allocation: int, amount: int = 1
    ) -> int | None:
        """Take one invitation (or ``amount``: a link's uses) from ``user_id``'s
        allocation and return how many are left then (-1: unlimited); None, spending
        nothing, when fewer were left.

        The UPDATE's condition is the allocation check, so two racing requests can
        never both take the last invitation. The row lock it takes also serialises one
        user's concurrent invitations for the rest of the transaction. Where the
        database can, the UPDATE returns the new counters (one round trip, not two).
        """
        if default_allocation != 0:
            self.ensure_row(session, user_id, default_allocation)
        stat = self.stat
        statement = (
            sa.update(stat)
            .where(
                stat.c.user_id == user_id,
                sa.or_(
                    stat.c.invites_allocated == UNLIMITED,
                    stat.c.invites_sent < stat.c.invites_allocated
                    if amount == 1
                    else stat.c.invites_sent <= stat.c.invites_allocated - amount,
                ),
            )
            .values(invites_sent=stat.c.invites_sent + amount)
        )
        if not session.get_bind().dialect.update_returning:  # MariaDB/MySQL
            if rowcount(session.execute(statement)) != 1:
                return None
            return self.remaining(session, user_id, default_allocation)
        returning = statement.returning(stat.c.invites_allocated, stat.c.invites_sent)
        row = session.execute(returning).first()
        return None if row is None else invitations_remaining(*row)

    def set_allocation(
        self, session: Session, user_id: t.Any, allocated: int, default_allocation: int
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

    def spend_beyond(self, session: Session, user_id: t.Any, default_allocation: int) -> bool:
        """Record one sent invitation even when none is left (staff's ``--force``).

        Spends one that is left if there is one (False); otherwise raises the used-up
        finite allocation by one as it counts the invitation, so ``invites_sent <=
        invites_allocated`` still holds, and returns True: the invitation then records
        that it was forced, so that giving it back lowers the raise again
        (:meth:`give_back`) rather than hand the member an invitation they never had.
        The allocation is assigned first: MariaDB evaluates SET clauses left to right,
        and it must see the old ``invites_sent`` (as PostgreSQL and SQLite always do).
        """
        if default_allocation == 0:  # spend() creates the row otherwise
            self.ensure_row(session, user_id, default_allocation)
        stat = self.stat
        allocated = stat.c.invites_allocated
        sent = stat.c.invites_sent
        raise_by_one = (
            sa.update(stat)
            .where(stat.c.user_id == user_id, allocated != UNLIMITED, allocated <= sent)
            .ordered_values((allocated, sent + 1), (sent, sent + 1))
        )
        while True:  # staff may change the allocation between the two statements
            if self.spend(session, user_id, default_allocation) is not None:
                return False
            if rowcount(session.execute(raise_by_one)) == 1:
                return True

    def give_back(
        self, session: Session, user_id: t.Any, *, forced: bool = False, amount: int = 1
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
        values: dict[str, t.Any] = {"invites_sent": stat.c.invites_sent - amount}
        if forced:
            allocated = stat.c.invites_allocated
            values["invites_allocated"] = sa.case(
                (allocated == UNLIMITED, allocated), else_=allocated - 1
            )
        session.execute(
            sa.update(stat)
            .where(stat.c.user_id == user_id, stat.c.invites_sent >= amount)
            .values(**values)
        )

    def count_accepted(self, session: Session, user_id: t.Any, default_allocation: int) -> None:
        self.ensure_row(session, user_id, default_allocation)
        stat = self.stat
        session.execute(
            sa.update(stat)
            .where(stat.c.user_id == user_id)
            .values(invites_accepted=stat.c.invites_accepted + 1)
        )

    def ensure_row(self, session: Session, user_id: t.Any, default_allocation: int) -> None:
        """Create ``user_id``'s stat row with the default allocation unless it exists."""
        values = {
            "user_id": user_id,
            "invites_allocated": default_allocation,
            "invites_sent": 0,
            "invites_accepted": 0,
        }
        session.execute(self._insert_if_absent(session).values(values))

    def add(
        self,
        session: Session,
        amount: int,
        default_allocation: int,
        *,
        everyone: bool = False,
        user_id: t.Any = None,
    ) -> int:
        """Add ``amount`` to every finite allocation with nothing left (or to all of them).

        Users without a stat row count as having the default allocation. Returns the
        number of users whose allocation grew.
        """
        stat = self.stat
        inserting = default_allocation != UNLIMITED and (everyone or default_allocation == 0)
        first = inserting and self._lock_if_first(session, user_id)
        conditions = [stat.c.invites_allocated != UNLIMITED]
        if not everyone:
            conditions.append(stat.c.invites_allocated <= stat.c.invites_sent)
        # Existing rows first: the rows inserted next already carry the amount.
        updated = self._update_rows(
            session, conditions, user_id, invites_allocated=stat.c.invites_allocated + amount
        )
        inserted = 0
        if inserting:
            inserted = self._insert_missing_rows(
                session, default_allocation + amount, user_id, first=first
            )
        return updated + inserted

    def top_off(
        self, session: Session, amount: int, default_allocation: int, *, user_id: t.Any = None
    ) -> int:
        """Give every finite allocation at least ``amount`` left; returns the users raised."""
        stat = self.stat
        inserting = default_allocation != UNLIMITED and default_allocation < amount
        first = inserting and self._lock_if_first(session, user_id)
        conditions = [
            stat.c.invites_allocated != UNLIMITED,
            stat.c.invites_allocated - stat.c.invites_sent < amount,
        ]
        updated = self._update_rows(
            session, conditions, user_id, invites_allocated=stat.c.invites_sent + amount
        )
        inserted = 0
        if inserting:
            inserted = self._insert_missing_rows(session, amount, user_id, first=first)
        return updated + inserted

    def make_unlimited(self, session: Session, *, user_id: t.Any = None) -> int:
        """Give every user (or one) unlimited invitations; returns the users changed."""
        stat = self.stat
        first = self._lock_if_first(session, user_id)
        updated = self._update_rows(
            session,
            [stat.c.invites_allocated != UNLIMITED],
            user_id,
            invites_allocated=UNLIMITED,
        )
        return updated + self._insert_missing_rows(session, UNLIMITED, user_id, first=first)

    def _update_rows(
        self,
        session: Session,
        conditions: list[sa.ColumnElement[bool]],
        user_id: t.Any,
        **values: t.Any,
    ) -> int:
        if user_id is not None:
            conditions = [*conditions, self.stat.c.user_id == user_id]
        result = session.execute(
            sa.update(self.stat).where(*conditions).values(**values).execution_options(**_COUNTED)
        )
        return rowcount(result)

    def _lock_if_first(self, session: Session, user_id: t.Any) -> bool:
        """Whether a bulk operation on PostgreSQL is the first: nobody has a stat row.
        If so, the table is locked against other writers until the commit, so that it
        stays so, and the INSERT of every user's row needs no conflict handling (no
        ``ON CONFLICT``: one index lookup per row instead of two, and less WAL).

        Readers are not blocked; a member's invitation waits for the commit, as it
        would for the row being inserted for them. Called before the operation's other
        statements, so the lock is never an upgrade that could deadlock with a member
        holding a row lock. Only under READ COMMITTED: the check after the lock must
        see what was committed while it waited.
        """
        if user_id is not None or session.get_bind().dialect.name != "postgresql":
            return False
        anyone = sa.select(self.stat.c.user_id).limit(1)
        if session.execute(anyone).first() is not None:
            return False
        connection = session.connection()
        if connection.get_isolation_level() != "READ COMMITTED":
            return False
        table = connection.dialect.identifier_preparer.format_table(self.stat)
        session.execute(sa.text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
        return session.execute(anyone).first() is None

    def _insert_missing_rows(
        self, session: Session, allocated: int, user_id: t.Any, *, first: bool = False
    ) -> int:
        """One INSERT ... SELECT of a stat row for every user who has none (every user
        when ``first``: see :meth:`_lock_if_first`)."""
        stat = self.stat
        users = sa.select(
            self.user_id,
            sa.literal(allocated, sa.Integer),
            sa.literal(0, sa.Integer),
            sa.literal(0, sa.Integer),
        ).select_from(self.user_id.table)
        columns = ["user_id", "invites_allocated", "invites_sent", "invites_accepted"]
        if first:
            statement = sa.insert(stat).from_select(columns, users)
            return rowcount(session.execute(statement.execution_options(**_COUNTED)))
        if session.get_bind().dialect.name in ("postgresql", "sqlite"):
            # ON CONFLICT DO NOTHING skips the users who have a row, and counts only the
            # rows inserted. No NOT EXISTS: with an empty (freshly analysed) stat table
            # PostgreSQL plans it as a nested loop over a sequential scan of the very
            # table being filled, which turns a first add-invites quadratic. The WHERE
            # lets SQLite parse an upsert after a SELECT.
            users = users.where(sa.true())
        else:
            # MySQL's upsert counts duplicates too: leave them out of the SELECT.
            users = users.where(~sa.exists().where(stat.c.user_id == self.user_id))
        if user_id is not None:
            users = users.where(self.user_id == user_id)
        statement = self._insert_if_absent(session).from_select(columns, users)
        return rowcount(session.execute(statement.execution_options(**_COUNTED)))

    def _insert_if_absent(self, session: Session) -> t.Any:
        """An INSERT that does nothing for a user who already has a row (a race's loser)."""
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            return postgresql.insert(self.stat).on_conflict_do_nothing(index_elements=["user_id"])
        if dialect == "sqlite":
            return sqlite.insert(self.stat).on_conflict_do_nothing(index_elements=["user_id"])
        if dialect in ("mysql", "mariadb"):
            # Unlike INSERT IGNORE this takes an exclusive lock on a duplicate, so two
            # racing creators cannot deadlock upgrading shared locks.
            statement = mysql.insert(self.stat)
            return statement.on_duplicate_key_update(user_id=statement.inserted.user_id)
        raise NotImplementedError(f"flask-kaleo does not support the {dialect} database yet")
