"""The test suite's helpers, one of each: users and sign-in, the CSRF token, posting the
invite form, the ERROR assertion, invitations in any state, counters checked against
the rows, a statement recorder, real HTTP clients of a live server, a real SMTP server
and a relay that never answers. Fixtures and hooks live in conftest.py; the host app in
hostapp.py."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import email.message
import http.client
import http.cookies
import json
import os
import pickle
import re
import secrets
import selectors
import socket
import subprocess
import sys
import threading
import typing as t
import warnings
import zlib
from base64 import b64decode
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import session as flask_session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from flask_kaleo.core.addresses import address_key
from flask_kaleo.core.tokens import token_digest
from flask_kaleo.models import utcnow
from tests.hostapp import User
from tests.hostapp import db
from tests.hostapp import kaleo

REQUIRE_ALL = os.environ.get("KALEO_TEST_REQUIRE_ALL") == "1"

AJAX = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, */*; q=0.01"}
"""What kaleo's original jQuery snippet (jquery.form) sends."""
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

UserHook = t.Callable[[t.Any], bool]
SetHook = t.Callable[[UserHook], UserHook]
"""The ``invite_hook`` and ``manage_hook`` fixtures: set a permission for one test."""


def skip_or_fail(reason: str) -> t.NoReturn:
    """Skip outside CI; in CI (KALEO_TEST_REQUIRE_ALL=1) nothing that matters is skipped."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (KALEO_TEST_REQUIRE_ALL=1 forbids skipping it)")
    pytest.skip(reason)


def drop_everything(engine: sa.Engine) -> None:
    """Leave the database empty: every table, whoever made it."""
    metadata = sa.MetaData()
    with warnings.catch_warnings():  # expression indexes are dropped with their table
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        metadata.reflect(engine)
    metadata.drop_all(engine)


def build_schema(url: str) -> None:
    """The host app's tables, and nothing else, in the database at ``url``."""
    engine = sa.create_engine(url)
    try:
        drop_everything(engine)
        db.metadata.create_all(engine)
    finally:
        engine.dispose()


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


# -- users and sessions ----------------------------------------------------------------


def make_user(email: str, allocation: int | None = None) -> User:
    """A committed user (in the current app context); with ``allocation``, a stat row
    allocating that many. Loaded, so it can be used after the app context ends."""
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
    db.session.refresh(user)
    return user


def fresh(*users: User) -> None:
    """Load users again after later commits expired them, so they can be used after
    the app context ends (``make_user`` only loads the one it made)."""
    for user in users:
        db.session.refresh(user)


