"""The staff side on PostgreSQL with a million members and three million invitations.

    python benchmarks/staff_scale.py                      # 1,000,000 members, 3,000,000 invitations
    python benchmarks/staff_scale.py --members 100000 --invitations 300000 --repeat 10
    python benchmarks/staff_scale.py --indexes            # with the indexes of docs/performance.md
    python benchmarks/staff_scale.py --keep               # leave the database for EXPLAIN
    python benchmarks/staff_scale.py --reuse --only "CSV export" --trace

Creates the database ``kaleo_scale`` on the server of ``--postgresql`` (a URL of any
database there, to connect to), fills it with set-based SQL (members, their counters,
invitations in every state over two years, the tree of who invited whom with a chain
about 50 deep and a few inviters of thousands, shareable links and their uses, staff
actions in the audit log), then times each staff read through the facade (median and
95th percentile of ``--repeat`` runs, and the SQL statements of each), the CSV export
of every invitation (its time and peak memory), and the console's pages; then drops
the database. It prints the tables; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import statistics
import sys
import time
import tracemalloc
import typing as t
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_login import LoginManager
from flask_login import UserMixin
from flask_login import login_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from flask_kaleo import Kaleo  # noqa: E402
from flask_kaleo import blueprint  # noqa: E402
from flask_kaleo.core.directory import InvitationState  # noqa: E402

DATABASE = "kaleo_scale"
CHAIN = 50
"""The depth of the one long chain of invitations, below the usual tree."""
BUSY = (2, 3, 4, 5)
"""The busy inviters: each brought in thousands (at a million members)."""
STAFF = 1
MIB = 2**20
SLOW_MS = 5000
"""A read slower than this (its first run counts) is run only twice."""

db = SQLAlchemy()
login_manager = LoginManager()


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "user"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    banned_at = db.Column(db.DateTime(timezone=True), nullable=True)


db.Index("ix_user_email_lower", sa.func.lower(User.email))
kaleo = Kaleo(db=db, user_model=User)


@kaleo.manage_permission
def is_staff(user: User) -> bool:
    return bool(user.id == STAFF)


@kaleo.members_in_trouble
def banned() -> sa.ColumnElement[bool]:
    return User.banned_at.is_not(None)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def create_app(url: str) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="benchmark secret",
        SQLALCHEMY_DATABASE_URI=url,
        KALEO_SITE_URL="http://127.0.0.1",
        MAIL_DEFAULT_SENDER="invites@example.org",
        MAIL_SUPPRESS_SEND=True,
    )
    db.init_app(app)
    login_manager.init_app(app)
    CSRFProtect(app)
    kaleo.init_app(app)
    app.register_blueprint(blueprint, url_prefix="/invites")

    @app.route("/login/<int:user_id>")
    def login(user_id: int) -> str:
        login_user(db.session.get(User, user_id))
        return "signed in"

    return app


# -- the data ----------------------------------------------------------------------------
# :m members, :n invitations; member i joined at :start + i/:m of two years, so ids
# follow time. Every statement is set-based; random() is seeded first.

JOINED_AT = "(CAST(:start AS timestamptz) + ({i}::float8 / :m) * interval '730 days')"

BUILD: list[tuple[str, str]] = [
    (
        "members",
        """INSERT INTO "user" (id, email, banned_at)
        SELECT i, 'member' || i || '@example.com',
               CASE WHEN i % 97 = 0 THEN now() - interval '3 days' END
        FROM generate_series(1, :m) AS i""",
    ),
    # Who brought whom in: the first :roots members and one in five after them joined
    # on their own; the rest through an invitation (one in fifty through a link), from
    # a member who joined before them (earlier members more often), one of the busy
    # inviters (one in a hundred), or the previous link of the chain.
    (
        "tree",
        f"""CREATE UNLOGGED TABLE scale_tree AS
        SELECT i, CASE WHEN i > :chain AND i <= :chain + {CHAIN} THEN i - 1
                       WHEN i % 100 = 3 THEN {BUSY[0]} + (i / 100) % {len(BUSY)}
                       ELSE 1 + floor((i - 1) * random() ^ 2)::int END AS parent,
               CASE WHEN i % 50 = 1 AND NOT (i > :chain AND i <= :chain + {CHAIN})
                    THEN 'link' ELSE 'invitation' END AS via,
               {JOINED_AT.format(i="i")} AS joined_at
        FROM generate_series(:roots + 1, :m) AS i
        WHERE i % 5 <> 0 OR (i > :chain AND i <= :chain + {CHAIN})""",
    ),
    ("tree index", "CREATE UNIQUE INDEX ON scale_tree (i)"),
    # A few inviters (one in a thousand) brought in only people who are now banned.
    (
        "banned invitees",
        """UPDATE "user" SET banned_at = now() - interval '1 day'
        FROM scale_tree WHERE scale_tree.i = "user".id AND scale_tree.parent % 1000 = 13""",
    ),
    (
        "invitations",
        f"""INSERT INTO kaleo_join_invitation
            (from_user_id, to_user_id, email, email_key, pending_email_key, sent_at,
             expires_at, status, token_digest, inviter_label, delivered_at,
             delivery_attempts, link_only)
        SELECT from_user_id, to_user_id, email, lower(email),
               CASE WHEN status = 'sent' THEN lower(email) END, sent_at,
               CASE WHEN never THEN NULL ELSE sent_at + interval '7 days' END, status,
               md5('invitation' || g) || md5(g || 'invitation'),
               'member' || from_user_id || '@example.com',
               CASE WHEN NOT (stuck OR status = 'undeliverable') THEN sent_at END,
               CASE WHEN stuck THEN 0 ELSE 1 END, link_only
        FROM (
            SELECT -t.i AS g, t.parent AS from_user_id, t.i AS to_user_id,
                   'member' || t.i || '@example.com' AS email, 'accepted' AS status,
                   t.joined_at - random() * least(interval '7 days',
                       ((t.i - t.parent)::float8 / :m) * interval '730 days') AS sent_at,
                   false AS never, false AS stuck, false AS link_only
            FROM scale_tree t WHERE t.via = 'invitation'
            UNION ALL
            SELECT g, from_user_id,
                   CASE WHEN state = 'joined' THEN 1 + (g * 7919) % :m END,
                   CASE WHEN g % 997 = 5 THEN 'shared' || g % 13 || '@example.net'
                        ELSE 'guest' || g || '@example.net' END,
                   state,
                   CASE WHEN g % 100000 = 17 THEN now() - (g % 7 + 1) * interval '1 hour'
                        ELSE {JOINED_AT.format(i="from_user_id")} + random()
                             * (now() - {JOINED_AT.format(i="from_user_id")}) END,
                   g % 1000 = 1, g % 100000 = 17, g % 200 = 11
            FROM (
                SELECT g, from_user_id,
                       CASE WHEN g % 997 = 5 THEN 'revoked'
                            WHEN g % 100000 = 17 OR g % 200 = 11 THEN 'sent'
                            WHEN r < 0.08 THEN 'revoked' WHEN r < 0.12 THEN 'undeliverable'
                            WHEN r < 0.14 THEN 'joined' ELSE 'sent' END AS state
                FROM (
                    SELECT g, random() AS r,
                           CASE WHEN g % 50 = 0 THEN {BUSY[0]} + (g / 50) % {len(BUSY)}
                                ELSE 1 + floor(:m * random() ^ 2)::int END AS from_user_id
                    FROM generate_series(1, greatest(:n - (SELECT count(*) FROM scale_tree
                                                          WHERE via = 'invitation'), 0)) AS g
                ) drawn
            ) others
        ) rows ORDER BY sent_at, g""",
    ),
    (
        "links",
        """INSERT INTO kaleo_invitation_link
            (id, from_user_id, token_digest, inviter_label, max_uses, uses, created_at)
        SELECT row_number() OVER (ORDER BY min(joined_at)), parent,
               md5('link' || parent) || md5(parent || 'link'),
               'member' || parent || '@example.com', count(*) + 3, count(*),
               min(joined_at) - interval '1 day'
        FROM scale_tree WHERE via = 'link' GROUP BY parent""",
    ),
    (
        "link uses",
        """INSERT INTO kaleo_link_use (link_id, user_id, email, joined_at)
        SELECT l.id, t.i, 'member' || t.i || '@example.com', t.joined_at
        FROM scale_tree t JOIN kaleo_invitation_link l ON l.from_user_id = t.parent
        WHERE t.via = 'link'""",
    ),
    (
        "referrals",
        """INSERT INTO kaleo_referral
            (id, invitee_id, inviter_id, invitee_label, inviter_label, joined_at,
             invitation_id, link_id, parent_id)
        SELECT t.i, t.i, t.parent, 'member' || t.i || '@example.com',
               'member' || t.parent || '@example.com', t.joined_at, inv.id, l.id, p.i
        FROM scale_tree t
        LEFT JOIN scale_tree p ON p.i = t.parent
        LEFT JOIN kaleo_join_invitation inv
               ON t.via = 'invitation' AND inv.to_user_id = t.i AND inv.status = 'accepted'
        LEFT JOIN kaleo_invitation_link l ON t.via = 'link' AND l.from_user_id = t.parent""",
    ),
    # Counters as the invitations left them: a row for anyone who invited and for
    # nine in ten of the others; one in two thousand suspended.
    (
        "stat rows",
        """INSERT INTO kaleo_invitation_stat
            (user_id, invites_allocated, invites_sent, invites_accepted,
             inviting_suspended_at, suspension_reason)
        SELECT u.id, CASE WHEN u.id = 1 THEN -1 ELSE sent + u.id % 7 END, sent, accepted,
               CASE WHEN u.id % 2000 = 7 THEN now() - interval '2 days' END,
               CASE WHEN u.id % 2000 = 7 THEN 'sent spam' END
        FROM (
            SELECT u.id, coalesce(i.sent, 0) + coalesce(l.sent, 0) AS sent,
                   coalesce(i.accepted, 0) + coalesce(l.accepted, 0) AS accepted
            FROM "user" u
            LEFT JOIN (SELECT from_user_id,
                              count(*) FILTER (WHERE status IN ('sent', 'accepted', 'joined'))
                                  AS sent,
                              count(*) FILTER (WHERE status = 'accepted') AS accepted
                       FROM kaleo_join_invitation GROUP BY from_user_id) i
                   ON i.from_user_id = u.id
            LEFT JOIN (SELECT from_user_id, sum(max_uses) AS sent, sum(uses) AS accepted
                       FROM kaleo_invitation_link GROUP BY from_user_id) l
                   ON l.from_user_id = u.id
            WHERE i.from_user_id IS NOT NULL OR l.from_user_id IS NOT NULL OR u.id % 10 <> 0
        ) u""",
    ),
    (
        "audit entries",
        """INSERT INTO kaleo_audit_entry
            (id, at, action, actor_id, actor_label, target_id, target_label, reason, detail)
        SELECT a, CAST(:start AS timestamptz) + (a::float8 / :audit) * interval '730 days',
               (ARRAY['set_allocation', 'grant', 'suspend', 'resume', 'revoke', 'resend',
                      'extend'])[1 + a % 7],
               1, 'member1@example.com', target, 'member' || target || '@example.com',
               CASE WHEN a % 7 = 2 THEN 'sent spam' END, '{"amount": 3}'
        FROM (SELECT a, 1 + (a * 7919) % :m AS target
              FROM generate_series(1, :audit) AS a) entries""",
    ),
    (
        "sequences",
        """SELECT setval(pg_get_serial_sequence(name, 'id'), max_id)
        FROM (VALUES ('"user"', (SELECT max(id) FROM "user")),
                     ('kaleo_referral', (SELECT max(id) FROM kaleo_referral)),
                     ('kaleo_invitation_link', (SELECT max(id) FROM kaleo_invitation_link)),
                     ('kaleo_audit_entry', (SELECT max(id) FROM kaleo_audit_entry)))
             AS s (name, max_id) WHERE max_id IS NOT NULL""",
    ),
    ("drop tree", "DROP TABLE scale_tree"),
]


# The unique and foreign-key constraints of the tables (a unique one first: a foreign
# key may need it), and the indexes that back no constraint.
DEFINITIONS = """
    SELECT (SELECT relname FROM pg_class WHERE oid = c.conrelid), c.conname,
           CASE c.contype WHEN 'u' THEN 'unique' ELSE 'foreign key' END,
           pg_get_constraintdef(c.oid)
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname = current_schema() AND c.contype IN ('u', 'f')
    UNION ALL
    SELECT i.tablename, i.indexname, 'index', i.indexdef
    FROM pg_indexes i
    WHERE i.schemaname = current_schema()
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
    ORDER BY 3 DESC
