"""A host application on Flask-Security-Too, wired as docs/flask-security.md says: its
own login, register and confirm views, kaleo's invite form and sent list on the home
page."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask_mail import Mail
from flask_security import RoleMixin
from flask_security import Security
from flask_security import SQLAlchemyUserDatastore
from flask_security import UserMixin
from flask_security import auth_required
from flask_security import hash_password
from flask_security import user_registered
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from flask_kaleo import Kaleo
from flask_kaleo import blueprint
from flask_kaleo.contrib.security import wire

db = SQLAlchemy()
mail = Mail()
csrf = CSRFProtect()

roles_users = db.Table(
    "fst_roles_users",
    db.Column("user_id", db.ForeignKey("fst_user.id"), primary_key=True),
    db.Column("role_id", db.ForeignKey("fst_role.id"), primary_key=True),
)


class Role(db.Model, RoleMixin):  # type: ignore[name-defined,misc]
    __tablename__ = "fst_role"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)


class User(db.Model, UserMixin):  # type: ignore[name-defined,misc]
    __tablename__ = "fst_user"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    password = db.Column(db.String(255))
    active = db.Column(db.Boolean, nullable=False, default=True)
    fs_uniquifier = db.Column(db.String(64), unique=True, nullable=False)
    confirmed_at = db.Column(db.DateTime)
    roles = db.relationship(Role, secondary=roles_users)  # type: ignore[assignment]


HOME = """<!doctype html><html lang="en"><title>Home</title>
{% from "kaleo/macros.html" import invite_form, invites_sent, remaining_invites, kaleo_script %}
<p class="who">Signed in as {{ current_user.email }}</p>
<div class="invites">
  <h2>Invite a friend
    <span class="invitations_remaining">({{ remaining_invites(current_user) }})</span></h2>
  {{ invite_form(current_user) }}
  <div class="sent"><h3>Invitations sent</h3>{{ invites_sent(current_user) }}</div>
</div>
{{ kaleo_script() }}
</html>
"""


Receiver = t.Callable[..., t.Any]


def create_app(database_url: str, receivers: t.Sequence[Receiver] = (), **config: t.Any) -> Flask:
    """The app, with a ``Kaleo`` of its own (:func:`security_kaleo`); ``receivers`` are
    the host's own receivers of ``user_registered``, connected before ``wire(app)``
    (kept alive by the app, as module-level ones are)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="security test secret",
        SECURITY_PASSWORD_SALT="security test salt",
        SECURITY_REGISTERABLE=True,
        SECURITY_SEND_REGISTER_EMAIL=False,
        SECURITY_POST_LOGIN_VIEW="/",
        # No DNS look-ups for the test addresses (example.com has no mail server).
        SECURITY_EMAIL_VALIDATOR_ARGS={"check_deliverability": False},
        SECURITY_POST_REGISTER_VIEW="/",
        SQLALCHEMY_DATABASE_URI=database_url,
        MAIL_DEFAULT_SENDER="invites@example.org",
        TESTING=True,
        KALEO_DEFAULT_INVITE_ALLOCATION=3,
    )
    app.config.update(config)
    db.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    Kaleo(db=db, user_model=User).init_app(app)
    app.register_blueprint(blueprint, url_prefix="/invites")
    Security(app, SQLAlchemyUserDatastore(db, User, Role))
    app.extensions["test_receivers"] = receivers
    for receiver in receivers:
        user_registered.connect(receiver, app)
    wire(app)

    @app.route("/")
    @auth_required()
    def home() -> str:
        return render_template_string(HOME)

    return app


def security_kaleo(app: Flask) -> Kaleo[User]:
    """The ``Kaleo`` that ``app`` set up."""
    return t.cast("Kaleo[User]", app.extensions["kaleo"])


def add_member(app: Flask, email: str, password: str) -> int:
    """A registered, confirmed account made through Flask-Security-Too's datastore;
    its id."""
    with app.app_context():
        datastore = app.extensions["security"].datastore
        user = datastore.create_user(email=email, password=hash_password(password))
        user.confirmed_at = sa.func.now()
        db.session.commit()
        return int(user.id)
