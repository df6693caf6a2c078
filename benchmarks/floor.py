"""The floor under benchmarks/load.py: a bare Flask app doing kaleo's invite SQL, nothing else.

    python benchmarks/floor.py --postgresql postgresql+psycopg://postgres@127.0.0.1/kaleo_floor
    python benchmarks/floor.py --postgresql URL --workers 4 --members 16 --duration 20

The same run as load.py (gunicorn sync workers on 127.0.0.1, ``--members`` members
signed in through a login route, each posting the invite form to a fresh address in a
closed loop, the same load generator, counting and table), but the app served is this
module's: plain Flask, its signed-cookie session, and SQLAlchemy Core on kaleo's own
tables. No ORM, no Flask-Login, no WTForms, no templates, no email built. Its invite
view runs the statements that kaleo's invite request runs with the per-address daily
limit on (the host app's settings), in the same order and transactions:

1. the member, by the id in the session;
2. the address lock (``INSERT ... ON CONFLICT DO UPDATE``);
3. the conditional UPDATE spending one invitation, ``RETURNING`` what is left;
4. the count of the address's sends in the last day;
5. the member with that address, if any (by ``lower(email)``);
6. the INSERT of the invitation, every column kaleo writes;
7. the INSERT into the send log; COMMIT;
8. the UPDATE recording the delivery; COMMIT.

The CSRF check is a plain comparison with a token kept in the session. The answer is
a small JSON object with kaleo's ``status``, ``email`` and ``invitations_remaining``.
What the bare app costs is what any app doing this SQL through gunicorn costs; kaleo's
distance to it is its own overhead. The schema is kaleo's (made with the benchmarks'
host app) in the given database, dropped afterwards; point it at a throwaway database.
gunicorn is stopped at the end, whatever happens.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import secrets
import sys
import typing as t
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask import request
from flask import session
from sqlalchemy.dialects.postgresql import insert

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL_VARIABLE = "KALEO_BENCH_DATABASE_URL"  # the same as benchmarks/support.py's
LIMIT_PER_ADDRESS = 3
"""Sends to one address a day: kaleo's default ``KALEO_RATE_LIMITS["address"]``."""

FORM_PAGE = (
    '<!doctype html><form method="post" action="{action}">'
    '<input name="csrf_token" type="hidden" value="{token}">'
    '<input name="{field}" type="email"><button>Go</button></form>'
)


