"""The run's rules and deadlines: what a missing service does (skip, or fail under
``KALEO_TEST_REQUIRE_ALL=1``), how long anything may be waited on, a call that must
return within it, and the instance folders a run must leave alone."""

from __future__ import annotations

import os
import threading
import typing as t
from pathlib import Path

import pytest

REQUIRE_ALL = os.environ.get("KALEO_TEST_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> t.NoReturn:
    """Skip outside CI; in CI (KALEO_TEST_REQUIRE_ALL=1) nothing that matters is skipped."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (KALEO_TEST_REQUIRE_ALL=1 forbids skipping it)")
    pytest.skip(reason)


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


CHECKOUT = Path(__file__).resolve().parents[2]
INSTANCE_FOLDERS = (CHECKOUT / "instance", CHECKOUT / "example_app" / "instance")
"""Flask's instance folders in the checkout (the host apps' and the example app's): an
app built by a test keeps its instance folder under ``tmp_path``, never here."""


def instance_files() -> dict[str, float]:
    """Every folder and file under ``INSTANCE_FOLDERS``, with its modification time."""
    found: dict[str, float] = {}
    for folder in INSTANCE_FOLDERS:
        if folder.exists():
            found[str(folder)] = folder.stat().st_mtime
            found.update({str(path): path.stat().st_mtime for path in folder.rglob("*")})
    return found


def assert_instance_untouched(before: dict[str, float], during: str) -> None:
    """Nothing under ``INSTANCE_FOLDERS`` appeared or changed since ``before``."""
    after = instance_files()
    changed = sorted(path for path, mtime in after.items() if before.get(path) != mtime)
    assert not changed, (
        f"{during} wrote into the checkout's instance folder: {changed}; give the app an "
        "instance_path (or a database) under tmp_path"
    )