def login(client: FlaskClient, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def logout(client: FlaskClient) -> None:
    """Sign the client out, keeping the rest of its session (its CSRF token)."""
    with client.session_transaction() as session:
        del session["_user_id"]


def signed_in(
    client: FlaskClient, email: str = "alice@example.com", allocation: int | None = 3
) -> User:
    """A new member with ``allocation`` invitations (None: no stat row), signed in on
    ``client``: the logged-in client of most tests."""
    with client.application.app_context():
        user = make_user(email, allocation)
    login(client, user)
    return user


def stat_row(user_id: int) -> tuple[int, int, int] | None:
    """``(allocated, sent, accepted)`` as stored, read fresh; None without a stat row."""
    stat = kaleo.InvitationStat.__table__
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
    model = kaleo.JoinInvitation
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


# -- requests --------------------------------------------------------------------------


def csrf_token(client: FlaskClient, base_url: str | None = None) -> str:
    """A valid CSRF token for the client's session, whatever its pages show (a member
    with no invitations left has no form to read one from). The session keeps the
    secret it already has, so earlier tokens stay valid."""
    kwargs = {} if base_url is None else {"base_url": base_url}
    with client.session_transaction(**kwargs) as session:
        with client.application.test_request_context():
            if "csrf_token" in session:
                flask_session["csrf_token"] = session["csrf_token"]
            token = str(generate_csrf())
            session["csrf_token"] = flask_session["csrf_token"]
    return token


def post_invite(
    client: FlaskClient,
    email: str,
    message: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    token: str | None = None,
) -> t.Any:
    """POST the invite form the way kaleo's original jQuery snippet does."""
    data = {"email_address": email, "csrf_token": token or csrf_token(client)}
    if message is not None:
        data["message"] = message
    return client.post("/invites/invite", data=data, headers=headers or AJAX)


ERRORS = re.compile(r'<ul class="errorlist">(?:<li>[^<>]+</li>)+</ul>')


def assert_error(
    response: t.Any, status: int = 200, field: str | None = None, text: str | None = None
) -> str:
    """The ERROR shape: JSON with ``status`` ERROR and ``errors`` an escaped HTML list
    (containing ``text``); with ``field``, ``error_list`` names it. Returns ``errors``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert body["status"] == "ERROR", body
    assert ERRORS.fullmatch(body["errors"]), body["errors"]
    if text is not None:
        assert text in body["errors"], body["errors"]
    if field is not None:
        assert body["error_list"][field], body
    return str(body["errors"])


WAIT = 120
"""Seconds: the deadline for anything a test waits on (a thread, a reply, a relay),
never a stand-in for synchronisation."""


def returns(call: t.Callable[[], t.Any], within: float = WAIT) -> t.Any:
    """``call()``'s result (or its exception, raised again), from a thread that must
    finish within ``within`` seconds: a call that hangs fails the test instead of
    hanging it."""
    outcome: list[t.Any] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # noqa: B036 - raised again below
            outcome.append((False, error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), f"{call!r} did not return within {within} s"
    finished, value = outcome[0]
    if not finished:
        raise value
    return value


# -- real HTTP clients of a live server ------------------------------------------------


class Reply(t.NamedTuple):
    """What ``assert_error`` reads of a response, from a real HTTP answer."""

    status_code: int
    mimetype: str
    text: str

    @property
    def json(self) -> t.Any:
        return json.loads(self.text)

    def get_data(self, as_text: bool = False) -> str:
        return self.text


class Browser:
    """An HTTP client with its own cookies and CSRF token, talking to a live server."""

    def __init__(self, port: int, session: tuple[dict[str, str], str]) -> None:
        self.port = port
        self.cookies = dict(session[0])
        self.csrf_token = session[1]

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers.update(AJAX)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie(header)
                self.cookies.update({name: morsel.value for name, morsel in jar.items()})
            return Reply(
                response.status, response.headers.get_content_type(), response.read().decode()
            )
        finally:
            connection.close()

    def open_page(self) -> None:
        assert self.request("GET", "/").status_code == 200

    def invite(self, email: str) -> Reply:
        form = {"email_address": email, "csrf_token": self.csrf_token}
        return self.request("POST", "/invites/invite", form)

    def act(self, action: str, invitation_id: int) -> Reply:
        """Resend or revoke one of the signed-in member's invitations."""
        form = {"csrf_token": self.csrf_token}
        return self.request("POST", f"/invites/{action}/{invitation_id}", form)


def signed_in_session(app: Flask, user: User) -> tuple[dict[str, str], str]:
    """The cookies and CSRF token of a browser signed in as ``user``."""
    client = app.test_client()
    login(client, user)
    token = csrf_token(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {"session": cookie.value}, token


# -- invitations -----------------------------------------------------------------------

STATES = ("sent", "sending", "expired", "accepted", "joined", "revoked", "undeliverable")


def invitation_columns(
    inviter_id: t.Any,
    email: str,
    state: str = "sent",
    *,
    sent_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    **columns: t.Any,
) -> dict[str, t.Any]:
    """The columns of an invitation row in ``state`` (one of STATES; "expired" is a
    sent one whose expiry has passed); ``columns`` override any of them."""
    assert state in STATES, state
    now = utcnow()
    if state == "expired":
        expires_at = expires_at or now - dt.timedelta(hours=1)
    sent_at = sent_at or (expires_at - dt.timedelta(days=7) if expires_at else now)
    key = address_key(email)
    status = "sent" if state in ("expired", "sending") else state
    row = {
        "from_user_id": inviter_id,
        "email": email,
        "email_key": key,
        "pending_email_key": key if status == "sent" else None,
        "message": None,
        "sent_at": sent_at,
        "expires_at": expires_at or sent_at + dt.timedelta(days=7),
        "status": status,
        "token_digest": token_digest(secrets.token_urlsafe(16)),
        "inviter_label": f"user {inviter_id}",
        "delivered_at": None if state == "sending" else sent_at,
        "delivery_attempts": 1,
    }
    row.update(columns)
    return row


def make_invitation(inviter: User, email: str, state: str = "sent", **options: t.Any) -> t.Any:
    """A committed invitation from ``inviter`` to ``email`` in ``state``, written
    straight to the table (no email, no counters); see ``invitation_columns``."""
    invitation = kaleo.JoinInvitation(**invitation_columns(inviter.id, email, state, **options))
    db.session.add(invitation)
    db.session.commit()
    return invitation


def make_invitations(
    inviter: User, emails: list[str], state: str = "sent", **options: t.Any
) -> None:
    """Many invitations in one INSERT (a long history), one a second apart."""
    now = utcnow()
    rows = [
        invitation_columns(
            inviter.id, address, state, sent_at=now + dt.timedelta(seconds=n), **options
        )
        for n, address in enumerate(emails)
    ]
    db.session.execute(sa.insert(kaleo.JoinInvitation), rows)
    db.session.commit()


def invitation_to(email: str) -> t.Any:
    """The one invitation to ``email`` (as entered), read fresh."""
    db.session.expire_all()
    model = kaleo.JoinInvitation
    return db.session.scalars(sa.select(model).where(model.email == email)).one()


def invitation_count() -> int:
    return db.session.scalars(sa.select(sa.func.count()).select_from(kaleo.JoinInvitation)).one()


def expire(invitation_id: int, hours_ago: float = 1) -> None:
    """Move an invitation's expiry ``hours_ago`` into the past (its sending a week
    before that), the one way the tests let an invitation expire."""
    expires_at = utcnow() - dt.timedelta(hours=hours_ago)
    model = kaleo.JoinInvitation
    db.session.execute(
        sa.update(model)
        .where(model.id == invitation_id)
        .values(expires_at=expires_at, sent_at=expires_at - dt.timedelta(days=7))
    )
    db.session.commit()
    db.session.expire_all()


def lapse_lease(invitation_id: int) -> None:
    """Move the lease of an invitation's delivery into the past, as if the process
    that claimed it had died that long ago."""
    model = kaleo.JoinInvitation
    db.session.execute(
        sa.update(model)
        .where(model.id == invitation_id)
        .values(delivery_lease_until=utcnow() - dt.timedelta(seconds=1))
    )
    db.session.commit()
    db.session.expire_all()


@contextlib.contextmanager
def received(signal: t.Any) -> t.Iterator[list[dict[str, t.Any]]]:
    """The keyword arguments of every sending of ``signal`` inside the block, each
    model instance replaced by its ``id`` (read while the session is still open)."""
    calls: list[dict[str, t.Any]] = []

    def record(sender: t.Any, **kwargs: t.Any) -> None:
        calls.append({name: getattr(value, "id", value) for name, value in kwargs.items()})

    with signal.connected_to(record):
        yield calls


# -- statements ------------------------------------------------------------------------


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


# -- mail ------------------------------------------------------------------------------

LINK = re.compile(r"(https?://[^/\s\"]+)/invites/accept/([A-Za-z0-9_\-]+)")


def accept_link(text: str) -> tuple[str, str]:
    """The (scheme://host, token) of the one accept link in ``text``."""
    links: set[tuple[str, str]] = set(LINK.findall(text))
    assert len(links) == 1, f"expected one accept link, found {links}"
    return links.pop()


def message_text(message: email.message.Message, subtype: str) -> str:
    """The decoded ``text/<subtype>`` part of a received email."""
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"the email has no text/{subtype} part")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def mail_relay(app: Flask, port: int) -> t.Iterator[None]:
    """Flask-Mail sends for real (not suppressed) to the relay on 127.0.0.1:``port``
    inside the block; flask-kaleo's default transport follows its settings."""
    state = app.extensions["mail"]
    saved = (state.server, state.port, state.suppress)
    state.server, state.port, state.suppress = "127.0.0.1", port, False
    try:
        yield
    finally:
        state.server, state.port, state.suppress = saved


class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepts.

    It refuses (550) at RCPT TO the addresses in ``refuse``, and every recipient while
    ``refuse_at`` is "RCPT", or the message while it is "DATA" (keeping the refused
    message in ``refused``); ``rcpt_refusal`` is its answer at RCPT (a "450 ..."
    refuses for now, as a busy relay does). ``rcpt_count`` counts the RCPT commands:
    one per attempt to deliver. With ``drop_at_quit`` it accepts the message, then
    drops the connection when the client says QUIT, without answering. ``stop()``
    closes the port and ``start()`` listens on it again. With ``smtputf8`` it offers
    the SMTPUTF8 extension (RFC 6531), so it takes non-ASCII addresses.

    A slow relay: each message takes ``delay`` seconds at DATA. A held relay: while
    ``gate`` is an unset ``threading.Event``, the first message waits at DATA until it
    is set (``waiting`` is released when it arrives; later messages pass), so a test
    knows an email is at the relay and can act meanwhile.
    """

    def __init__(self, smtputf8: bool = False) -> None:
        self.smtputf8 = smtputf8
        self.mail_options: list[list[str]] = []
        """The options of each accepted message's MAIL FROM."""
        self.port = free_port()
        self.refuse: set[str] = set()
        self.refuse_at: t.Literal["RCPT", "DATA"] | None = None
        self.drop_at_quit = False
        self.rcpt_refusal = "550 5.1.1 Mailbox unavailable"
        self.rcpt_count = 0
        self.envelopes: list[tuple[str, list[str]]] = []
        self.messages: list[email.message.Message] = []
        self.refused: list[email.message.Message] = []
        self.dropped = 0
        """Connections dropped at QUIT."""
        self.delay = 0.0
        self.gate: threading.Event | None = None
        self.waiting = threading.Semaphore(0)
        self._held = False
        self._controller: t.Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def recipients(self) -> list[str]:
        return [address for _, recipients in self.envelopes for address in recipients]

    async def handle_RCPT(
        self, server: t.Any, session: t.Any, envelope: t.Any, address: str, options: t.Any
    ) -> str:
        self.rcpt_count += 1
        if self.refuse_at == "RCPT" or address.lower() in self.refuse:
            return self.rcpt_refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        if self.gate is not None and not self._held:
            self._held = True
            self.waiting.release()
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, WAIT)
        if self.delay:
            await asyncio.sleep(self.delay)
        received = email.message_from_bytes(envelope.original_content)
        if self.refuse_at == "DATA":
            self.refused.append(received)
            return "550 5.7.1 Message rejected"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.mail_options.append(list(envelope.mail_options))
        self.messages.append(received)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        if not self.drop_at_quit:
            return "221 Bye"
        self.dropped += 1
        server.transport.abort()  # the line drops: the client never hears 221
        raise asyncio.CancelledError  # ends this session's handler, as a lost line does


