"""The database: the host app's schema built and emptied, the stored counters read
and checked against the rows, and a recorder of the SQL statements an engine runs."""

from __future__ import annotations

import typing as t
import warnings

import sqlalchemy as sa

from tests.helpers.extension import current_kaleo
from tests.hostapp import create_app
from tests.hostapp import db


def drop_everything(engine: sa.Engine) -> None:
    """Leave the database empty: every table, whoever made it."""
    metadata = sa.MetaData()
    with warnings.catch_warnings():  # expression indexes are dropped with their table
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        metadata.reflect(engine)
    metadata.drop_all(engine)


def build_schema(url: str) -> None:
    """The host app's tables, and nothing else, in the database at ``url`` (kaleo's
    are defined on the metadata by the app's ``Kaleo``)."""
    app = create_app(url)
    with app.app_context():
        drop_everything(db.engine)
        db.create_all()
        db.engine.dispose()


def clear_rows(engine: sa.Engine) -> None:
    """Delete every row of the host app's tables, children first. MariaDB truncates:
    a deleted row lingers in a unique index until purged, and a racer inserting the
    same address again would take a gap lock on it that blocks the other racers."""
    tables = list(reversed(db.metadata.sorted_tables))
    with engine.begin() as connection:
        if connection.dialect.name in ("mysql", "mariadb"):
            quote = connection.dialect.identifier_preparer.quote
            connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
            for table in tables:
                connection.exec_driver_sql(f"TRUNCATE TABLE {quote(table.name)}")
            connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
        else:
            for table in tables:
                connection.execute(table.delete())


def stat_row(user_id: int) -> tuple[int, int, int] | None:
    """``(allocated, sent, accepted)`` as stored, read fresh; None without a stat row."""
    stat = current_kaleo().InvitationStat.__table__
    row = db.session.execute(
        sa.select(stat.c.invites_allocated, stat.c.invites_sent, stat.c.invites_accepted).where(
            stat.c.user_id == user_id
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


SPENT = ("sent", "accepted", "joined")
"""The states an invitation stays spent in; revoked and undeliverable ones were given
back (an expired one is "sent" and stays spent)."""


def assert_counters_match_rows(user_id: int) -> tuple[int, int, int]:
    """``user_id``'s stored counters agree with their invitation rows: ``invites_sent``
    counts the rows still spent, ``invites_accepted`` the accepted ones, and nothing is
    sent beyond the allocation. Returns the stat row."""
    model = current_kaleo().JoinInvitation
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(model.status, sa.func.count())
        .where(model.from_user_id == user_id)
        .group_by(model.status)
    ).all()
    by_status = {status: count for status, count in rows}
    reserved, joined = link_counts(user_id)
    stat = stat_row(user_id)
    assert stat is not None, f"user {user_id} has no stat row"
    allocated, sent, accepted = stat
    spent = sum(by_status.get(status, 0) for status in SPENT) + reserved
    assert sent == spent, (stat, by_status, reserved)
    assert accepted == by_status.get("accepted", 0) + joined, (stat, by_status, joined)
    assert allocated == -1 or sent <= allocated, stat
    return stat


def link_counts(user_id: int) -> tuple[int, int]:
    """What ``user_id``'s shareable links hold of their counters: the uses still
    reserved (a live link's ``max_uses``, a settled one's ``uses``) and the people who
    joined through them; each link's ``uses`` is checked against its rows of joiners."""
    kaleo = current_kaleo()
    link, use = kaleo.InvitationLink, kaleo.LinkUse
    rows = db.session.execute(
        sa.select(link.max_uses, link.uses, link.given_back, sa.func.count(use.id))
        .outerjoin(use, use.link_id == link.id)
        .where(link.from_user_id == user_id)
        .group_by(link.id, link.max_uses, link.uses, link.given_back)
    ).all()
    for max_uses, uses, given_back, joiners in rows:
        assert uses == joiners <= max_uses, rows
        assert given_back in (None, max_uses - uses), rows
    reserved = sum(
        max_uses if given_back is None else uses for max_uses, uses, given_back, _ in rows
    )
    return reserved, sum(uses for _, uses, _, _ in rows)


class Statements:
    """Records the SQL statements (and their parameters) an engine runs inside
    ``with recorder:``; each ``with`` starts a new recording."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.executed: list[tuple[str, t.Any]] = []

    def _record(
        self, conn: t.Any, cursor: t.Any, statement: str, parameters: t.Any, *_: t.Any
    ) -> None:
        self.executed.append((statement, parameters))

    def __enter__(self) -> Statements:
        self.executed = []
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def statements(self) -> list[str]:
        return [statement for statement, _ in self.executed]

    @property
    def count(self) -> int:
        return len(self.executed)

    def starting(self, *verbs: str) -> list[tuple[str, t.Any]]:
        """The statements (with parameters) whose first word is one of ``verbs``."""
        return [
            (statement, parameters)
            for statement, parameters in self.executed
            if statement.lstrip().split(None, 1)[0].upper() in verbs
        ]