"""


def build(members: int, invitations: int) -> None:
    """Fill the tables, one set-based statement per step, printing each step's time."""
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=730)
    params = {
        "m": members,
        "n": invitations,
        "roots": min(1000, members // 100),
        "chain": members // 2 - (members // 2) % 5 + 1,
        "audit": max(members // 100, 10),
        "start": start,
    }
    total = time.perf_counter()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        connection.exec_driver_sql("SELECT setseed(0.42)")
        # Indexes and foreign keys are built once at the end (a sort and a join each)
        # rather than row by row.
        definitions = connection.execute(sa.text(DEFINITIONS)).all()
        for table, name, kind, _ in definitions:
            if kind == "index":
                connection.exec_driver_sql(f'DROP INDEX "{name}"')
            else:
                connection.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, sql in BUILD:
            began = time.perf_counter()
            connection.execute(sa.text(sql), params)
            print(f"  {name}: {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        for table, name, kind, definition in sorted(definitions, key=lambda d: d[2] != "index"):
            if kind == "index":
                connection.exec_driver_sql(definition)
            else:
                connection.exec_driver_sql(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                )
        print(f"  indexes and constraints: {time.perf_counter() - began:.1f} s", flush=True)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        began = time.perf_counter()
        connection.exec_driver_sql("VACUUM ANALYZE")
        print(f"  vacuum analyze: {time.perf_counter() - began:.1f} s")
    print(f"data built in {time.perf_counter() - total:.0f} s", flush=True)


# -- the measures --------------------------------------------------------------------------


class Recorder:
    """The statements (with their parameters) an engine executes inside ``with``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, t.Any]] = []

    def _record(
        self, conn: t.Any, cursor: t.Any, statement: str, parameters: t.Any, *_: t.Any
    ) -> None:
        self.statements.append((statement, parameters))

    def __enter__(self) -> Recorder:
        self.statements = []
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


def size(result: object) -> int:
    """How many rows a read returned: a page's, a lineage's nodes, a list's."""
    for attribute in ("rows", "subtree", "days"):
        if hasattr(result, attribute):
            rows = getattr(result, attribute)
            return len(rows) + len(getattr(result, "ancestors", ()))
    return len(result) if isinstance(result, list) else int(result is not None)


def measure(name: str, call: t.Callable[[], object], repeat: int, explain: bool) -> tuple:
    """Median and 95th percentile (ms) of ``repeat`` runs after one warm-up, the rows
    and the SQL statements of a run; with ``explain``, each statement's plan."""
    times: list[float] = []
    counts = set()
    rows = 0
    for run in range(repeat + 1):
        if run == 2 and times[0] > SLOW_MS:
            break  # a read this slow is timed twice (its figures say it)
        with Recorder(db.engine) as recorder:
            began = time.perf_counter()
            try:
                result = call()
            except NotImplementedError:  # a read this branch does not have yet
                db.session.remove()
                return name, 0, float("nan"), float("nan"), "not implemented"
            elapsed = (time.perf_counter() - began) * 1000
        rows = size(result)
        db.session.remove()
        if run or elapsed > SLOW_MS:
            times.append(elapsed)
            counts.add(len(recorder.statements))
    median = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    if explain:
        for statement, parameters in recorder.statements:
            print(f"\n-- {name}\n{plan(statement, parameters)}")
    statements = "-".join(str(n) for n in sorted({min(counts), max(counts)}))
    print(f"  {name}: {rows:,} rows, {median:.1f} ms, {p95:.1f} ms, {statements}", flush=True)
    return name, rows, median, p95, statements


def plan(statement: str, parameters: t.Any) -> str:
    """EXPLAIN ANALYZE of one statement, as the driver ran it."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())
    finally:
        connection.rollback()
        connection.close()


def cursor_at(where: str, offset: str) -> str:
    """The cursor after the invitation at ``offset`` among those ``where`` holds for
    (newest first), as the page before it would give it."""
    from flask_kaleo.core import keyset  # the cursor's form: a benchmark may know it

    row = db.session.execute(
        sa.text(
            f"""SELECT sent_at, id FROM kaleo_join_invitation WHERE {where}
            ORDER BY sent_at DESC, id DESC
            OFFSET (SELECT {offset} FROM kaleo_join_invitation WHERE {where}) LIMIT 1"""
        )
    ).one()
    db.session.remove()
    return keyset.encode(row.sent_at, row.id)


def operations(members: int) -> list[tuple[str, t.Callable[[], object]]]:
    """Every staff read, named as the tables print it."""
    deep_id = members // 2 - (members // 2) % 5 + 1 + CHAIN
    middle = cursor_at("true", "count(*) / 2")
    pending = "status = 'sent' AND (expires_at IS NULL OR expires_at > now())"
    last_pending = cursor_at(pending, "greatest(count(*) - 11, 0)")
    now = dt.datetime.now(dt.timezone.utc)

    def user(user_id: int) -> User:
        return t.cast(User, db.session.get(User, user_id))

    ops: list[tuple[str, t.Callable[[], object]]] = [
        ("members, first page", lambda: kaleo.members()),
        ("members, search `member12345`", lambda: kaleo.members(search="member12345")),
        ("members, search with no match", lambda: kaleo.members(search="nobody")),
        ("members, page halfway", lambda: kaleo.members(after=member_cursor(members))),
        ("invitations, first page", lambda: kaleo.invitations()),
        ("invitations, page halfway", lambda: kaleo.invitations(after=middle)),
    ]
    for state in t.get_args(InvitationState):
        ops.append((f"invitations, state `{state}`", lambda s=state: kaleo.invitations(state=s)))
    ops += [
        (
            "invitations, state `pending`, last page",
            lambda: kaleo.invitations(state="pending", after=last_pending),
        ),
        ("invitations, busy inviter", lambda: kaleo.invitations(inviter=user(BUSY[0]))),
        ("invitations, one inviter", lambda: kaleo.invitations(inviter=user(members // 3))),
        (
            "invitations, address (170 rows)",
            lambda: kaleo.invitations(address="shared3@example.net"),
        ),
        (
            "invitations, address (1 row)",
            lambda: kaleo.invitations(address="guest4242@example.net"),
        ),
        (
            "invitations, sent in a month a year ago",
            lambda: kaleo.invitations(
                sent_from=now - dt.timedelta(days=395), sent_until=now - dt.timedelta(days=365)
            ),
        ),
        ("lineage: ancestors of a deep member", lambda: kaleo.lineage(user(deep_id), depth=0)),
        ("lineage: busy inviter, 3 levels", lambda: kaleo.lineage(user(BUSY[0]), depth=3)),
        ("lineage: a member, 3 levels", lambda: kaleo.lineage(user(1001), depth=3)),
        ("invited_by, a deep member", lambda: kaleo.invited_by(user(deep_id))),
        ("invitees, busy inviter", lambda: kaleo.invitees(user(BUSY[0]))),
        ("accountability, top 100 by sent", lambda: kaleo.accountability(limit=100)),
        (
            "accountability, 3+ invitees in trouble",
            lambda: kaleo.accountability(min_in_trouble=3, limit=100),
        ),
        (
            "accountability, under 70% of 5+ sent",
            lambda: kaleo.accountability(max_rate=0.7, min_sent=5, limit=100),
        ),
        ("activity, 30 days", lambda: kaleo.activity(30)),
        ("activity, 90 days", lambda: kaleo.activity(90)),
        ("audit log, first page", lambda: kaleo.audit_log()),
        ("audit log, one action", lambda: kaleo.audit_log(action="suspend")),
    ]
    return ops


def member_cursor(members: int) -> str:
    """The cursor after the middle member (its id)."""
    from flask_kaleo.core import keyset

    return keyset.encode(members // 2)


def print_table(rows: list[tuple]) -> None:
    print("\n| operation | rows | median ms | p95 ms | SQL statements |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, count, median, p95, statements in rows:
        print(f"| {name} | {count:,} | {median:.1f} | {p95:.1f} | {statements} |")


# -- the CSV export and the console's pages --------------------------------------------


class Memory:
    """The RSS high-water mark of this process (VmHWM), reset on entering."""

    def __enter__(self) -> Memory:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        self.start = self.high_water()
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    @staticmethod
    def high_water() -> int:
        """VmHWM in bytes."""
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise LookupError("no VmHWM in /proc/self/status")


def csv_chunks(app: Flask) -> t.Iterator[bytes]:
    """Every invitation as CSV: the console's export, asked for by a signed-in staff
    member, or a walk of keyset pages of 500 where the app has no such page."""
    if "kaleo.console_invitations_csv" in app.view_functions:
        client = app.test_client()
        client.get(f"/login/{STAFF}")
        with app.test_request_context():
            from flask import url_for

            url = url_for("kaleo.console_invitations_csv")
        response = client.get(url, buffered=False)
        assert response.status_code == 200, response.status
        try:
            yield from response.response  # type: ignore[misc]
        finally:
            response.close()
        return
    with app.app_context():
        after = None
        while True:
            page = kaleo.invitations(after=after, limit=500)
            sink = _Lines()
            csv.writer(sink).writerows(
                (i.id, i.email, i.inviter_label, i.display_status, i.sent_at, i.expires_at)
                for i in page.rows
            )
            yield sink.data
            db.session.remove()
            if page.after is None:
                return
            after = page.after


class _Lines:
    def __init__(self) -> None:
        self.data = b""

    def write(self, text: str) -> None:
        self.data += text.encode()


def export_csv(app: Flask, trace: bool) -> None:
    """Stream every invitation to a null sink; print the time, the bytes and rows,
    and the memory: the RSS high-water mark (and tracemalloc's peak with ``trace``),
    each tenth of the way, to show it does not grow with the rows."""
    source = (
        "the console's /staff/invitations.csv"
        if ("kaleo.console_invitations_csv" in app.view_functions)
        else "keyset pages of 500"
    )
    print(
        f"\nCSV export of every invitation ({source}; tracemalloc {'on' if trace else 'off'};"
        f" load average {load_average()})"
    )
    with app.app_context():
        total = db.session.scalar(sa.text("SELECT count(*) FROM kaleo_join_invitation"))
        db.session.remove()
    if trace:
        tracemalloc.start()
    size = lines = 0
    checkpoint = total // 10
    with Memory() as memory:
        began = time.perf_counter()
        for chunk in csv_chunks(app):
            size += len(chunk)
            lines += chunk.count(b"\n")
            if lines >= checkpoint:
                peak = tracemalloc.get_traced_memory()[1] if trace else 0
                high = memory.high_water()
                print(
                    f"  {lines:>10,} lines  {time.perf_counter() - began:6.1f} s"
                    f"  RSS high water {high / MIB:6.1f} MiB (+{(high - memory.start) / MIB:.1f})"
                    + (f"  tracemalloc peak {peak / MIB:.1f} MiB" if trace else ""),
                    flush=True,
                )
                checkpoint += total // 10
        seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    print(
        f"  all {lines:,} lines ({size / MIB:.0f} MiB) in {seconds:.1f} s;"
        f" RSS high water {memory.high_water() / MIB:.1f} MiB"
        f" ({(memory.high_water() - memory.start) / MIB:+.1f} during the export)"
        + (f"; tracemalloc peak {peak / MIB:.1f} MiB" if trace else "")
    )


def console_pages(app: Flask, members: int, repeat: int) -> list[tuple]:
    """Each console page as staff, with the test client: median, p95, statements."""
    if "kaleo.console_overview" not in app.view_functions:
        print("\n(no console in this app: its pages are not measured)")
        return []
    deep_id = members // 2 - (members // 2) % 5 + 1 + CHAIN
    pages = [
        ("overview", "/invites/staff/"),
        ("members", "/invites/staff/members"),
        ("members, search", "/invites/staff/members?q=member12345"),
        ("member page, busy inviter, 3 levels", f"/invites/staff/members/{BUSY[0]}?depth=3"),
        ("member page, busy inviter, 1 level", f"/invites/staff/members/{BUSY[0]}"),
        ("member page, deep member", f"/invites/staff/members/{deep_id}"),
        ("member page, a member", "/invites/staff/members/1001?depth=3"),
        ("invitations", "/invites/staff/invitations"),
        ("invitations, pending", "/invites/staff/invitations?state=pending"),
        (
            "invitations, busy inviter",
            f"/invites/staff/invitations?inviter=member{BUSY[0]}%40example.com",
        ),
        ("accountability", "/invites/staff/accountability"),
        ("audit log", "/invites/staff/audit"),
    ]
    with app.app_context():
        engine = db.engine
    client = app.test_client()  # each request its own app context and session
    client.get(f"/login/{STAFF}")
    app.logger.disabled = True  # a page this branch cannot serve yet answers 500, quietly
    rows = []
    for name, url in pages:
        times, counts = [], set()
        status = 0
        for run in range(repeat + 1):
            with Recorder(engine) as recorder:
                began = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - began) * 1000
            status = response.status_code
            if run:
                times.append(elapsed)
                counts.add(len(recorder.statements))
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        statements = "-".join(str(n) for n in sorted({min(counts), max(counts)}))
        rows.append(
            (f"{name}: `GET {url}` ({status})", 0, statistics.median(times), p95, statements)
        )
    return rows


@contextlib.contextmanager
def scratch_database(server_url: str, keep: bool, reuse: bool) -> t.Iterator[str]:
    """``kaleo_scale`` on the server of ``server_url``: made fresh (or, with ``reuse``,
    as it is), dropped afterwards unless ``keep``; yields its URL."""
    url = sa.make_url(server_url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    if not reuse:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE}")
            connection.exec_driver_sql(f"CREATE DATABASE {DATABASE}")
    try:
        yield url.set(database=DATABASE).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.dispose()


# The index the staff reads need beyond the models' own (docs/performance.md says
# which read it serves): the app's own, for the members search.
INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_user_email_lower_pattern"
    ' ON "user" (lower(email) text_pattern_ops)',
]


def add_indexes() -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for definition in INDEXES:
            began = time.perf_counter()
            connection.exec_driver_sql(definition)
            print(f"  {definition}: {time.perf_counter() - began:.1f} s")
        connection.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgresql", metavar="URL", default="postgresql+psycopg://postgres@127.0.0.1/postgres"
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--invitations", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=20, help="runs of each read")
    parser.add_argument("--indexes", action="store_true", help="add INDEXES before measuring")
    parser.add_argument("--keep", action="store_true", help="leave kaleo_scale in place")
    parser.add_argument("--reuse", action="store_true", help="measure kaleo_scale as it is")
    parser.add_argument("--explain", action="store_true", help="print each statement's plan")
    parser.add_argument("--no-csv", dest="csv", action="store_false")
    parser.add_argument("--trace", action="store_true", help="tracemalloc during the export")
    parser.add_argument(
        "--only", metavar="TEXT", help="what has TEXT in its name ('console pages', 'CSV export')"
    )
    options = parser.parse_args()

    def wanted(name: str) -> bool:
        return options.only is None or options.only in name

    with scratch_database(options.postgresql, options.keep or options.reuse, options.reuse) as url:
        app = create_app(url)
        with app.app_context():
            if not options.reuse:
                db.create_all()
                build(options.members, options.invitations)
            if options.indexes:
                add_indexes()
            print(f"\n{server_version()}; load average {load_average()}")
            rows = [
                measure(name, call, options.repeat, options.explain)
                for name, call in operations(options.members)
                if wanted(name)
            ]
            if rows:
                print_table(rows)
        if wanted("console pages"):
            print_table(console_pages(app, options.members, max(options.repeat // 4, 3)))
        if options.csv and wanted("CSV export"):
            export_csv(app, options.trace)
        with app.app_context():
            db.engine.dispose()


def server_version() -> str:
    return str(db.session.scalar(sa.text("SELECT version()"))).split(" on ")[0]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
