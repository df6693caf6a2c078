"""Where one invite request spends its time: cProfile over many, in process.

    python benchmarks/invite_profile.py [--postgresql URL] [--requests 300] [--lines 25]
                                        [--sort cumulative|tottime]
    python benchmarks/invite_profile.py --breakdown [--postgresql URL] [--requests 1000]

A signed-in member posts the invite form (as kaleo's original jQuery snippet does)
``--requests`` times with Flask's test client, after a few uncounted requests; the
profile of those requests is printed, sorted by cumulative time by default. Runs on
SQLite unless --postgresql names a throwaway database (its schema is dropped after).

cProfile's own cost inflates Python-heavy code more than time spent waiting on the
database, so ``--breakdown`` measures without it: first the requests alone (median and
mean, and the CPU time this process spent per request, which other processes on a busy
machine disturb less than the clock; on SQLite in a tmpfs, ``TMPDIR=/dev/shm``, that is
nearly all of the request's work), then again with a clock around the stages below (a
few microseconds each), and prints each stage's mean time per request, inclusive of
what it calls. The stages are found by name in flask_kaleo and its dependencies; a
stage whose function is gone (the library moved it) is reported as such, the rest
still run.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import pstats
import statistics
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.support import AJAX  # noqa: E402
from benchmarks.support import create_app  # noqa: E402
from benchmarks.support import db  # noqa: E402
from benchmarks.support import find_csrf_token  # noqa: E402
from benchmarks.support import make_user  # noqa: E402

WARMUP = 10


def prepared(url: str, allocation: int) -> tuple[Flask, t.Callable[[int], None]]:
    """The host app on ``url`` with a fresh schema and a signed-in member allowed
    ``allocation`` invitations, and a function posting the invite form to address n."""
    app = create_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        make_user("alice@example.com", allocation=allocation)
    client = app.test_client()
    token = find_csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "alice@example.com", "csrf_token": token})
    token = find_csrf_token(client.get("/").get_data(as_text=True))

    def invite(n: int) -> None:
        response = client.post(
            "/invites/invite",
            headers=AJAX,
            data={"email_address": f"new{n}@example.net", "csrf_token": token},
        )
        assert response.json and response.json["status"] == "OK", response.get_data()

    return app, invite


def dropped(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def profile(url: str, requests: int) -> pstats.Stats:
    app, invite = prepared(url, requests + WARMUP)
    try:
        for n in range(WARMUP):
            invite(n)
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(WARMUP, WARMUP + requests):
            invite(n)
        profiler.disable()
        return pstats.Stats(profiler)
    finally:
        dropped(app)


STAGES: list[tuple[str, str, str]] = [
    # (label, module, attribute path): the function is timed wherever it is looked up.
    ("the whole request, in the app (WSGI)", "", "wsgi_app"),
    ("Flask's session cookie: open + save", "", "session_interface"),
    ("CSRFProtect's check (Flask-WTF, before the view)", "flask_wtf.csrf", "CSRFProtect.protect"),
    ("Flask-Login loads the member (1 SELECT)", "", "user_callback"),
    ("kaleo's own CSRF check (web.check_csrf)", "flask_kaleo.web.endpoint", "check_csrf"),
    ("Kaleo.invite (inviting.invite)", "flask_kaleo.core.inviting", "invite"),
    ("  canonical_address (all calls)", "flask_kaleo.core.addresses", "canonical_address"),
    ("  inviting._record: transaction 1", "flask_kaleo.core.inviting", "_record"),
    (
        "    limits.lock_address (INSERT .. ON CONFLICT)",
        "flask_kaleo.core.limits",
        "SendingLimits.lock_address",
    ),
    ("    Counters.spend (UPDATE .. RETURNING)", "flask_kaleo.core.counters", "Counters.spend"),
    ("    limits.check (the count)", "flask_kaleo.core.limits", "SendingLimits.check"),
    ("    Store.is_member (member check)", "flask_kaleo.core.store", "Store.is_member"),
    ("    Delivery.render (the email's templates)", "flask_kaleo.core.sending", "Delivery.render"),
    ("    limits.record (INSERT into the log)", "flask_kaleo.core.limits", "SendingLimits.record"),
    ("    Session.flush (INSERT of the invitation)", "sqlalchemy.orm", "Session.flush"),
    ("  Delivery.start: send, then transaction 2", "flask_kaleo.core.sending", "Delivery.start"),
    ("    Delivery.send (transport, mail suppressed)", "flask_kaleo.core.sending", "Delivery.send"),
    ("      flask_mail.Message() (its make_msgid)", "flask_mail", "Message.__init__"),
    ("        email.utils.make_msgid", "email.utils", "make_msgid"),
    ("          socket.getfqdn", "socket", "getfqdn"),
    (
        "    Delivery.mark_delivered (UPDATE, commit)",
        "flask_kaleo.core.sending",
        "Delivery.mark_delivered",
    ),
    ("the answer (views._answer: JSON + the <li>)", "flask_kaleo.web.views", "_answer"),
    ("Store.finish (ends the session's transaction)", "flask_kaleo.core.store", "Store.finish"),
    ("every Session.commit", "sqlalchemy.orm", "Session.commit"),
    ("  of which the database's COMMIT (DBAPI)", "", "do_commit"),
    ("every statement, in the DBAPI (execute)", "", "cursor_execute"),
]


class Clocks:
    """Inclusive time per stage, summed; re-entrant calls counted once."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._depth: dict[str, int] = {}
        self._undo: list[t.Callable[[], None]] = []

    def wrap(self, label: str, function: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        self.seconds[label] = 0.0
        self.calls[label] = 0
        self._depth[label] = 0

        def timed(*args: t.Any, **kwargs: t.Any) -> t.Any:
            self.calls[label] += 1
            self._depth[label] += 1
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth[label] -= 1
                if not self._depth[label]:
                    self.seconds[label] += time.perf_counter() - began

        timed.__wrapped__ = function  # type: ignore[attr-defined]
        return timed

    def patch(self, owner: t.Any, name: str, label: str) -> None:
        """Time ``owner.name``; for a module-level function, in every module of
        flask_kaleo (or flask_mail) that imported it by name too."""
        original = getattr(owner, name)
        timed = self.wrap(label, original)
        owners = [owner]
        if isinstance(owner, type(sys)):
            owners += [
                module
                for key, module in list(sys.modules.items())
                if key.startswith(("flask_kaleo", "flask_mail"))
                and module is not owner
                and getattr(module, name, None) is original
            ]
        for each in owners:
            setattr(each, name, timed)
            self._undo.append(functools.partial(setattr, each, name, original))

    def listen(self, engine: sa.Engine, label: str) -> None:
        """Time each statement from the DBAPI's execute to its result."""
        self.seconds[label] = 0.0
        self.calls[label] = 0
        began: list[float] = []

        def before(*args: t.Any) -> None:
            began.append(time.perf_counter())

        def after(*args: t.Any) -> None:
            self.seconds[label] += time.perf_counter() - began.pop()
            self.calls[label] += 1

        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "after_cursor_execute", after)
        self._undo.append(lambda: sa.event.remove(engine, "before_cursor_execute", before))
        self._undo.append(lambda: sa.event.remove(engine, "after_cursor_execute", after))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


