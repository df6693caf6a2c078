"""Invitations per second under gunicorn on PostgreSQL, members inviting in a closed loop.

    python benchmarks/load.py --postgresql postgresql+psycopg://postgres@127.0.0.1/kaleo_bench
    python benchmarks/load.py --postgresql URL --workers 4 --members 16 --duration 20

Starts the benchmarks' host app (benchmarks/support.py) under gunicorn (sync workers,
127.0.0.1, a free port, mail suppressed) and makes ``--members`` members with plenty
of invitations. Each member is one client thread that signs in through the app's login
route, keeps its own session cookie and CSRF token, and posts the invite form the way
kaleo's original jQuery snippet does, to a fresh address each time, with no pause
between requests. After ``--warmup`` seconds, the next ``--duration`` seconds are
counted: invitations per second, median and 99th-percentile latency, and errors. The
SQL statements of one invite request are counted in process beforehand.

The schema is created in the given database and dropped afterwards; point it at a
throwaway database. gunicorn is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import urllib.parse
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.support import AJAX  # noqa: E402
from benchmarks.support import DATABASE_URL_VARIABLE  # noqa: E402
from benchmarks.support import StatementCounter  # noqa: E402
from benchmarks.support import create_app  # noqa: E402
from benchmarks.support import db  # noqa: E402
from benchmarks.support import find_csrf_token  # noqa: E402
from benchmarks.support import make_user  # noqa: E402

ALLOCATION = 1_000_000
"""Invitations given to each member: more than any bounded run can spend."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Browser:
    """One HTTP client on loopback with its own cookies, like one signed-in member.

    It keeps its connection open between requests; gunicorn's sync workers close it
    after each response, and http.client then reconnects on the next request.
    """

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        text = response.read().decode()
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return response.status, text

    def close(self) -> None:
        self.connection.close()


@dataclass
class Outcome:
    """What the closed loop saw inside the counted window."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, p: int) -> float:
        if len(self.latencies_ms) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100)[p - 1]


def closed_loop(
    actions: list[t.Callable[[int], str | None]], warmup: float, duration: float
) -> Outcome:
    """Run each action in its own thread, back to back, for ``warmup + duration``
    seconds; count those that end inside the last ``duration`` seconds.

    An action takes its sequence number and returns None when the request did what it
    should, or a description of what went wrong.
    """
    start = time.perf_counter() + 0.05
    counted_from = start + warmup
    stop = counted_from + duration
    outcome = Outcome(seconds=duration)
    lock = threading.Lock()

    def loop(action: t.Callable[[int], str | None]) -> None:
        while time.perf_counter() < start:
            time.sleep(0.001)
        n = 0
        while True:
            began = time.perf_counter()
            if began >= stop:
                return
            try:
                error = action(n)
            except Exception as exception:  # counted as an error; the loop goes on
                error = repr(exception)
            ended = time.perf_counter()
            n += 1
            if counted_from <= ended < stop:
                with lock:
                    if error is None:
                        outcome.latencies_ms.append((ended - began) * 1000)
                    else:
                        outcome.errors += 1
                        outcome.first_error = outcome.first_error or error

    threads = [threading.Thread(target=loop, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def gunicorn(
    port: int, workers: int, *options: str, app: str = "benchmarks.support:create_app()"
) -> list[str]:
    """The command serving ``app`` (the benchmarks' host app unless told) with
    ``workers`` gunicorn workers (sync unless ``options`` say otherwise) on
    127.0.0.1:``port``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *options,
        app,
    ]


@contextlib.contextmanager
def serve(
    command: list[str], port: int, ready_path: str, env: dict[str, str] | None = None
) -> t.Iterator[None]:
    """Run ``command`` (a server listening on 127.0.0.1:``port``) until the block ends;
    wait until ``ready_path`` answers 200 first. Its output is shown if it fails."""
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log
        )

        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")[-4000:]

        try:
            deadline = time.monotonic() + 30
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"the server exited at start:\n{output()}")
                try:
                    probe = Browser(port)
                    status, _ = probe.request("GET", ready_path)
                    probe.close()
                    if status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer within 30 s:\n{output()}")
                time.sleep(0.2)
            yield
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if server.returncode not in (0, -15):
            print(f"the server exited with {server.returncode}:\n{output()}", file=sys.stderr)


