"""The example app's Flask-Migrate scripts build exactly the schema its models declare,
on every database (the kaleo tables live in the app's own migrations)."""

from __future__ import annotations

import datetime as dt
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade
from flask_migrate import upgrade

from example_app import create_app
from example_app.extensions import db
from tests.helpers import drop_everything
from tests.helpers import invitation_columns

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "example_app" / "migrations")
KALEO_TABLES = {
    "kaleo_invitation_stat",
    "kaleo_join_invitation",
    "kaleo_referral",
    "kaleo_audit_entry",
}

pytestmark = pytest.mark.all_backends


@pytest.fixture
def example_app(empty_database: str, tmp_path: Path) -> t.Iterator[Flask]:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True},
        instance_path=str(tmp_path / "instance"),
    )
    with app.app_context():
        drop_everything(db.engine)  # the tables the app's first start made
        yield app
        db.session.remove()
        drop_everything(db.engine)
        db.engine.dispose()


def test_upgrade_builds_what_the_models_declare(example_app: Flask) -> None:
    upgrade(directory=MIGRATIONS)

    tables = set(sa.inspect(db.engine).get_table_names())
    assert {"user", "alembic_version"} | KALEO_TABLES <= tables
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
    if db.engine.dialect.name in ("mysql", "mariadb"):
        # Autogenerate does not compare fractional-second precision: check it here.
        columns = sa.inspect(db.engine).get_columns("kaleo_join_invitation")
        precision = {c["name"]: getattr(c["type"], "fsp", None) for c in columns}
        assert precision["sent_at"] == precision["expires_at"] == precision["resent_at"] == 6
        # Nor collations: the address keys are compared byte for byte.
        collation = {c["name"]: getattr(c["type"], "collation", None) for c in columns}
        assert collation["email_key"] == collation["pending_email_key"] == "utf8mb4_bin"
    if db.engine.dialect.name == "postgresql":
        # Nor storage parameters: the stat table leaves room for HOT updates.
        with db.engine.connect() as connection:
            options = connection.scalar(
                sa.text("SELECT reloptions FROM pg_class WHERE relname = 'kaleo_invitation_stat'")
            )
        assert options == ["fillfactor=60"]


def test_the_upgraded_schema_enforces_one_pending_invitation(example_app: Flask) -> None:
    """The one-pending-invitation rule comes from the migration too, not only from
    create_all: a second pending invitation to one address fails on every backend."""
    upgrade(directory=MIGRATIONS)
    when = dt.datetime(2030, 1, 1, 12, 0)
    user = sa.table(
        "user", *(sa.column(c) for c in ("id", "email", "password_hash", "is_staff", "joined_at"))
    )
    invitation = sa.Table("kaleo_join_invitation", sa.MetaData(), autoload_with=db.engine)

    def row() -> dict[str, t.Any]:
        """A pending invitation from user 1 (naive times: these are raw columns)."""
        return invitation_columns(1, "B@example.com", sent_at=when, expires_at=when)

    with db.engine.begin() as connection:
        connection.execute(
            sa.insert(user),
            {
                "id": 1,
                "email": "a@example.com",
                "password_hash": "x",
                "is_staff": False,
                "joined_at": when,
            },
        )
        connection.execute(sa.insert(invitation), row())
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(sa.insert(invitation), row())
    # Once it is no longer pending, the address may be invited again.
    with db.engine.begin() as connection:
        connection.execute(sa.update(invitation).values(pending_email_key=None, status="accepted"))
        connection.execute(sa.insert(invitation), row())


def test_downgrade_removes_the_tables(example_app: Flask) -> None:
    upgrade(directory=MIGRATIONS)
    downgrade(directory=MIGRATIONS, revision="base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
