"""The daily sending limits: the log of sends, the per-address lock, and the
statements that count them inside the spend's transaction (``KALEO_RATE_LIMITS``)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from ..exceptions import AddressLimitReached
from ..exceptions import MemberLimitReached
from ..exceptions import SendingLimitReached
from ..i18n import N_
from ..i18n import gettext
from ..models import table_of
from .counters import Executor
from .counters import UserId
from .counters import dialect_of

DAY = dt.timedelta(hours=24)

MEMBER_LIMIT_REACHED = N_(
    "You have sent the most invitations allowed in a day; try again tomorrow."
)
ADDRESS_LIMIT_REACHED = N_(
    "This address has received the most invitations allowed in a day; try again tomorrow."
)


class SendingLimits:
    """The daily sending limits, counted from the log of sends.

    Every statement runs inside the transaction that spends the invitation (or swaps a
    resent one's link), so the check and the send it allows commit together:

    - a member's sends are counted once the member's stat row is locked (the spend's
      UPDATE, or the suspension's check of a resend,
      :meth:`~flask_kaleo.core.counters.Counters.refuse_if_suspended`), so one
      member's requests count one at a time;
    - an address's sends are counted once its row in the lock table is locked
      (:meth:`lock_address`, an upsert that locks the row it inserts or finds), so
      two inviters of one address count one after the other.

    Locks are always taken in one order, address first, then the member's stat row,
    so two transactions never wait for each other in a circle.
    """

    def __init__(self, stat_model: type, send_model: type, lock_model: type) -> None:
        self.stat = table_of(stat_model)
        self.send = table_of(send_model)
        self.lock = table_of(lock_model)
        send = self.send
        since = send.c.sent_at > sa.bindparam("since")
        self._member_count = (
            sa.select(sa.func.count())
            .where(send.c.from_user_id == sa.bindparam("user_id"), since)
            .scalar_subquery()
        )
        self._address_count = (
            sa.select(sa.func.count())
            .where(send.c.email_key == sa.bindparam("key"), since)
            .scalar_subquery()
        )
        self._counts: dict[tuple[bool, bool], sa.Executable] = {}
        self._record = sa.insert(send)
        self._lock_address: dict[str, sa.Insert] = {}

    def lock_address(self, session: Executor, key: str) -> None:
        """Lock ``key``'s row of the lock table, creating it if needed, in one statement:
        an upsert that updates a row it finds locks it on every backend (on SQLite the
        write takes the database's lock)."""
        dialect = dialect_of(session).name
        statement = self._lock_address.get(dialect)
        if statement is None:
            statement = self._lock_address[dialect] = _upsert_lock(self.lock, dialect)
        session.execute(statement, {"email_key": key})

    def check(
        self,
        session: Executor,
        user_id: UserId,
        key: str,
        now: dt.datetime,
        *,
        member_limit: int | None,
        address_limit: int | None,
    ) -> None:
        """Raise :class:`~flask_kaleo.MemberLimitReached` when ``user_id`` already
        had their day's sends, or :class:`~flask_kaleo.AddressLimitReached` when
        ``key`` did (both are :class:`~flask_kaleo.SendingLimitReached`); one query
        counts both."""
        limits: list[tuple[int, type[SendingLimitReached], str]] = []
        if member_limit is not None and user_id is not None:
            limits.append((member_limit, MemberLimitReached, MEMBER_LIMIT_REACHED))
        if address_limit is not None:
            limits.append((address_limit, AddressLimitReached, ADDRESS_LIMIT_REACHED))
        if not limits:
            return
        which = (member_limit is not None and user_id is not None, address_limit is not None)
        statement = self._counts.get(which)
        if statement is None:
            counts = [self._member_count] * which[0] + [self._address_count] * which[1]
            statement = self._counts[which] = sa.select(*counts)
        parameters = {"since": now - DAY, "user_id": user_id, "key": key}
        row = session.execute(statement, parameters).one()
        for sent, (limit, refusal, message) in zip(row, limits, strict=True):
            if sent >= limit:
                raise refusal(gettext(message))

    def record(
        self,
        session: Executor,
        invitation_id: int,
        user_id: UserId,
        key: str,
        now: dt.datetime,
    ) -> None:
        """Log one email caused by ``user_id`` to ``key``."""
        values = {
            "invitation_id": invitation_id,
            "from_user_id": user_id,
            "email_key": key,
            "sent_at": now,
        }
        session.execute(self._record, values)

    def purge(self, session: Session, now: dt.datetime) -> None:
        """Delete the sends older than two days: no limit counts them any more."""
        session.execute(sa.delete(self.send).where(self.send.c.sent_at <= now - 2 * DAY))


def _upsert_lock(lock: sa.Table, dialect: str) -> sa.Insert:
    """The INSERT of a row of the lock table that updates (so locks) the row it finds."""
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        upsert = insert(lock)
        return upsert.on_conflict_do_update(
            index_elements=["email_key"], set_={"email_key": upsert.excluded.email_key}
        )
    if dialect in ("mysql", "mariadb"):
        duplicate = mysql.insert(lock)
        return duplicate.on_duplicate_key_update(email_key=duplicate.inserted.email_key)
    raise NotImplementedError(f"flask-kaleo does not support the {dialect} database yet")
