"""A host application written the way docs/quickstart.md tells users to: the app under test."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask import request
from flask_login import LoginManager
from flask_login import UserMixin
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from flask_kaleo import InvitationNotPending
from flask_kaleo import Kaleo
from flask_kaleo import blueprint

db = SQLAlchemy()
mail = Mail()
login_manager = LoginManager()
csrf = CSRFProtect()


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    # "user" is a reserved word on PostgreSQL: the kaleo tables must quote it right.
    __tablename__ = "user"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


# flask-kaleo finds members by lower(email): this index keeps that lookup off a full
# scan (the docs recommend it). MariaDB has no expression indexes, hence ddl_if.
db.Index("ix_user_email_lower", sa.func.lower(User.email)).ddl_if(dialect=("postgresql", "sqlite"))


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


def create_app(
    database_url: str, *, before_kaleo: t.Callable[[Flask], t.Any] | None = None, **config: t.Any
) -> Flask:
    """The host app with a ``Kaleo`` of its own (``app.extensions["kaleo"]``): the hooks
    a test sets live and die with its app. ``before_kaleo`` sets up another extension
    first (Flask-Babel)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test secret",
        SQLALCHEMY_DATABASE_URI=database_url,
        MAIL_DEFAULT_SENDER="invites@example.org",
        TESTING=True,
    )
    app.config.update(config)
    db.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    if before_kaleo is not None:
        before_kaleo(app)
    kaleo = Kaleo(db=db, user_model=User)
    kaleo.init_app(app)
    app.register_blueprint(blueprint, url_prefix="/invites")

    @app.route("/")
    def home() -> str:
        return render_template_string(PAGE)

    @app.route("/manage")
    def manage() -> str:
        """The same page with the sent list's Resend/Revoke forms."""
        return render_template_string(
            PAGE.replace("invites_sent(current_user)", "invites_sent(current_user, actions=True)")
        )

    @app.route("/signup")
    def signup() -> str:
        return "signup page"

    @app.route("/join", methods=["POST"])
    def join() -> tuple[str, int]:
        """A signup as docs/accepting.md writes one: kaleo.signup creates the user and
        accepts the invitation in one commit; a refused invitation creates no account."""
        try:
            user = kaleo.signup(request.form.get("email", ""), lambda email: User(email=email))
        except InvitationNotPending as error:
            return str(error), 410
        return f"welcome {user.email}", 201

    return app