def instrument(app: Flask, clocks: Clocks) -> list[str]:
    """Put a clock on each stage; return the labels of those not found."""
    from benchmarks.support import login_manager

    missing = []
    for label, module_name, path in STAGES:
        if module_name:
            try:
                owner: t.Any = importlib.import_module(module_name)
                *parents, name = path.split(".")
                for parent in parents:
                    owner = getattr(owner, parent)
                getattr(owner, name)
            except (ImportError, AttributeError):
                missing.append(label)
                continue
            clocks.patch(owner, name, label)
        elif path == "wsgi_app":
            clocks.patch(app, "wsgi_app", label)
        elif path == "session_interface":
            clocks.patch(app.session_interface, "open_session", label)
            clocks.patch(app.session_interface, "save_session", label + " ")
        elif path == "user_callback":
            clocks.patch(login_manager, "_user_callback", label)
        elif path == "do_commit":
            with app.app_context():
                dialect = db.engine.dialect
            clocks.patch(dialect, "do_commit", label)
        elif path == "cursor_execute":
            with app.app_context():
                clocks.listen(db.engine, label)
    return missing


def breakdown(url: str, requests: int) -> None:
    """Time ``requests`` invite requests bare, then again with a clock on each stage."""
    app, invite = prepared(url, 2 * (requests + WARMUP))
    try:
        for n in range(WARMUP):
            invite(n)
        bare = []
        cpu_began = time.process_time()
        for n in range(WARMUP, WARMUP + requests):
            began = time.perf_counter()
            invite(n)
            bare.append((time.perf_counter() - began) * 1000)
        cpu = (time.process_time() - cpu_began) / requests * 1000
        clocks = Clocks()
        missing = instrument(app, clocks)
        try:
            offset = WARMUP + requests
            for n in range(offset, offset + WARMUP):
                invite(n)
            for label in clocks.seconds:
                clocks.seconds[label] = 0.0
                clocks.calls[label] = 0
            timed = []
            for n in range(offset + WARMUP, offset + WARMUP + requests):
                began = time.perf_counter()
                invite(n)
                timed.append((time.perf_counter() - began) * 1000)
        finally:
            clocks.restore()
    finally:
        dropped(app)

    database = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    print(f"{requests} invite requests through Flask's test client, on {database}")
    print(
        f"bare: median {statistics.median(bare):.2f} ms, mean {statistics.fmean(bare):.2f} ms,"
        f" CPU of this process {cpu:.2f} ms;"
        f" with the clocks: median {statistics.median(timed):.2f} ms,"
        f" mean {statistics.fmean(timed):.2f} ms"
    )
    print("| stage | calls per request | ms per request |")
    print("| --- | ---: | ---: |")
    for label, _, _ in STAGES:
        if label in missing:
            print(f"| {label} | (not found) | |")
            continue
        seconds = clocks.seconds[label] + clocks.seconds.get(label + " ", 0.0)
        calls = clocks.calls[label] + clocks.calls.get(label + " ", 0)
        print(f"| {label} | {calls / requests:g} | {seconds / requests * 1000:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", metavar="URL")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--lines", type=int, default=25)
    parser.add_argument("--sort", choices=["cumulative", "tottime"], default="cumulative")
    parser.add_argument("--breakdown", action="store_true", help="time stages, no cProfile")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = options.postgresql or f"sqlite:///{Path(directory) / 'profile.sqlite'}"
        if options.breakdown:
            breakdown(url, options.requests)
            return
        stats = profile(url, options.requests)
    stats.strip_dirs().sort_stats(options.sort).print_stats(options.lines)


if __name__ == "__main__":
    main()
