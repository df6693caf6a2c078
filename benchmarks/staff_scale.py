"""The staff side on PostgreSQL with a million members and three million invitations.

    python benchmarks/staff_scale.py                      # 1,000,000 members, 3,000,000 invitations
    python benchmarks/staff_scale.py --members 100000 --invitations 300000 --repeat 10
    python benchmarks/staff_scale.py --indexes            # with the indexes of docs/performance.md
    python benchmarks/staff_scale.py --keep               # leave the database for EXPLAIN

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
from benchmarks.support import StatementCounter  # noqa: E402
from flask_kaleo import Kaleo  # noqa: E402
from flask_kaleo import blueprint  # noqa: E402

DATABASE = "kaleo_scale"
CHAIN = 50
"""The depth of the one long chain of invitations, below the usual tree."""
BUSY = (2, 3, 4, 5)
"""The busy inviters: each brought in thousands (at a million members)."""
STAFF = 1

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


@contextlib.contextmanager
def scratch_database(server_url: str, keep: bool) -> t.Iterator[str]:
    """``kaleo_scale`` on the server of ``server_url``, made fresh, dropped afterwards
    unless ``keep``; yields its URL."""
    url = sa.make_url(server_url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgresql", metavar="URL", default="postgresql+psycopg://postgres@127.0.0.1/postgres"
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--invitations", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="do not drop kaleo_scale")
    options = parser.parse_args()
    with scratch_database(options.postgresql, options.keep) as url:
        app = create_app(url)
        with app.app_context():
            db.create_all()
            build(options.members, options.invitations)
            db.engine.dispose()


if __name__ == "__main__":
    main()
