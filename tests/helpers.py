"""The test suite's helpers, one of each: users and sign-in, the CSRF token, posting the
invite form, the ERROR assertion, invitations in any state, a statement recorder and a
real SMTP server. Fixtures and hooks live in conftest.py; the host app in hostapp.py."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.message
import os
import pickle
import re
import secrets
import socket
import subprocess
import sys
import typing as t
import warnings
import zlib
from base64 import b64decode
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import session as flask_session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from flask_kaleo.models import utcnow
from flask_kaleo.tokens import token_digest
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
    key = email.lower()
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


class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepts.

    It refuses (550) at RCPT TO the addresses in ``refuse``, and every recipient while
    ``refuse_at`` is "RCPT", or the message while it is "DATA"; ``rcpt_refusal`` is
    its answer at RCPT (a "450 ..." refuses for now, as a busy relay does).
    ``rcpt_count`` counts the RCPT commands: one per attempt to deliver. ``stop()``
    closes the port and ``start()`` listens on it again.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.refuse: set[str] = set()
        self.refuse_at: t.Literal["RCPT", "DATA"] | None = None
        self.rcpt_refusal = "550 5.1.1 Mailbox unavailable"
        self.rcpt_count = 0
        self.envelopes: list[tuple[str, list[str]]] = []
        self.messages: list[email.message.Message] = []
        self._controller: t.Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
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
        if self.refuse_at == "DATA":
            return "550 5.7.1 Message rejected"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"


# -- queues and worker processes -------------------------------------------------------

RQ_REDIS_URL = "redis://127.0.0.1:6379/7"
"""The RQ tests' Redis database, emptied before and after each of them."""
CELERY_REDIS_URL = "redis://127.0.0.1:6379/8"
"""The Celery recipe's broker."""
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
"""Where this virtual environment's ``flask``, ``rq`` and ``celery`` commands are."""


@contextlib.contextmanager
def empty_redis(url: str) -> t.Iterator[t.Any]:
    """A connection to the Redis database at ``url``, empty inside the block (and
    emptied again after it); fails in CI, skips elsewhere, when Redis is not running."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    connection = Redis.from_url(url, socket_timeout=10, socket_connect_timeout=2)
    try:
        connection.ping()
    except (RedisConnectionError, RedisTimeoutError) as error:
        skip_or_fail(
            f"Redis is not running on 127.0.0.1:6379 ({error}): redis-server --daemonize yes"
        )
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


def run_command(command: list[str], env: dict[str, str], log: Path, timeout: float = 120) -> str:
    """Run a worker command to its end (killed after ``timeout`` seconds) from the
    project's root, and return its output; it must succeed."""
    with log.open("w") as output:
        result = subprocess.run(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=timeout
        )
    text = log.read_text()
    assert result.returncode == 0, f"{command} exited with {result.returncode}:\n{text}"
    return text
