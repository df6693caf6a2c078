"""A database connection lost in the middle of a request, on a real server in
production mode: a JSON caller gets a JSON answer, never the server's HTML 500.

PostgreSQL ends the app's connections (``pg_terminate_backend`` from a connection of
the test's own) at two moments: after kaleo's endpoint built its answer (an
``after_request`` hook of the app, before Flask-SQLAlchemy's teardown closes the
session), and between the invitation's commit and the answer (a receiver of
``invite_sent``).
"""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import Response
from flask import request

from flask_kaleo import signals
from tests.helpers import Browser
from tests.helpers import SetHook
from tests.helpers import assert_counters_match_rows
from tests.helpers import assert_error
from tests.helpers import invitation_count
from tests.helpers import invitation_to
from tests.helpers import make_user
from tests.helpers import signed_in_session
from tests.hostapp import db

pytestmark = [
    pytest.mark.backends("postgresql"),
    pytest.mark.settings(
        TESTING=False, MAIL_SUPPRESS_SEND=True, KALEO_SITE_URL="https://example.org"
    ),
]

TERMINATE = sa.text(
    "SELECT count(pg_terminate_backend(pid, 60000)) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
"""End every other connection to the test's database (the app's, pooled or in a
transaction), waiting up to a minute for each to be gone."""


def end_the_apps_connections(url: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            return int(connection.scalar(TERMINATE))
    finally:
        engine.dispose()


def pool_emptied(app: Flask) -> None:
    """Drop the app's pooled connections, dead now, before the test reads again."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


ANSWERS = [
    ("invite", {"email_address": "carol@example.com"}, 200, "OK"),
    ("invite", {"email_address": "alice@example.com"}, 200, "ERROR"),  # a refusal
    ("resend/1", {}, 404, "ERROR"),
    ("staff/stat/alice@example.com", None, 200, "OK"),
]


@pytest.mark.parametrize(("path", "form", "status", "outcome"), ANSWERS)
def test_a_connection_lost_after_the_answer_is_built(
    app: Flask,
    live_port: int,
    manage_hook: SetHook,
    path: str,
    form: dict[str, str] | None,
    status: int,
    outcome: str,
) -> None:
    """The endpoint ends its transaction before answering: the teardown has nothing
    left to roll back on the dead connection, and the answer stands."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    ended: list[int] = []
    manage_hook(lambda user: True)

    @app.after_request
    def lose_the_connection(response: Response) -> Response:
        if request.path == f"/invites/{path}":
            ended.append(end_the_apps_connections(url))
        return response

    with app.app_context():
        alice = make_user("alice@example.com", allocation=3)
        session = signed_in_session(app, alice)
    browser = Browser(live_port, session)
    if form is None:
        reply = browser.request("GET", f"/invites/{path}")
    else:
        reply = browser.request(
            "POST", f"/invites/{path}", {**form, "csrf_token": browser.csrf_token}
        )
    pool_emptied(app)
    assert reply.mimetype == "application/json", reply
    assert reply.status_code == status and reply.json["status"] == outcome, reply
    assert ended[0] >= 1  # the app's connection was there, and was ended
    with app.app_context():
        sent = 1 if outcome == "OK" and path == "invite" else 0
        assert assert_counters_match_rows(alice.id) == (3, sent, 0)


def test_a_connection_lost_after_the_commit(app: Flask, live_port: int) -> None:
    """Lost between the invitation's commit and the answer: the invitation is sent,
    and the answer says so."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    ended: list[int] = []

    def lose_the_connection(sender: t.Any, **_: t.Any) -> None:
        ended.append(end_the_apps_connections(url))

    with app.app_context():
        alice = make_user("alice@example.com", allocation=3)
        session = signed_in_session(app, alice)
    with signals.invite_sent.connected_to(lose_the_connection):
        reply = Browser(live_port, session).invite("carol@example.com")
    pool_emptied(app)
    assert reply.mimetype == "application/json", reply
    assert reply.status_code == 200 and reply.json["status"] == "OK", reply
    assert ended[0] >= 1
    with app.app_context():
        assert invitation_to("carol@example.com").status == "sent"
        assert assert_counters_match_rows(alice.id) == (3, 1, 0)


def test_a_connection_lost_before_the_view_is_the_error_shape(app: Flask, live_port: int) -> None:
    """Lost before the endpoint's first statement: a 500 in the ERROR shape, and
    nothing is spent."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]

    @app.before_request
    def lose_the_connection() -> None:
        if request.path == "/invites/invite":
            end_the_apps_connections(url)

    with app.app_context():
        alice = make_user("alice@example.com", allocation=3)
        session = signed_in_session(app, alice)
    reply = Browser(live_port, session).invite("carol@example.com")
    pool_emptied(app)
    assert_error(reply, 500, code="server_error")
    with app.app_context():
        assert invitation_count() == 0
        assert assert_counters_match_rows(alice.id) == (3, 0, 0)