class SilentRelay:
    """A "mail relay" on 127.0.0.1 that accepts TCP connections and never says a word:
    no greeting, no answer, ever. A plain socket server on a thread.

    ``wait_for(n)`` returns once ``n`` clients have connected (proof that they are
    stalled in it); ``close()`` closes the port and every connection, which ends each
    client's wait at once (it reads the end of the stream).
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._connections: list[socket.socket] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _accept(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not selector.select(timeout=0.05):
                    continue
                connection, _ = self._listener.accept()
                with self._changed:
                    self._connections.append(connection)
                    self._changed.notify_all()

    @property
    def connections(self) -> int:
        with self._changed:
            return len(self._connections)

    def wait_for(self, count: int, timeout: float = WAIT) -> None:
        """Return once ``count`` clients have connected; fail after ``timeout`` s."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self._connections) >= count, timeout)
        assert arrived, f"{self.connections} of {count} clients reached the silent relay"

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(WAIT)
        self._listener.close()
        with self._changed:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()


# -- queues and worker processes -------------------------------------------------------

RQ_REDIS_URL = os.environ.get("KALEO_TEST_RQ_REDIS_URL", "")
"""The RQ tests' Redis database (``KALEO_TEST_RQ_REDIS_URL``), emptied before and after
each of them; unset, those tests are skipped."""
CELERY_REDIS_URL = os.environ.get("KALEO_TEST_CELERY_REDIS_URL", "")
"""The Celery recipe's broker (``KALEO_TEST_CELERY_REDIS_URL``), emptied likewise."""
REDIS_URLS = {
    "rq_redis": ("KALEO_TEST_RQ_REDIS_URL", RQ_REDIS_URL),
    "celery_redis": ("KALEO_TEST_CELERY_REDIS_URL", CELERY_REDIS_URL),
}
"""The fixtures that empty a Redis database, and the variable that names it."""
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
"""Where this virtual environment's ``flask``, ``rq`` and ``celery`` commands are."""


