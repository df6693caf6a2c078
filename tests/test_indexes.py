"""Every statement of the request path and of the staff's reads has an index to use
(PostgreSQL).

PostgreSQL's planner is asked directly: each statement they issue is recorded with
its parameters and replayed under ``EXPLAIN`` with sequential scans priced out
(``enable_seqscan = off``), so a plan that still scans a table has no index to use.
"""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from tests.helpers import Statements
from tests.helpers import csrf_token
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import db

pytestmark = pytest.mark.backends("postgresql")

TABLES = (
    "kaleo_join_invitation",
    "kaleo_invitation_stat",
    "kaleo_referral",
    "user",
)
DATA = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


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


def test_invite_request_uses_indexes(
    app: Flask, client: FlaskClient, statements: Statements
) -> None:
    with app.app_context():
        for i in range(20):
            make_user(f"member{i}@example.com")
    signed_in(client, allocation=10)
    post_invite(client, "first@example.com")  # history, so every path has rows to find
    token = csrf_token(client)

    with statements:
        response = post_invite(client, "Carol@Example.com", token=token)
    assert response.json["status"] == "OK", response.json

    with app.app_context():
        assert len(statements.starting(*DATA)) >= 4
        for statement, parameters in statements.starting(*DATA):
            assert_indexed(statement, parameters)


def test_sent_list_and_token_lookup_use_indexes(
    app: Flask, statements: Statements, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=3)
        invitation = kaleo.invite(alice, "carol@example.com")
        assert invitation.token is not None
        with statements:
            assert len(kaleo.sent_invitations(alice)) == 1
            assert kaleo.store.invitation_by_token(invitation.token) is not None
        assert len(statements.starting(*DATA)) == 2
        for statement, parameters in statements.starting(*DATA):
            assert_indexed(statement, parameters)


def test_first_bulk_insert_never_rescans_the_table_it_fills(app: Flask, kaleo: Kaleo[User]) -> None:
    """With no stat row yet (and the empty table analysed), the planner must not join
    the user table against a scan of the stat table being filled: that plan makes a
    first add-invites quadratic (100,000 users in about a minute)."""
    with app.app_context():
        for number in range(3):
            make_user(f"user{number}@example.com")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        with Statements(db.engine) as recorder:
            assert kaleo.grant(5) == 3
        *inserts, (logged, _) = recorder.starting("INSERT")
        assert len(inserts) == 1 and "INTO kaleo_audit_entry" in logged
        with db.engine.connect() as connection:
            text = "\n".join(
                connection.exec_driver_sql("EXPLAIN " + inserts[0][0], inserts[0][1]).scalars()
            )
        reads = [line for line in text.splitlines() if "Scan on" in line or "Loop" in line]
        assert reads and all("kaleo_invitation_stat" not in line for line in reads), text
        assert not any("Nested Loop" in line for line in reads), text


def test_staff_reads_use_indexes(app: Flask, statements: Statements, kaleo: Kaleo[User]) -> None:
    """The console's pages: members, invitations under each filter, the overview, the
    accountability report and the tree reads."""
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=10)
        for n in range(3):
            invitation = kaleo.invite(alice, f"guest{n}@example.com", send=False)
            guest = User(email=f"guest{n}@example.com")
            db.session.add(guest)
            kaleo.accept(invitation, guest)
            db.session.commit()
        kaleo.invite(alice, "carol@example.com", send=False)
        page = kaleo.invitations(limit=1)
        with statements:
            kaleo.members(after=kaleo.members(limit=1).after, limit=2)
            kaleo.invitations(after=page.after, limit=2)
            for state in ("pending", "sending", "expired", "accepted", "undeliverable"):
                kaleo.invitations(state=state, limit=2)
            kaleo.invitations(inviter=alice, limit=2)
            kaleo.invitations(address="carol@example.com", limit=2)
            kaleo.activity(30)
            kaleo.accountability(limit=10)
            kaleo.lineage(guest, depth=3)
            kaleo.lineage(alice, depth=3)
            kaleo.invitees(alice)
            kaleo.invited_by(guest)
        reads = statements.starting("SELECT", "WITH")
        assert len(reads) == 18
        for statement, parameters in reads:
            assert_indexed(statement, parameters)