def sign_in(port: int, email: str) -> tuple[Browser, str]:
    """A browser signed in as ``email`` through the login route, and the CSRF token of
    its invite form."""
    browser = Browser(port)
    status, page = browser.request("GET", "/login")
    assert status == 200, page[:300]
    status, page = browser.request(
        "POST", "/login", form={"email": email, "csrf_token": find_csrf_token(page)}
    )
    assert status == 200, page[:300]
    status, page = browser.request("GET", "/")
    assert status == 200, page[:300]
    return browser, find_csrf_token(page)


def invite_action(
    port: int,
    email: str,
    run: str,
    answered: t.Callable[[dict[str, t.Any]], bool] = lambda answer: False,
) -> t.Callable[[int], str | None]:
    """Sign ``email`` in through the login route and return its invite action: None
    for an OK, or for an ERROR that ``answered`` accepts as an answer; else the error."""
    browser, token = sign_in(port, email)
    name = email.split("@")[0]

    def invite(n: int) -> str | None:
        status, body = browser.request(
            "POST",
            "/invites/invite",
            form={"email_address": f"{name}-{run}-{n}@example.net", "csrf_token": token},
            headers=AJAX,
        )
        answer = json.loads(body) if status == 200 else {}
        if answer.get("status") == "OK" or (answer.get("status") == "ERROR" and answered(answer)):
            return None
        return f"{status} {body[:300]}"

    return invite


def statements_per_invite(app: Flask) -> int:
    """The SQL statements of one invite request, counted in process (the most of three,
    after one uncounted request). Each request runs in its own app context, as under a
    server: an app context around them all would let Flask-Login keep the member in
    ``g`` and hide its query."""
    with app.app_context():
        make_user("probe@example.com", allocation=10)
        engine = db.engine
    client = app.test_client()
    token = find_csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "probe@example.com", "csrf_token": token})
    token = find_csrf_token(client.get("/").get_data(as_text=True))
    counts = []
    for n in range(4):
        with StatementCounter(engine) as counter:
            response = client.post(
                "/invites/invite",
                headers=AJAX,
                data={"email_address": f"probe{n}@example.net", "csrf_token": token},
            )
        assert response.json and response.json["status"] == "OK", response.get_data()
        counts.append(counter.count)
    return max(counts[1:])


def arguments(doc: str) -> argparse.ArgumentParser:
    """The options of a closed-loop run (this module's, floor.py's, pinax_load.py's)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--postgresql", metavar="URL", required=True)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--members", type=int, default=8, help="client threads, one each")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds counted")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not counted")
    return parser


def members_invite(
    options: argparse.Namespace, app: str = "benchmarks.support:create_app()"
) -> Outcome:
    """Make ``options.members`` members (inside the host app's context, on its schema),
    serve ``app`` with gunicorn on their database and run the closed loop of invites."""
    members = [f"member{i}@example.com" for i in range(options.members)]
    for email in members:
        make_user(email, allocation=ALLOCATION)
    db.session.remove()
    db.engine.dispose()  # the workers open their own connections

    port = free_port()
    command = gunicorn(port, options.workers, app=app)
    env = {DATABASE_URL_VARIABLE: options.postgresql}
    with serve(command, port, "/login", env):
        run = f"{int(time.time())}"
        actions = [invite_action(port, email, run) for email in members]
        return closed_loop(actions, options.warmup, options.duration)


def main() -> None:
    options = arguments(__doc__).parse_args()

    app = create_app(options.postgresql)
    with app.app_context():
        db.drop_all()
        db.create_all()
    statements = statements_per_invite(app)
    with app.app_context():
        try:
            outcome = members_invite(options)
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()

    report("flask-kaleo", options, outcome, statements)


def report(name: str, options: argparse.Namespace, outcome: Outcome, statements: int) -> None:
    if outcome.first_error:
        print(f"first error: {outcome.first_error}", file=sys.stderr)
    print(
        "| app | workers | members | seconds | invitations | invitations/s | p50 ms | p99 ms"
        " | errors | SQL statements per invite |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {name} | {options.workers} | {options.members} | {outcome.seconds:g}"
        f" | {len(outcome.latencies_ms):,} | {outcome.per_second:.0f}"
        f" | {outcome.percentile(50):.1f} | {outcome.percentile(99):.1f}"
        f" | {outcome.errors} | {statements} |"
    )


if __name__ == "__main__":
    main()
