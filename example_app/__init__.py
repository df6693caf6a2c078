"""flask-kaleo's example app: a private-beta site where members invite friends.

Run it with ``flask --app example_app run`` (see the README).
"""

from __future__ import annotations

import os
import typing as t

from flask import Flask

from flask_kaleo import blueprint as kaleo_blueprint

from .extensions import csrf
from .extensions import db
from .extensions import login_manager
from .extensions import mail
from .extensions import migrate
from .models import User
from .models import kaleo


def create_app(config: dict[str, t.Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev: change me in production"),
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "DATABASE_URL", f"sqlite:///{os.path.join(app.instance_path, 'example.sqlite')}"
        ),
        MAIL_DEFAULT_SENDER="invitations@example.test",
        MAIL_SUPPRESS_SEND=True,  # development: mail is recorded, never sent
        KALEO_INVITE_ONLY=True,
        KALEO_SIGNUP_URL="example.signup",
        KALEO_SITE_NAME="Kaleo Example",
    )
    if config:
        app.config.update(config)

    db.init_app(app)
    mail.init_app(app)
    migrate.init_app(app, db)
    login_manager.init_app(app)
    login_manager.login_view = "login"
    csrf.init_app(app)
    kaleo.init_app(app)
    app.register_blueprint(kaleo_blueprint, url_prefix="/invites")

    from . import views

    app.register_blueprint(views.bp)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    with app.app_context():
        db.create_all()

    return app
