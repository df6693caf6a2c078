"""A newcomer's first migration: a host app of their own with Flask-Migrate, and the
commands they type (``flask db init``, ``flask db migrate``, ``flask db upgrade``) as
real processes, the generated script run with no edits."""

from __future__ import annotations

import os
import sys
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate.api import AutogenContext
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from flask_kaleo import Kaleo
from flask_kaleo.contrib.alembic import render_item
from tests.helpers import run_command

KALEO_TABLES = {
    "kaleo_invitation_stat",
    "kaleo_join_invitation",
    "kaleo_invitation_send",
    "kaleo_address_lock",
}

# Kaleo is set up before Flask-Migrate here: the harder order for handing Flask-Migrate
# the type renderer (test_render_item_reaches_flask_migrate_in_either_order has both).
HOST_APP = """
import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from flask_kaleo import Kaleo

db = SQLAlchemy()
migrate = Migrate()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)


kaleo = Kaleo(db=db, user_model=User)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config["KALEO_SITE_URL"] = "https://example.com"
    db.init_app(app)
    kaleo.init_app(app)
    migrate.init_app(app, db)
    return app
"""


def flask_db(directory: Path, database_url: str, *arguments: str) -> str:
    """``flask --app newcomer db ARGUMENTS`` in ``directory``; what it printed."""
    environment = {**os.environ, "DATABASE_URL": database_url}
    environment.pop("FLASK_APP", None)
    command = [sys.executable, "-m", "flask", "--app", "newcomer", "db", *arguments]
    return run_command(command, environment, directory / "flask-db.log", cwd=directory)


def generate_first_migration(directory: Path, database_url: str) -> str:
    """The newcomer's app in ``directory``, then ``flask db init`` and ``flask db
    migrate -m init`` on ``database_url``: the script's source."""
    (directory / "newcomer.py").write_text(HOST_APP, "utf-8")
    flask_db(directory, database_url, "init")
    flask_db(directory, database_url, "migrate", "-m", "init")
    [script] = (directory / "migrations" / "versions").glob("*_init.py")
    source = script.read_text("utf-8")
    assert "flask_kaleo" not in source  # nothing the script would have to import
    return source


def upgrade_and_compare(directory: Path, database_url: str) -> None:
    """``flask db upgrade``, then ``flask db migrate`` finds nothing left to do; the
    tables are there, the times with their zone or their microseconds."""
    flask_db(directory, database_url, "upgrade")
    assert "No changes in schema detected." in flask_db(directory, database_url, "migrate")
    assert len(list((directory / "migrations" / "versions").glob("*.py"))) == 1

    engine = sa.create_engine(database_url)
    try:
        inspector = sa.inspect(engine)
        assert {"user", "alembic_version"} | KALEO_TABLES <= set(inspector.get_table_names())
        columns = {c["name"]: c for c in inspector.get_columns("kaleo_join_invitation")}
        if engine.dialect.name == "postgresql":
            assert columns["sent_at"]["type"].timezone  # type: ignore[attr-defined]
        if engine.dialect.name in ("mysql", "mariadb"):
            assert columns["sent_at"]["type"].fsp == 6  # type: ignore[attr-defined]
    finally:
        engine.dispose()


@pytest.mark.all_backends
def test_the_first_migration_runs_as_generated(empty_database: str, tmp_path: Path) -> None:
    source = generate_first_migration(tmp_path, empty_database)
    assert "mysql.DATETIME(fsp=6)" in source
    upgrade_and_compare(tmp_path, empty_database)


@pytest.mark.backends("postgresql", "mariadb")
def test_a_migration_generated_on_sqlite_runs_on_the_server(
    empty_database: str, tmp_path: Path
) -> None:
    """Generated in development on SQLite, deployed on PostgreSQL or MariaDB: the
    boolean defaults are ``sa.false()``, not SQLite's ``0`` (PostgreSQL refuses it)."""
    source = generate_first_migration(tmp_path, f"sqlite:///{tmp_path / 'development.sqlite'}")
    assert "server_default=sa.false()" in source
    upgrade_and_compare(tmp_path, empty_database)


def render(obj: t.Any, hook: t.Any, item: str = "type") -> tuple[t.Any, set[str]]:
    """What ``hook`` renders for ``obj`` (a column type, or another ``item``), and the
    imports it asks for, in a script generated on SQLite."""
    context = AutogenContext(
        MigrationContext.configure(dialect_name="sqlite"),
        opts={"sqlalchemy_module_prefix": "sa.", "render_item": hook},
    )
    return hook(item, obj, context), context.imports


def member_app(**config: t.Any) -> tuple[Flask, SQLAlchemy, Kaleo[t.Any]]:
    """A small app of its own (its own ``db`` and models), not yet given to kaleo."""
    db = SQLAlchemy()

    class Member(db.Model):  # type: ignore[name-defined,misc]
        id = db.Column(db.Integer, primary_key=True)
        email = db.Column(db.String(254), nullable=False)

    kaleo = Kaleo(db=db, user_model=Member)
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI="sqlite://", KALEO_SITE_URL="https://example.com", **config
    )
    db.init_app(app)
    return app, db, kaleo


@pytest.mark.parametrize("migrate_first", [True, False])
def test_render_item_reaches_flask_migrate_in_either_order(migrate_first: bool) -> None:
    """Flask-Migrate's env.py passes ``configure_args`` to Alembic: flask-kaleo's renderer
    is there by the time a ``flask db`` command runs, after the app's own hook."""
    app, db, kaleo = member_app()

    def host_hook(type_: str, obj: t.Any, context: AutogenContext) -> str | t.Literal[False]:
        return "my.Money()" if isinstance(obj, sa.Numeric) else False

    migrate = Migrate(db=db, render_item=host_hook)
    for init in [migrate.init_app, kaleo.init_app][:: 1 if migrate_first else -1]:
        init(app)
    with app.app_context():
        hook = app.extensions["migrate"].configure_args["render_item"]
    with app.app_context():  # a second context changes nothing
        assert app.extensions["migrate"].configure_args["render_item"] is hook

    time_column = kaleo.JoinInvitation.__table__.c.sent_at.type
    rendered, imports = render(time_column, hook)
    assert rendered == (
        "sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')"
    )
    assert imports == {"from sqlalchemy.dialects import mysql"}
    assert render(sa.Numeric(), hook)[0] == "my.Money()"
    assert render(sa.Integer(), hook)[0] is False  # Alembic's own rendering
    forced = kaleo.JoinInvitation.__table__.c.forced.server_default
    assert render(forced, hook, "server_default") == ("sa.false()", set())
    assert render(sa.DefaultClause(sa.true()), hook, "server_default")[0] == "sa.true()"
    assert render(sa.DefaultClause("0"), hook, "server_default")[0] is False


def test_render_item_leaves_other_items_to_alembic() -> None:
    assert render(sa.DateTime(timezone=True), render_item) == (False, set())
    assert render(sa.Column("x", sa.Integer), render_item, "column") == (False, set())
