"""The set-based changes to many users' allocations at once (``add-invites``,
``topoff-invites``, ``infinite-invites``): a constant number of statements, whatever
the number of users. One member's counters are in :mod:`flask_kaleo.core.counters`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import UNLIMITED
from ..models import rowcount
from ..models import table_of
from .counters import UserId
from .counters import insert_if_absent

# Some drivers report -1 as the rowcount of INSERT ... SELECT unless asked to keep it.
_COUNTED = {"preserve_rowcount": True}


class Allocations:
    """The set-based statements for one stat table and one user table."""

    def __init__(self, stat_model: type, user_model: type) -> None:
        self.stat = table_of(stat_model)
        self.user_id: sa.Column[UserId] = sa.inspect(user_model).mapper.primary_key[0]

    def add(
        self,
        session: Session,
        amount: int,
        default_allocation: int,
        *,
        everyone: bool = False,
        user_id: UserId = None,
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
        self, session: Session, amount: int, default_allocation: int, *, user_id: UserId = None
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

    def make_unlimited(self, session: Session, *, user_id: UserId = None) -> int:
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
        user_id: UserId,
        **values: sa.ColumnElement[int] | int,
    ) -> int:
        if user_id is not None:
            conditions = [*conditions, self.stat.c.user_id == user_id]
        result = session.execute(
            sa.update(self.stat).where(*conditions).values(**values).execution_options(**_COUNTED)
        )
        return rowcount(result)

    def _lock_if_first(self, session: Session, user_id: UserId) -> bool:
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
        self, session: Session, allocated: int, user_id: UserId, *, first: bool = False
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
        dialect = session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
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
        statement = insert_if_absent(stat, dialect).from_select(columns, users)
        return rowcount(session.execute(statement.execution_options(**_COUNTED)))
