"""axe-core, the accessibility engine, for the browser tests: installed once from npm
into pytest's cache (or taken from ``KALEO_TEST_AXE``, a path to ``axe.min.js``), then
injected into a page by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import typing as t
from pathlib import Path

from tests.helpers import skip_or_fail

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
NPM_TIMEOUT = 300
BLOCKING = ("serious", "critical")
"""The impacts that fail a page."""


def axe_source(cache_dir: Path) -> str:
    """The text of ``axe.min.js``: from ``KALEO_TEST_AXE``, or npm-installed (pinned)
    into ``cache_dir`` on first use. Without npm or the network, skip (fail in CI)."""
    given = os.environ.get("KALEO_TEST_AXE")
    script = Path(given) if given else cache_dir / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file() and not given:
        npm = shutil.which("npm")
        if npm is None:
            skip_or_fail("axe-core needs npm (apt-get install npm), or set KALEO_TEST_AXE")
        command = [npm, "install", "--prefix", str(cache_dir), "--no-save", "--no-audit",
                   "--no-fund", f"axe-core@{AXE_VERSION}"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=NPM_TIMEOUT)
        if done.returncode != 0:
            skip_or_fail(f"npm could not install axe-core: {done.stderr.strip()[-500:]}")
    if not script.is_file():
        skip_or_fail(f"axe-core not found at {script}")
    return script.read_text(encoding="utf-8")


def violations(page: Page, source: str) -> list[str]:
    """The page's serious and critical axe violations, one readable line per node."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=source)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url}: {rule['id']} ({rule['impact']}): {rule['help']} at {node['target']}"
        for rule in results["violations"]
        if rule["impact"] in BLOCKING
        for node in rule["nodes"]
    ]


def shown_with_javascript(page: Page, viewer: Page) -> Page:
    """Show ``viewer`` (JavaScript on) the document ``page`` (JavaScript off, where axe
    cannot run) holds now, at its URL, so its styles and markup can be checked."""
    url, html = page.url.split("#")[0], page.content()
    viewer.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    viewer.goto(url)
    viewer.unroute(url)
    return viewer
