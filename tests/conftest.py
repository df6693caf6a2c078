"""Fixtures: the host app on each database, clients, users, mail and statement counting.

The suite runs on SQLite always, and on PostgreSQL and MariaDB when their URLs are set:

    KALEO_TEST_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1/kaleo_test
    KALEO_TEST_MARIADB_URL=mysql+pymysql://root@127.0.0.1/kaleo_test

Without a URL those backends are skipped with a reason; with KALEO_TEST_REQUIRE_ALL=1
(as .ci/run sets) a missing database or browser fails the run instead.
"""

from __future__ import annotations

import contextlib
import email
import email.message
import os
import re
import socket
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.hostapp import User
from tests.hostapp import create_app
from tests.hostapp import db
from tests.hostapp import kaleo
from tests.hostapp import mail

BACKEND_URL_VARIABLES = {
    "postgresql": "KALEO_TEST_POSTGRESQL_URL",
    "mariadb": "KALEO_TEST_MARIADB_URL",
}
REQUIRE_ALL = os.environ.get("KALEO_TEST_REQUIRE_ALL") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**config): extra app config for the test")
    config.addinivalue_line("markers", "backends(*names): run only on these databases")
    config.addinivalue_line("markers", "browser: drives headless Chromium (tests/e2e)")


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    """Say in one line which databases this run left out, and how to include them."""
    missing = [
        f"{backend} (set {variable})"
        for backend, variable in BACKEND_URL_VARIABLES.items()
        if not os.environ.get(variable)
    ]
    if missing and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line(
            "databases left out of this run: " + ", ".join(missing), yellow=True
        )


def skip_or_fail(reason: str) -> t.NoReturn:
    """Skip outside CI; in CI (KALEO_TEST_REQUIRE_ALL=1) nothing that matters is skipped."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (KALEO_TEST_REQUIRE_ALL=1 forbids skipping it)")
    pytest.skip(reason)


BACKENDS = ("sqlite", "postgresql", "mariadb")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each database test on every backend, or on those its ``backends`` marker
    names (so a PostgreSQL-only test is never collected, rather than skipped, for the
    others)."""
    if "database_url" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        backends = [b for b in BACKENDS if marker is None or b in marker.args]
        metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: t.Any) -> str:
    backend = request.param
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'kaleo.sqlite'}"
    variable = BACKEND_URL_VARIABLES[backend]
    url = os.environ.get(variable)
    if not url:
        skip_or_fail(f"{backend}: set {variable} to run the suite on it")
    return url


@pytest.fixture
def app_settings() -> dict[str, t.Any]:
    """Extra app config from a fixture (a test class can override it, e.g. with the port
    of an SMTP server started for it); ``settings`` markers apply on top."""
    return {}


@pytest.fixture
def app(
    database_url: str, request: pytest.FixtureRequest, app_settings: dict[str, t.Any]
) -> t.Iterator[Flask]:
    settings: dict[str, t.Any] = dict(app_settings)
    for marker in reversed(list(request.node.iter_markers("settings"))):
        settings.update(marker.kwargs)
    app = create_app(database_url, **settings)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def app_ctx(app: Flask) -> t.Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def outbox(app: Flask) -> t.Iterator[list[t.Any]]:
    with mail.record_messages() as messages:
        yield messages


def make_user(email: str, allocation: int | None = None) -> User:
    """A committed user; with ``allocation``, a stat row allocating that many."""
    user = User(email=email)
    db.session.add(user)
    db.session.commit()
    if allocation is not None:
        db.session.add(
            kaleo.InvitationStat(
                user_id=user.id, invites_allocated=allocation, invites_sent=0, invites_accepted=0
            )
        )
        db.session.commit()
    db.session.refresh(user)  # loaded, so it can be used after the app context ends
    return user


def login(client: FlaskClient, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from the invite form's markup."""
    return find_csrf_token(client.get("/").get_data(as_text=True))


def find_csrf_token(page: str) -> str:
    """The value of the CSRF field in a page's invite form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match is not None, "the page has no CSRF field"
    return match.group(1)


AJAX = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, */*; q=0.01"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def post_invite(
    client: FlaskClient,
    email: str,
    message: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    token: str | None = None,
) -> t.Any:
    """POST the invite form the way the seed's jQuery snippet does."""
    data = {"email_address": email, "csrf_token": token or csrf_token(client)}
    if message is not None:
        data["message"] = message
    return client.post("/invites/invite", data=data, headers=headers or AJAX)


class StatementCounter:
    """Counts the SQL statements an engine executes inside ``with counter:``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        self.statements.clear()
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(
    app: Flask,
) -> t.Callable[[], contextlib.AbstractContextManager[StatementCounter]]:
    def counter() -> StatementCounter:
        with app.app_context():
            return StatementCounter(db.engine)

    return counter


# -- a real SMTP server on loopback ------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SMTPHandler:
    """An aiosmtpd handler that keeps what it accepts, or refuses at one stage.

    ``refuse_at`` is None (accept), ``"RCPT"`` or ``"DATA"``; a test flips it to see a
    retry succeed once the server accepts again.
    """

    def __init__(self) -> None:
        self.port = 0
        self.refuse_at: str | None = None
        self.messages: list[email.message.Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(
        self, server: t.Any, session: t.Any, envelope: t.Any, address: str, options: t.Any
    ) -> str:
        if self.refuse_at == "RCPT":
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        if self.refuse_at == "DATA":
            return "550 5.7.1 Message rejected"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_handler() -> t.Iterator[SMTPHandler]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd); yields its handler."""
    from aiosmtpd.controller import Controller

    handler = SMTPHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


def message_text(message: email.message.Message, subtype: str) -> str:
    """The decoded ``text/<subtype>`` part of a received email."""
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"the email has no text/{subtype} part")