def create_app(database_url: str | None = None) -> Flask:
    """The bare app on kaleo's tables at ``database_url`` (or $KALEO_BENCH_DATABASE_URL),
    which must exist already."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "benchmark secret"
    engine = sa.create_engine(database_url or os.environ[DATABASE_URL_VARIABLE])
    app.extensions["floor_engine"] = engine
    metadata = sa.MetaData()
    user, lock, stat, invitation, send = (
        sa.Table(name, metadata, autoload_with=engine)
        for name in (
            "user",
            "kaleo_address_lock",
            "kaleo_invitation_stat",
            "kaleo_join_invitation",
            "kaleo_invitation_send",
        )
    )
    engine.dispose()  # connections are opened by whoever serves, after any fork

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return str(session["csrf"])

    def csrf_ok() -> bool:
        return "csrf" in session and request.form.get("csrf_token") == session["csrf"]

    @app.route("/login", methods=["GET", "POST"])
    def login() -> tuple[str, int] | str:
        """Sign in by address alone, like the host app's login route."""
        if request.method == "GET":
            return FORM_PAGE.format(action="/login", token=csrf_token(), field="email")
        if not csrf_ok():
            return "bad CSRF token", 400
        with engine.connect() as connection:
            member = connection.execute(
                sa.select(user.c.id).where(user.c.email == request.form["email"])
            ).scalar()
        if member is None:
            return "no such member", 403
        session["user_id"] = member
        return "signed in"

    @app.route("/")
    def home() -> str:
        return FORM_PAGE.format(action="/invites/invite", token=csrf_token(), field="email_address")

    @app.route("/invites/invite", methods=["POST"])
    def invite() -> tuple[dict[str, t.Any], int] | dict[str, t.Any]:
        if not csrf_ok() or "user_id" not in session:
            return {"status": "ERROR", "message": "not allowed"}, 400
        address = request.form.get("email_address", "").strip()
        key = address.lower()
        if "@" not in key:
            return {"status": "ERROR", "message": "not an address"}
        now = datetime.datetime.now(datetime.timezone.utc)
        with engine.connect() as connection:
            member = connection.execute(
                sa.select(user.c.id, user.c.email).where(user.c.id == session["user_id"])
            ).first()
            if member is None:
                return {"status": "ERROR", "message": "not allowed"}, 400
            connection.execute(
                insert(lock)
                .values(email_key=key)
                .on_conflict_do_update(index_elements=["email_key"], set_={"email_key": key})
            )
            left = connection.execute(
                stat.update()
                .where(
                    stat.c.user_id == member.id,
                    sa.or_(
                        stat.c.invites_allocated == -1,
                        stat.c.invites_sent < stat.c.invites_allocated,
                    ),
                )
                .values(invites_sent=stat.c.invites_sent + 1)
                .returning(stat.c.invites_allocated, stat.c.invites_sent)
            ).first()
            if left is None:
                connection.rollback()
                return {"status": "ERROR", "message": "no invitations left"}
            sends = connection.execute(
                sa.select(
                    sa.select(sa.func.count())
                    .select_from(send)
                    .where(
                        send.c.email_key == key,
                        send.c.sent_at > now - datetime.timedelta(days=1),
                    )
                    .scalar_subquery()
                )
            ).scalar_one()
            if sends >= LIMIT_PER_ADDRESS:
                connection.rollback()
                return {"status": "ERROR", "message": "sent to that address too often"}
            connection.execute(
                sa.select(user.c.id, user.c.email)
                .where(sa.func.lower(user.c.email) == key)
                .limit(1)
            ).first()
            digest = hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest()
            invitation_id = connection.execute(
                invitation.insert()
                .values(
                    email=address,
                    email_key=key,
                    pending_email_key=key,
                    message=None,
                    sent_at=now,
                    expires_at=now + datetime.timedelta(days=7),
                    status="sent",
                    token_digest=digest,
                    resent_at=None,
                    replaced_token_digest=None,
                    inviter_label=member.email,
                    delivered_at=None,
                    delivery_attempts=1,
                    delivery_lease_until=now + datetime.timedelta(minutes=3),
                    undo_sending=None,
                    forced=False,
                    to_member=False,
                    link_only=False,
                    reminded_at=None,
                    locale=None,
                    from_user_id=member.id,
                    to_user_id=None,
                )
                .returning(invitation.c.id)
            ).scalar_one()
            connection.execute(
                send.insert()
                .values(
                    email_key=key, sent_at=now, invitation_id=invitation_id, from_user_id=member.id
                )
                .returning(send.c.id)
            )
            connection.commit()
            connection.execute(
                invitation.update()
                .where(invitation.c.id == invitation_id, invitation.c.token_digest == digest)
                .values(
                    delivered_at=datetime.datetime.now(datetime.timezone.utc),
                    delivery_lease_until=None,
                    undo_sending=None,
                )
            )
            connection.commit()
        remaining = (
            -1 if left.invites_allocated == -1 else left.invites_allocated - left.invites_sent
        )
        return {
            "status": "OK",
            "email": address,
            "invitations_remaining": remaining,
            "message": f"Invitation sent to {address}.",
        }

    return app


def statements_per_invite(app: Flask, email: str) -> list[str]:
    """The SQL statements of one invite request by ``email`` (a member), in process."""
    from benchmarks.support import StatementCounter
    from benchmarks.support import find_csrf_token

    client = app.test_client()
    token = find_csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "csrf_token": token})
    token = find_csrf_token(client.get("/").get_data(as_text=True))
    statements: list[str] = []
    for n in range(3):
        with StatementCounter(app.extensions["floor_engine"]) as counter:
            response = client.post(
                "/invites/invite",
                data={"email_address": f"probe{n}@example.net", "csrf_token": token},
            )
            statements = list(counter.statements)
        assert response.json and response.json["status"] == "OK", response.get_data()
    return statements


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.load import arguments
    from benchmarks.load import members_invite
    from benchmarks.load import report
    from benchmarks.support import create_app as create_host_app
    from benchmarks.support import db
    from benchmarks.support import make_user

    parser = arguments(__doc__)
    parser.add_argument("--show-sql", action="store_true", help="print the invite's SQL")
    options = parser.parse_args()

    host = create_host_app(options.postgresql)  # kaleo's schema and members, as load.py
    with host.app_context():
        db.drop_all()
        db.create_all()
        try:
            make_user("probe@example.com", allocation=10)
            floor = create_app(options.postgresql)
            statements = statements_per_invite(floor, "probe@example.com")
            floor.extensions["floor_engine"].dispose()
            if options.show_sql:
                print("\n\n".join(statements), end="\n\n")
            outcome = members_invite(options, app="benchmarks.floor:create_app()")
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()

    report("floor (Flask + SQLAlchemy Core)", options, outcome, len(statements))


if __name__ == "__main__":
    main()
