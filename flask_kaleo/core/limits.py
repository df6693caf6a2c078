"""The daily sending limits: the log of sends, the per-address lock, and the
statements that count them inside the spend's transaction (``KALEO_RATE_LIMITS``)."""

from __future__ import annotations

import datetime as dt
import typing as t

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
      UPDATE, or :meth:`lock_member`), so one member's requests count one at a time;
    - an address's sends are counted once its row in the lock table is locked
      (:meth:`lock_address`, an upsert that locks the row it inserts or finds), so
      two inviters of one address count one after the other.

    Locks are always taken in one order, address first, then the member's stat row,
    so two transactions never wait for each other in a circle.
    """

    def __init__(self, stat_model: type, send_model: type, lock_model: type) -> None:
        self.stat: sa.Table = stat_model.__table__  # type: ignore[attr-defined]
        self.send: sa.Table = send_model.__table__  # type: ignore[attr-defined]
        self.lock: sa.Table = lock_model.__table__  # type: ignore[attr-defined]

    def lock_address(self, session: Session, key: str) -> None:
        """Lock ``key``'s row of the lock table, creating it if needed, in one statement:
        an upsert that updates a row it finds locks it on every backend (on SQLite the
        write takes the database's lock)."""
        dialect = session.get_bind().dialect.name
        statement: t.Any
        if dialect in ("postgresql", "sqlite"):
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = (
                insert(self.lock)
                .values(email_key=key)
                .on_conflict_do_update(index_elements=["email_key"], set_={"email_key": key})
            )
        elif dialect in ("mysql", "mariadb"):
            statement = mysql.insert(self.lock).values(email_key=key)
            statement = statement.on_duplicate_key_update(email_key=statement.inserted.email_key)
        else:
            raise NotImplementedError(f"flask-kaleo does not support the {dialect} database yet")
        session.execute(statement)

    def lock_member(self, session: Session, user_id: t.Any) -> None:
        """Lock ``user_id``'s stat row (a resend spends nothing, so no UPDATE did)."""
        session.execute(
            sa.select(self.stat.c.user_id).where(self.stat.c.user_id == user_id).with_for_update()
        )

    def check(
        self,
        session: Session,
        user_id: t.Any,
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
        since = now - DAY
        send = self.send
        counts: list[tuple[sa.ScalarSelect[t.Any], int, type[SendingLimitReached], str]] = []
        if member_limit is not None and user_id is not None:
            member = sa.select(sa.func.count()).where(
                send.c.from_user_id == user_id, send.c.sent_at > since
            )
            counts.append(
                (member.scalar_subquery(), member_limit, MemberLimitReached, MEMBER_LIMIT_REACHED)
            )
        if address_limit is not None:
            address = sa.select(sa.func.count()).where(
                send.c.email_key == key, send.c.sent_at > since
            )
            counts.append(
                (
                    address.scalar_subquery(),
                    address_limit,
                    AddressLimitReached,
                    ADDRESS_LIMIT_REACHED,
                )
            )
        if not counts:
            return
        row = session.execute(sa.select(*(count for count, _, _, _ in counts))).one()
        for sent, (_, limit, refusal, message) in zip(row, counts, strict=True):
            if sent >= limit:
                raise refusal(gettext(message))

    def record(
        self,
        session: Session,
        invitation_id: int,
        user_id: t.Any,
        key: str,
        now: dt.datetime,
    ) -> None:
        """Log one email caused by ``user_id`` to ``key``."""
        session.execute(
            sa.insert(self.send).values(
                invitation_id=invitation_id, from_user_id=user_id, email_key=key, sent_at=now
            )
        )

    def purge(self, session: Session, now: dt.datetime) -> None:
        """Delete the sends older than two days: no limit counts them any more."""
        session.execute(sa.delete(self.send).where(self.send.c.sent_at <= now - 2 * DAY))
