"""The invite request under gunicorn on PostgreSQL with a real mail relay, inline and on RQ.

    python benchmarks/delivery_load.py --postgresql postgresql+psycopg://postgres@127.0.0.1/kaleo_bench
    python benchmarks/delivery_load.py --postgresql URL --redis redis://127.0.0.1:6379/9
    python benchmarks/delivery_load.py --postgresql URL --redis URL --scenarios rq stalled-rq

Serves the benchmarks' host app (benchmarks/support.py) with gunicorn (``--workers``
processes of ``--threads`` threads each, by default ``--members`` + 2: a gthread worker
takes connections beyond its threads and queues them, so each worker gets enough
threads for every client; ``--threads 1`` runs sync workers instead) and runs two
closed loops at once, as benchmarks/load.py does:

- ``--members`` members, each signed in through the login route, post the invite form
  to fresh addresses with no pause (the request measured);
- one visitor loads an unrelated page of the site, another member's page
  (``/members/<id>``: the member, their stat and their sent list; it sends no email),
  also with no pause.

The mail relay lives in this process, on loopback: an aiosmtpd server whose DATA
answer takes ``--relay-delay`` seconds (0.3), or, for the stalled scenarios, a socket
that accepts connections and never says a word (each delivery then waits
``--stall-timeout`` seconds, the ``KALEO_MAIL_TIMEOUT``, and fails). The scenarios:

- ``no-mail``: ``MAIL_SUPPRESS_SEND`` (the email is built but not sent), inline: the
  baseline;
- ``inline``: the default ``KALEO_DELIVERY = "inline"``, the request waits for the relay;
- ``rq``: ``KALEO_DELIVERY = "rq"``; ``--rq-workers`` ``flask kaleo worker`` processes
  drain the queue *during* the run (what they deliver is counted in the "emails
  relayed" column). What they have not delivered when the run ends is discarded;
- ``stalled-inline`` and ``stalled-rq``: the same two against the silent relay. Inline,
  every invite answers "could not be delivered, nothing was spent" after the timeout
  (counted as answered, not as an error).

After ``--warmup`` seconds, the next ``--duration`` seconds (``--stall-duration`` for
the stalled scenarios, which must exceed the timeout) are counted. The schema is
created in the given database and dropped afterwards, and the RQ queues are removed
from Redis: point both at throwaway places. Servers and workers are stopped at the
end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.load import ALLOCATION  # noqa: E402
from benchmarks.load import Browser  # noqa: E402
from benchmarks.load import Outcome  # noqa: E402
from benchmarks.load import closed_loop  # noqa: E402
from benchmarks.load import free_port  # noqa: E402
from benchmarks.load import gunicorn  # noqa: E402
from benchmarks.load import invite_action  # noqa: E402
from benchmarks.load import serve  # noqa: E402
from benchmarks.support import CONFIG_VARIABLE  # noqa: E402
from benchmarks.support import DATABASE_URL_VARIABLE  # noqa: E402
from benchmarks.support import create_app  # noqa: E402
from benchmarks.support import db  # noqa: E402
from benchmarks.support import make_user  # noqa: E402
from flask_kaleo.config import RQ_QUEUE  # noqa: E402

SCENARIOS = ("no-mail", "inline", "rq", "stalled-inline", "stalled-rq")
UNDELIVERED = "could not be delivered"


class SlowRelay:
    """An SMTP relay on loopback that takes ``delay`` seconds to answer DATA."""

    def __init__(self, delay: float) -> None:
        from aiosmtpd.controller import Controller

        self.delay = delay
        self.received = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        await asyncio.sleep(self.delay)
        self.received += 1
        return "250 Message accepted for delivery"

    def __enter__(self) -> SlowRelay:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class SilentRelay:
    """A relay that accepts every connection and never answers (not even a greeting)."""

    received = 0

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1024)
        self.port = int(self.listener.getsockname()[1])
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # the listener closed
            while True:
                connection, _ = self.listener.accept()
                self.held.append(connection)

    def __enter__(self) -> SilentRelay:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


@dataclass
class Result:
    scenario: str
    invites: Outcome
    page: Outcome
    given_back: int
    """Invites answered "could not be delivered", over the whole scenario."""
    relayed: int
    """Emails the relay took, over the whole scenario (warm-up included)."""


def given_back_counter(given_back: list[int]) -> t.Callable[[dict[str, t.Any]], bool]:
    """An answer "could not be delivered" (the stalled inline case) counts as an
    answer, tallied in ``given_back``."""

    def answered(answer: dict[str, t.Any]) -> bool:
        if UNDELIVERED not in json.dumps(answer):
            return False
        given_back.append(1)
        return True

    return answered


def page_action(port: int, member_id: int) -> t.Callable[[int], str | None]:
    browser = Browser(port)

    def load(n: int) -> str | None:
        status, body = browser.request("GET", f"/members/{member_id}")
        return None if status == 200 else f"{status} {body[:300]}"

    return load


@contextlib.contextmanager
def rq_workers(count: int, env: dict[str, str]) -> t.Iterator[None]:
    """``count`` ``flask kaleo worker`` processes, stopped (killed if need be) at the end."""
    command = [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "benchmarks.support:create_app()",
        "kaleo",
        "worker",
    ]
    workers = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        time.sleep(1.5)  # let them import the app and register
        for worker in workers:
            if worker.poll() is not None:
                raise RuntimeError(f"a worker exited at start with {worker.returncode}")
        yield
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=3)
            except subprocess.TimeoutExpired:  # a job stuck on the silent relay
                worker.kill()
                worker.wait()


def remove_queue(redis_url: str, name: str) -> None:
    """Delete the queue ``name``, its workers (killed ones included), its jobs, their
    executions and its registries from Redis."""
    from redis import Redis
    from rq import Queue
    from rq import Worker

    connection = Redis.from_url(redis_url)
    queue = Queue(name, connection=connection)
    for worker in Worker.all(queue=queue):
        worker.register_death()
        connection.delete(worker.key)
    registries = [
        queue.started_job_registry,
        queue.finished_job_registry,
        queue.failed_job_registry,
        queue.deferred_job_registry,
        queue.scheduled_job_registry,
    ]
    jobs = set(queue.get_job_ids())
    for registry in registries:
        jobs.update(registry.get_job_ids())
    for job_id in jobs:
        connection.delete(f"rq:job:{job_id}", f"rq:results:{job_id}", f"rq:executions:{job_id}")
    for key in list(connection.scan_iter(match="rq:execution:*")):
        if key.decode().split(":")[2] in jobs:
            connection.delete(key)
    for key in list(connection.scan_iter(match=f"*{name}*")):
        connection.delete(key)
    connection.srem("rq:queues", queue.key)


def run_scenario(
    scenario: str, options: argparse.Namespace, members: list[str], reader_id: int
) -> Result:
    stalled = scenario.startswith("stalled")
    mode = "rq" if scenario.endswith("rq") else "inline"
    queue = RQ_QUEUE  # emptied after each scenario
    relay: SlowRelay | SilentRelay = SilentRelay() if stalled else SlowRelay(options.relay_delay)
    config = {
        "KALEO_DELIVERY": mode,
        "MAIL_SUPPRESS_SEND": scenario == "no-mail",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": relay.port,
        "KALEO_MAIL_TIMEOUT": {"seconds": options.stall_timeout},
        "KALEO_REDIS_URL": options.redis,
        "KALEO_DELIVERY_RETRIES": [{"seconds": 1}, {"seconds": 2}, {"seconds": 4}],
    }
    env = {DATABASE_URL_VARIABLE: options.postgresql, CONFIG_VARIABLE: json.dumps(config)}
    port = free_port()
    threaded = ["--worker-class", "gthread", "--threads", str(options.threads)]
    command = gunicorn(
        port, options.workers, "--timeout", "120", *(threaded if options.threads > 1 else [])
    )
    duration = options.stall_duration if stalled else options.duration
    given_back: list[int] = []
    workers = rq_workers(options.rq_workers, env) if mode == "rq" else contextlib.nullcontext()
    try:
        with relay, workers, serve(command, port, "/login", env):
            run = f"{scenario}-{int(time.time())}"
            answered = given_back_counter(given_back)
            invites = [invite_action(port, email, run, answered) for email in members]
            page = [page_action(port, reader_id)]
            outcomes: dict[str, Outcome] = {}

            def loop(name: str, actions: list[t.Callable[[int], str | None]]) -> None:
                outcomes[name] = closed_loop(actions, options.warmup, duration)

            threads = [
                threading.Thread(target=loop, args=("invites", invites)),
                threading.Thread(target=loop, args=("page", page)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            relayed = relay.received
    finally:
        if mode == "rq":
            remove_queue(options.redis, queue)
    return Result(scenario, outcomes["invites"], outcomes["page"], len(given_back), relayed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", metavar="URL", required=True)
    parser.add_argument(
        "--redis", metavar="URL", default="redis://127.0.0.1:6379/0", help="for the rq scenarios"
    )
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per gunicorn worker (default: members + 2; 1: sync workers)",
    )
    parser.add_argument("--members", type=int, default=8, help="inviting clients, one each")
    parser.add_argument(
        "--rq-workers",
        type=int,
        default=2,
        help="flask kaleo worker processes draining during the run (0: none)",
    )
    parser.add_argument("--relay-delay", type=float, default=0.3, help="seconds per message")
    parser.add_argument("--stall-timeout", type=float, default=10.0, help="KALEO_MAIL_TIMEOUT")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds counted")
    parser.add_argument("--stall-duration", type=float, default=15.0, help="seconds counted")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not counted")
    options = parser.parse_args()
    if options.threads is None:
        options.threads = options.members + 2

    app = create_app(options.postgresql)
    results: list[Result] = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        try:
            members = [f"member{i}@example.com" for i in range(options.members)]
            for email in members:
                make_user(email, allocation=ALLOCATION)
            reader_id = make_user("neighbour@example.com", allocation=5).id
            db.session.remove()
            db.engine.dispose()  # the servers open their own connections
            for scenario in options.scenarios:
                results.append(run_scenario(scenario, options, members, reader_id))
                print(f"{scenario}: done (load average {os.getloadavg()[0]:.2f})", file=sys.stderr)
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    report(options, results)


def report(options: argparse.Namespace, results: list[Result]) -> None:
    for result in results:
        for outcome in (result.invites, result.page):
            if outcome.first_error:
                print(f"{result.scenario}: first error: {outcome.first_error}", file=sys.stderr)
    server = (
        f"{options.workers} x {options.threads} threads"
        if options.threads > 1
        else f"{options.workers} sync"
    )
    print(
        f"gunicorn {server}, {options.members} members inviting + 1 page client,"
        f" relay {options.relay_delay:g} s per message, stall timeout"
        f" {options.stall_timeout:g} s, {options.rq_workers} RQ workers,"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    print(
        "| scenario | invites/s | invite p50 ms | invite p99 ms | given back | errors"
        " | page loads | page p50 ms | page p99 ms | emails relayed |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r.scenario} | {r.invites.per_second:.1f}"
            f" | {percentile(r.invites, 50)} | {percentile(r.invites, 99)}"
            f" | {r.given_back} | {r.invites.errors + r.page.errors}"
            f" | {len(r.page.latencies_ms)} | {percentile(r.page, 50)}"
            f" | {percentile(r.page, 99)} | {r.relayed} |"
        )


def percentile(outcome: Outcome, p: int) -> str:
    """The percentile in ms; with one answer, that answer; with none, a dash."""
    if len(outcome.latencies_ms) == 1:
        return f"{outcome.latencies_ms[0]:.1f}"
    return "-" if not outcome.latencies_ms else f"{outcome.percentile(p):.1f}"


if __name__ == "__main__":
    main()
