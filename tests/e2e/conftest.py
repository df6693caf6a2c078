"""End-to-end fixtures: the example app on a real threaded server, driven by headless
Chromium through Playwright.

Each test module gets its own SQLite file and server. Without Chromium (or Playwright)
the tests skip with the reason; under KALEO_TEST_REQUIRE_ALL=1 (CI) they fail instead.
A failing test leaves a screenshot of each of its pages in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import typing as t

import pytest

from tests.e2e.axe import axe_source
from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.live import serve
from tests.helpers import skip_or_fail

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import Page

CHROMIUM = os.environ.get("KALEO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
HERE = os.path.dirname(__file__)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives Chromium: mark it ``browser``."""
    for item in items:
        if str(item.path).startswith(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[LiveServer]:
    from example_app import create_app
    from example_app.extensions import db

    database = tmp_path_factory.mktemp("example") / "example.sqlite"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "e2e secret",
            # Production mode (no debug, no TESTING), with the outbox open to all.
            "EXAMPLE_OUTBOX": True,
        },
        instance_path=str(database.parent / "instance"),
    )
    with serve(app, db) as live:
        app.before_request(live._wait_at_gate)
        yield live


@pytest.fixture(scope="session")
def browser() -> t.Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> t.Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures can tell a failed test."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def open_page(browser: Browser, request: pytest.FixtureRequest) -> t.Iterator[PageFactory]:
    """Open a page in a fresh browser context (its own cookies); keyword arguments go
    to ``browser.new_context`` (e.g. ``java_script_enabled=False``)."""
    pages: list[Page] = []

    def open_(**options: t.Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        page = browser.new_context(**options).new_page()
        pages.append(page)
        return page

    yield open_
    reports = request.node.stash.get(REPORTS, {})
    if "call" in reports and reports["call"].failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        for number, page in enumerate(pages):
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}-{number}.png"), full_page=True)
    for page in pages:
        page.context.close()


@pytest.fixture
def page(open_page: PageFactory) -> Page:
    return open_page()


@pytest.fixture(scope="session")
def axe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The source of axe-core's ``axe.min.js`` (see tests/e2e/axe.py), kept in pytest's
    cache between runs."""
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    folder = cache.mkdir("axe-core") if cache is not None else tmp_path_factory.mktemp("axe")
    return axe_source(folder)
