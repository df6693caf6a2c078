"""flask-kaleo's example app: a private-beta site where members invite friends.

Run it with ``flask --app example_app run`` (see the README). On first start it creates
its SQLite database in the instance folder with its migrations (``flask db upgrade``)
and seeds demo accounts (printed on the console).
"""

from __future__ import annotations

import os
import secrets
import typing as t
from pathlib import Path

from flask import Flask
from flask_babel import gettext
from flask_migrate import upgrade

from flask_kaleo import blueprint as kaleo_blueprint

from . import demo
from . import outbox
from .extensions import babel
from .extensions import csrf
from .extensions import db
from .extensions import login_manager
from .extensions import mail
from .extensions import migrate
from .language import LANGUAGES
from .language import N_
from .language import select_locale
from .models import User
from .models import kaleo

MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")


def create_app(config: dict[str, t.Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the app; ``config`` overrides the defaults (tests pass their own database),
    and ``instance_path`` replaces Flask's instance folder (``instance/`` beside the
    package), where the default database and the secret key live."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "DATABASE_URL", f"sqlite:///{os.path.join(app.instance_path, 'example.sqlite')}"
        ),
        MAIL_DEFAULT_SENDER="invitations@example.com",
        MAIL_SUPPRESS_SEND=True,  # development: mail is recorded on /outbox, never sent
        KALEO_INVITE_ONLY=True,
        # The account created through an invitation uses the invited address: the
        # signup form is prefilled with it, read-only, and another one is refused.
        KALEO_REQUIRE_INVITED_EMAIL=True,
        KALEO_SIGNUP_URL="example.signup",
        KALEO_SITE_NAME="Kaleo Example",
        # Members may also create an invitation without email and share its accept URL.
        KALEO_ALLOW_LINKS=True,
        # Accept URLs point here, never at whatever Host a request claims.
        KALEO_SITE_URL=os.environ.get("KALEO_SITE_URL", "http://127.0.0.1:5000"),
        EXAMPLE_SEED_DEMO=True,
    )
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _instance_secret(app)

    db.init_app(app)
    mail.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    login_manager.init_app(app)
    login_manager.login_view = "example.login"
    login_manager.login_message = N_("Please log in to see your invitations.")
    login_manager.localize_callback = gettext
    csrf.init_app(app)
    kaleo.init_app(app)
    # Flask-Babel: the visitor's language (?lang=fr, else the browser's) for kaleo's
    # strings and the example's own (example_app/translations, the "messages" domain).
    babel.init_app(app, locale_selector=select_locale)
    # kaleo's pages bind gettext to kaleo's domain, and the example's layout wraps them:
    # the layout's own words use these, the example's catalog.
    globals_ = app.jinja_env.globals
    globals_.update(example_gettext=globals_["gettext"], example_ngettext=globals_["ngettext"])
    app.jinja_env.globals["example_languages"] = LANGUAGES
    app.register_blueprint(kaleo_blueprint, url_prefix="/invites")
    outbox.init_app(app)
    app.register_blueprint(outbox.bp)

    from . import views

    app.register_blueprint(views.bp)

    with app.app_context():
        # The schema comes from example_app/migrations (Flask-Migrate), as it would in
        # a real app; upgrading an up-to-date database does nothing.
        upgrade(directory=MIGRATIONS)
        if app.config["EXAMPLE_SEED_DEMO"]:
            demo.seed_once()
    return app


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def _instance_secret(app: Flask) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts and no
    two installs share a key."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
