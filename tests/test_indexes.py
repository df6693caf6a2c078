"""Every statement of the request path has an index to use (DESIGN 10), and the
one-pending-invitation rule holds on every backend (DESIGN 3).

PostgreSQL's planner is asked directly: each statement an invite request issues is
recorded with its parameters and replayed under ``EXPLAIN`` with sequential scans
priced out (``enable_seqscan = off``), so a plan that still scans a table has no index
to use.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo.tokens import token_digest
from tests.conftest import csrf_token
from tests.conftest import login
from tests.conftest import make_user
from tests.conftest import post_invite
from tests.hostapp import User
from tests.hostapp import db
from tests.hostapp import kaleo

TABLES = ("kaleo_join_invitation", "kaleo_invitation_stat", "user")


class Recorder:
    """Records each data statement an engine runs, with its parameters."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, t.Any]] = []

    def _record(self, conn: t.Any, cursor: t.Any, statement: str, parameters: t.Any, *_: t.Any):
        if statement.lstrip().split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            self.statements.append((statement, parameters))

    def __enter__(self) -> Recorder:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


def plan(statement: str, parameters: t.Any) -> str:
    """PostgreSQL's plan for ``statement`` when a sequential scan is the last resort."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars()
        text = "\n".join(rows)
        connection.rollback()
    return text


def assert_indexed(statement: str, parameters: t.Any) -> None:
    text = plan(statement, parameters)
    for table in TABLES:
        assert f'Seq Scan on "{table}"' not in text and f"Seq Scan on {table} " not in text, (
            f"{statement}\n{text}"
        )


@pytest.mark.backends("postgresql")
def test_invite_request_uses_indexes(app: Flask, client: t.Any) -> None:
    with app.app_context():
        for i in range(20):
            make_user(f"member{i}@example.com")
        alice = make_user("alice@example.com", allocation=10)
    login(client, alice)
    post_invite(client, "first@example.com")  # history, so every path has rows to find
    with app.app_context():
        recorder = Recorder(db.engine)
    token = csrf_token(client)

    with recorder:
        response = post_invite(client, "Carol@Example.com", token=token)
    assert response.json["status"] == "OK", response.json

    with app.app_context():
        assert len(recorder.statements) >= 4
        for statement, parameters in recorder.statements:
            assert_indexed(statement, parameters)


@pytest.mark.backends("postgresql")
def test_sent_list_and_token_lookup_use_indexes(app: Flask) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=3)
        invitation = kaleo.invite(alice, "carol@example.com")
        token = invitation.token
        assert token is not None
        recorder = Recorder(db.engine)
        with recorder:
            assert len(kaleo.sent_invitations(alice)) == 1
            assert kaleo.store.invitation_by_token(token) is not None
        assert len(recorder.statements) == 2
        for statement, parameters in recorder.statements:
            assert_indexed(statement, parameters)


def test_one_pending_invitation_per_address(app: Flask) -> None:
    """The database refuses a second pending invitation from one inviter to one
    address (however it is spelt), on every backend: on MariaDB, which has no partial
    indexes, through the unique (inviter, pending_email_key) pair. An invitation that
    is no longer pending does not block a new one."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=5)
        now = dt.datetime.now(dt.timezone.utc)

        def pending(email: str, digest: str) -> t.Any:
            key = email.lower()
            return kaleo.JoinInvitation(
                from_user_id=alice.id,
                email=email,
                email_key=key,
                pending_email_key=key,
                sent_at=now,
                expires_at=now + dt.timedelta(days=1),
                status="sent",
                token_digest=token_digest(digest),
            )

        db.session.add(pending("Carol@example.com", "one"))
        db.session.commit()
        db.session.add(pending("CAROL@example.com", "two"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()

        first = db.session.scalars(sa.select(kaleo.JoinInvitation)).one()
        first.status, first.pending_email_key = "accepted", None
        db.session.commit()
        db.session.add(pending("carol@example.com", "three"))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(kaleo.JoinInvitation.id))) == 2
        assert db.session.get(User, alice.id) is not None


@pytest.mark.backends("postgresql")
def test_first_bulk_insert_never_rescans_the_table_it_fills(app: Flask) -> None:
    """With no stat row yet (and the empty table analysed), the planner must not join
    the user table against a scan of the stat table being filled: that plan makes a
    first add-invites quadratic (100,000 users took 52 s before this was fixed)."""
    with app.app_context():
        for number in range(3):
            make_user(f"user{number}@example.com")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        with Recorder(db.engine) as recorder:
            assert kaleo.add_invites(5) == 3
        inserts = [
            (s, p) for s, p in recorder.statements if s.lstrip().upper().startswith("INSERT")
        ]
        assert len(inserts) == 1
        with db.engine.connect() as connection:
            text = "\n".join(
                connection.exec_driver_sql("EXPLAIN " + inserts[0][0], inserts[0][1]).scalars()
            )
        reads = [line for line in text.splitlines() if "Scan on" in line or "Loop" in line]
        assert reads and all("kaleo_invitation_stat" not in line for line in reads), text
        assert not any("Nested Loop" in line for line in reads), text
