"""Fixtures and hooks: the host app on a database (with a Kaleo of its own), clients,
mail, statements, hooks.

A test runs on SQLite unless its meaning depends on the database. Those say so:

    pytestmark = pytest.mark.all_backends          # SQLite, PostgreSQL and MariaDB
    @pytest.mark.backends("postgresql")            # only the databases named

and run on PostgreSQL and MariaDB when their URLs are set:

    KALEO_TEST_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1/kaleo_test
    KALEO_TEST_MARIADB_URL=mysql+pymysql://root@127.0.0.1/kaleo_test

Without a URL those backends are skipped with a reason; with KALEO_TEST_REQUIRE_ALL=1
(as .ci/run sets) a missing database or browser fails the run instead.

The schema is built once per database per session; each test gets a new app on it and
its rows are deleted afterwards.
"""

from __future__ import annotations

import os
import tempfile
import threading
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis.configuration import set_hypothesis_home_dir
from werkzeug.serving import make_server

from flask_kaleo import Kaleo
from tests.helpers import CELERY_REDIS_URL
from tests.helpers import REDIS_URLS
from tests.helpers import RQ_REDIS_URL
from tests.helpers import WAIT
from tests.helpers import SetHook
from tests.helpers import SilentRelay
from tests.helpers import SMTPServer
from tests.helpers import Statements
from tests.helpers import assert_instance_untouched
from tests.helpers import build_schema
from tests.helpers import clear_rows
from tests.helpers import drop_everything
from tests.helpers import empty_redis
from tests.helpers import instance_files
from tests.helpers import kaleo_of
from tests.helpers import mail_relay
from tests.helpers import skip_or_fail
from tests.hostapp import User
from tests.hostapp import create_app
from tests.hostapp import db
from tests.hostapp import mail

BACKENDS = ("sqlite", "postgresql", "mariadb")
BACKEND_URL_VARIABLES = {
    "postgresql": "KALEO_TEST_POSTGRESQL_URL",
    "mariadb": "KALEO_TEST_MARIADB_URL",
}


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis keeps its examples and constants in pytest's cache (or a temporary
    # folder when the cache is off), not in a .hypothesis folder in the checkout.
    cache = getattr(config, "cache", None)
    home = cache.mkdir("hypothesis") if cache else Path(tempfile.mkdtemp(prefix="hypothesis-"))
    set_hypothesis_home_dir(str(home))
    config.addinivalue_line("markers", "settings(**config): extra app config for the test")
    config.addinivalue_line("markers", "all_backends: run on SQLite, PostgreSQL and MariaDB")
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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give each database test its backends: those its ``backends`` marker names, all
    three with ``all_backends``, else SQLite alone. A backend a test does not name is
    never collected for it, rather than skipped."""
    if "database_url" not in metafunc.fixturenames:
        return
    named = metafunc.definition.get_closest_marker("backends")
    if named is not None:
        backends = [backend for backend in BACKENDS if backend in named.args]
    elif metafunc.definition.get_closest_marker("all_backends") is not None:
        backends = list(BACKENDS)
    else:
        backends = ["sqlite"]
    metafunc.parametrize("database_url", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[str]:
    """A database with the host app's schema, built once for the session."""
    backend = request.param
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'kaleo.sqlite'}"
    else:
        variable = BACKEND_URL_VARIABLES[backend]
        url = os.environ.get(variable, "")
        if not url:
            skip_or_fail(f"{backend}: set {variable} to run the suite on it")
    build_schema(url)
    yield url
    engine = sa.create_engine(url)
    drop_everything(engine)
    engine.dispose()


@pytest.fixture
def empty_database(database_url: str) -> t.Iterator[str]:
    """The database with no tables at all (for tests that build their own schema);
    the host app's schema is built again afterwards."""
    engine = sa.create_engine(database_url)
    drop_everything(engine)
    engine.dispose()
    yield database_url
    build_schema(database_url)


