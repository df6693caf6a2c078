"""Races: many threads lined up at a barrier, then let go at once, and many real HTTP
clients of a live server inviting at once."""

from __future__ import annotations

import threading
import typing as t

from tests.helpers.http import Browser
from tests.helpers.http import Reply
from tests.helpers.run import WAIT

POOL = {"pool_size": 5, "max_overflow": 20, "pool_timeout": 120}
"""The engine options of a racing test: a connection for each racer."""


def race(count: int, work: t.Callable[[int, threading.Barrier], t.Any]) -> list[t.Any]:
    """Run ``work(i, barrier)`` in ``count`` threads; return each result or exception.

    ``work`` calls ``barrier.wait()`` at the moment the racers should be lined up.
    """
    barrier = threading.Barrier(count, timeout=WAIT)
    results: list[t.Any] = [None] * count

    def run(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except BaseException as error:  # noqa: B036 - reported to the test below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def invite_all(
    port: int, sessions: list[tuple[dict[str, str], str]], addresses: list[str]
) -> list[Reply]:
    """One browser per address opens the page, then all post their invitation at once."""

    def work(i: int, barrier: threading.Barrier) -> Reply:
        browser = Browser(port, sessions[i])
        browser.open_page()
        barrier.wait()
        reply = browser.invite(addresses[i])
        assert reply.mimetype == "application/json", reply
        return reply

    results = race(len(addresses), work)
    for result in results:
        assert not isinstance(result, BaseException), repr(result)
    return results
