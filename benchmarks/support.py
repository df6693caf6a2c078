"""What the benchmarks share: a host app, members, a CSRF token reader, a statement counter.

The host app is written the way the docs tell a site to write one (Flask-SQLAlchemy,
Flask-Login, Flask-Mail, CSRFProtect, Kaleo and its blueprint, a page with the three
macros), plus a plain login route so that a real HTTP client can sign in. Mail is
suppressed unless the configuration says otherwise. gunicorn (and ``flask --app``)
import it from here:

    KALEO_BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn 'benchmarks.support:create_app()'

``$KALEO_BENCH_CONFIG`` may hold a JSON object of settings that override the defaults,
so that a server and its queue workers, started as separate processes, share one
configuration: ``{"KALEO_DELIVERY": "rq", "MAIL_SUPPRESS_SEND": false, ...}``; a
duration is written ``{"seconds": 10}``.

The benchmarks use this module only, never the test suite's helpers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask import request
from flask_login import LoginManager
from flask_login import UserMixin
from flask_login import login_user
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from flask_kaleo import Kaleo
from flask_kaleo import blueprint

DATABASE_URL_VARIABLE = "KALEO_BENCH_DATABASE_URL"
CONFIG_VARIABLE = "KALEO_BENCH_CONFIG"

db = SQLAlchemy()
mail = Mail()
login_manager = LoginManager()
csrf = CSRFProtect()


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "user"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)


# kaleo finds members by lower(email), as the docs recommend indexing.
db.Index("ix_user_email_lower", sa.func.lower(User.email)).ddl_if(dialect=("postgresql", "sqlite"))

kaleo = Kaleo(db=db, user_model=User)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


PAGE = """<!doctype html>
{% from "kaleo/macros.html" import invite_form, invites_sent, remaining_invites %}
<div class="invites">
  <span class="invitations_remaining">({{ remaining_invites(current_user) }})</span>
  {{ invite_form(current_user) }}
  <div class="sent"><h3>Invitations Sent</h3>{{ invites_sent(current_user) }}</div>
</div>
"""

MEMBER_PAGE = """<!doctype html>
{% from "kaleo/macros.html" import invites_sent, remaining_invites %}
<h1>{{ member.email }}</h1>
<p>Invitations left: {{ remaining_invites(member) }}</p>
{{ invites_sent(member) }}
"""

LOGIN_PAGE = """<!doctype html>
<form method="post" action="/login">
  <input name="csrf_token" type="hidden" value="{{ csrf_token() }}">
  <input name="email" type="email">
  <button>Sign in</button>
</form>
"""


def _durations(value: dict[str, t.Any]) -> t.Any:
    """``{"seconds": 10}`` in ``$KALEO_BENCH_CONFIG``: a duration setting."""
    return dt.timedelta(seconds=value["seconds"]) if set(value) == {"seconds"} else value


def create_app(database_url: str | None = None, **config: t.Any) -> Flask:
    """The host app on ``database_url``, or on the URL in $KALEO_BENCH_DATABASE_URL."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="benchmark secret",
        SQLALCHEMY_DATABASE_URI=database_url or os.environ[DATABASE_URL_VARIABLE],
        MAIL_DEFAULT_SENDER="invites@example.org",
        MAIL_SUPPRESS_SEND=True,
        # Links come from here, never from the Host header; required outside debug.
        KALEO_SITE_URL="http://127.0.0.1",
        # Members here send hundreds of invitations a second: a throughput run, not a
        # day of a real site (fresh addresses each, so the per-address limit stays on).
        KALEO_RATE_LIMITS={"member": None},
    )
    app.config.update(json.loads(os.environ.get(CONFIG_VARIABLE) or "{}", object_hook=_durations))
    app.config.update(config)
    db.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    kaleo.init_app(app)
    app.register_blueprint(blueprint, url_prefix="/invites")

    @app.route("/")
    def home() -> str:
        return render_template_string(PAGE)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> tuple[str, int] | str:
        """Sign in by address alone (a benchmark has no passwords to check)."""
        if request.method == "GET":
            return render_template_string(LOGIN_PAGE)
        user = db.session.scalar(sa.select(User).where(User.email == request.form["email"]))
        if user is None:
            return "no such member", 403
        login_user(user)
        return "signed in"

    @app.route("/signup")
    def signup() -> str:
        return "signup page"

    @app.route("/members/<int:user_id>")
    def member(user_id: int) -> str:
        """Another member's page, for anyone: a plain page of the site that reads the
        database (the member, their stat and their sent list) and sends no email."""
        user = db.get_or_404(User, user_id)
        return render_template_string(MEMBER_PAGE, member=user)

    return app


def give_invitations(user: User, n: int) -> None:
    """Let ``user`` send ``n`` invitations (-1: unlimited), and commit."""
    kaleo.set_allocation(user, n)


def make_user(email: str, allocation: int | None = None) -> User:
    """A committed member; with ``allocation``, allowed that many invitations."""
    user = User(email=email)
    db.session.add(user)
    db.session.commit()
    if allocation is not None:
        give_invitations(user, allocation)
    db.session.refresh(user)  # loaded, so it can be used after the app context ends
    return user


def find_csrf_token(page: str) -> str:
    """The value of the CSRF field in a page (the invite form or the login form)."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if match is None:
        raise LookupError("the page has no CSRF field")
    return match.group(1)


AJAX = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, */*; q=0.01"}
"""The headers of kaleo's original jQuery snippet's POST."""


class StatementCounter:
    """Counts the SQL statements an engine executes inside ``with counter:``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        self.statements.clear()
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)