@pytest.fixture
def app(database_url: str, request: pytest.FixtureRequest) -> t.Iterator[Flask]:
    """The host app on the test's database, with the config of its ``settings``
    markers (the closest wins); its rows are deleted after the test."""
    settings: dict[str, t.Any] = {}
    for marker in reversed(list(request.node.iter_markers("settings"))):
        settings.update(marker.kwargs)
    app = create_app(database_url, **settings)
    yield app
    with app.app_context():
        db.session.remove()
        clear_rows(db.engine)
        db.engine.dispose()


@pytest.fixture
def app_ctx(app: Flask) -> t.Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def outbox(app: Flask) -> t.Iterator[list[t.Any]]:
    """What Flask-Mail sends (suppressed: nothing leaves the process)."""
    with mail.record_messages() as messages:
        yield messages


@pytest.fixture
def smtp(app: Flask) -> t.Iterator[SMTPServer]:
    """Real delivery for this test, to an SMTP server on 127.0.0.1 (offering SMTPUTF8
    when the app's ``KALEO_SMTPUTF8`` says its relay does)."""
    server = SMTPServer(smtputf8=app.config["KALEO_SMTPUTF8"])
    server.start()
    try:
        with mail_relay(app, server.port):
            yield server
    finally:
        server.stop()


@pytest.fixture
def silent_relay() -> t.Iterator[SilentRelay]:
    """A relay on 127.0.0.1 that accepts connections and never answers; closed (which
    ends every wait in it) when the test ends. Point mail at it with ``mail_relay``."""
    relay = SilentRelay()
    relay.start()
    try:
        yield relay
    finally:
        relay.close()


@pytest.fixture
def live_port(app: Flask) -> t.Iterator[int]:
    """The host app served by a threaded werkzeug server on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join(WAIT)
        server.server_close()


@pytest.fixture(autouse=True)
def redis_given(request: pytest.FixtureRequest) -> None:
    """A test that needs Redis is skipped (failed under ``KALEO_TEST_REQUIRE_ALL=1``)
    when its database's URL is not set, before its app is built with that URL: a test
    never touches a Redis database it was not given."""
    for fixture, (variable, url) in REDIS_URLS.items():
        if fixture in request.fixturenames and not url:
            skip_or_fail(f"set {variable} to a Redis database the tests may empty")


@pytest.fixture
def rq_redis() -> t.Iterator[t.Any]:
    """The Redis database of ``KALEO_TEST_RQ_REDIS_URL``, empty, for RQ's queue."""
    with empty_redis(RQ_REDIS_URL) as connection:
        yield connection


@pytest.fixture
def celery_redis() -> t.Iterator[t.Any]:
    """The Redis database of ``KALEO_TEST_CELERY_REDIS_URL``, empty, for Celery's
    broker."""
    with empty_redis(CELERY_REDIS_URL) as connection:
        yield connection


@pytest.fixture
def statements(app: Flask) -> Statements:
    """A recorder of the statements the app's engine runs inside ``with statements:``."""
    with app.app_context():
        return Statements(db.engine)


@pytest.fixture(scope="session", autouse=True)
def instance_untouched_by_the_run() -> t.Iterator[None]:
    """The run (fixtures of any scope included) writes nothing into the checkout's
    instance folders; checked once the last test has finished."""
    before = instance_files()
    yield
    assert_instance_untouched(before, "the test run")


@pytest.fixture(autouse=True)
def instance_untouched_by_the_test() -> t.Iterator[None]:
    """The test writes nothing into the checkout's instance folders (named at once)."""
    before = instance_files()
    yield
    assert_instance_untouched(before, "this test")


@pytest.fixture
def kaleo(app: Flask) -> Kaleo[User]:
    """The test app's own ``Kaleo``: a hook a test sets lives and dies with its app."""
    return kaleo_of(app)


@pytest.fixture
def invite_hook(kaleo: Kaleo[User]) -> SetHook:
    """Sets the invite permission of the test app's extension."""
    return kaleo.invite_permission


@pytest.fixture
def manage_hook(kaleo: Kaleo[User]) -> SetHook:
    """Sets the manage permission of the test app's extension."""
    return kaleo.manage_permission