@contextlib.contextmanager
def empty_redis(url: str) -> t.Iterator[t.Any]:
    """A connection to the Redis database at ``url``, empty inside the block (and
    emptied again after it); fails in CI, skips elsewhere, when Redis is not running.
    Only a database the run was given (``REDIS_URLS``) is ever emptied."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    connection = Redis.from_url(url, socket_timeout=10, socket_connect_timeout=2)
    try:
        connection.ping()
    except (RedisConnectionError, RedisTimeoutError) as error:
        skip_or_fail(f"Redis is not answering at {url} ({error}): redis-server --daemonize yes")
    connection.flushdb()
    try:
        yield connection
    finally:
        connection.flushdb()
        connection.close()


def redis_contents(connection: t.Any) -> list[bytes]:
    """Everything the Redis database holds: each key (found with SCAN) and its value(s)
    read by type, and whatever those decode to (zlib, base64, pickle; RQ keeps a job's
    call zlib-compressed and pickled in the ``data`` field of its ``rq:job:<id>`` hash,
    and results base64-encoded in streams), to search for what must never be there."""
    blobs: list[bytes] = []
    for key in connection.scan_iter(count=500):
        kind = connection.type(key).decode()
        values: list[bytes]
        if kind == "string":
            values = [connection.get(key)]
        elif kind == "hash":
            values = [item for pair in connection.hgetall(key).items() for item in pair]
        elif kind == "list":
            values = connection.lrange(key, 0, -1)
        elif kind == "set":
            values = list(connection.smembers(key))
        elif kind == "zset":
            values = [member for member, _ in connection.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [
                item
                for _, fields in connection.xrange(key)
                for pair in fields.items()
                for item in pair
            ]
        else:
            raise AssertionError(f"Redis key {key!r} has a type this scan cannot read: {kind}")
        for value in [key, *values]:
            blobs.extend(_decodings(value))
    return blobs


def _decodings(blob: bytes, depth: int = 0) -> list[bytes]:
    """``blob`` and what it decodes to, layer under layer."""
    found = [blob]
    if depth == 3:
        return found
    layers: list[t.Callable[[bytes], bytes]] = [
        zlib.decompress,
        lambda data: b64decode(data, validate=True),
        lambda data: repr(pickle.loads(data)).encode(),  # our own Redis database
    ]
    for decode in layers:
        try:
            decoded = decode(blob)
        except Exception:  # not this encoding
            continue
        if decoded and decoded != blob:
            found.extend(_decodings(decoded, depth + 1))
    return found


def worker_env(app: Flask, database_url: str, smtp: SMTPServer, tmp_path: Path) -> dict[str, str]:
    """The environment of a process (a worker, ``flask kaleo ...``) that loads this
    test's app (``tests/queue_app.py``): its database, its ``KALEO_*`` config, mail to
    ``smtp``, signals written to ``signals.jsonl``."""
    config = {key: value for key, value in app.config.items() if key.startswith("KALEO_")}
    config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    if "CELERY" in app.config:
        config["CELERY"] = app.config["CELERY"]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "PYTHONPATH": path,
        "FLASK_APP": "tests.queue_app",
        "KALEO_TEST_DATABASE_URL": database_url,
        "KALEO_TEST_CONFIG": json.dumps(config),
        "KALEO_TEST_SIGNAL_LOG": str(tmp_path / "signals.jsonl"),
    }


def run_at_once(commands: list[list[str]], env: dict[str, str], tmp_path: Path) -> list[str]:
    """Start every command at once, wait for each to end (killed after ``WAIT``
    seconds), and return their outputs; each must succeed."""
    logs = [tmp_path / f"process-{n}.log" for n in range(len(commands))]
    processes = []
    for command, log in zip(commands, logs, strict=True):
        with log.open("w") as output:
            processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
                )
            )
    try:
        codes = [process.wait(timeout=WAIT) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    texts = [log.read_text() for log in logs]
    assert codes == [0] * len(commands), texts
    return texts


def run_command(
    command: list[str], env: dict[str, str], log: Path, timeout: float = 120, cwd: Path = ROOT
) -> str:
    """Run a command to its end (killed after ``timeout`` seconds) from ``cwd``, the
    project's root unless given, and return its output; it must succeed."""
    with log.open("w") as output:
        result = subprocess.run(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=timeout
        )
    text = log.read_text()
    assert result.returncode == 0, f"{command} exited with {result.returncode}:\n{text}"
    return text
