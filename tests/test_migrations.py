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
from flask_kaleo.models import for_dialect
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
        opts = {"compare_type": True, "include_object": for_dialect(db.engine.dialect.name)}
        context = MigrationContext.configure(connection, opts=opts)
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


def test_upgrade_fills_the_referral_tree_from_history(example_app: Flask) -> None:
    """Members who joined before the referral table get their edge from the invitation
    they accepted first (else the link they joined through), with its parent."""
    upgrade(directory=MIGRATIONS, revision="3c9e1f4a7b20")
    when = dt.datetime(2030, 1, 1, 12, 0)
    metadata = sa.MetaData()
    user, invitation, link, use = (
        sa.Table(name, metadata, autoload_with=db.engine)
        for name in ("user", "kaleo_join_invitation", "kaleo_invitation_link", "kaleo_link_use")
    )
    names = ("alice", "bob", "carol", "dave", "erin")
    with db.engine.begin() as connection:
        connection.execute(
            sa.insert(user),
            [
                {"id": n, "email": f"{name}@example.com", "password_hash": "x"}
                | {"is_staff": False, "joined_at": when}
                for n, name in enumerate(names, 1)
            ],
        )

        def accepted(inviter: int, invitee: int, hours: int) -> None:
            row = invitation_columns(
                inviter, f"{names[invitee - 1]}@example.com", "accepted", to_user_id=invitee
            )
            row.update(sent_at=when + dt.timedelta(hours=hours), expires_at=None)
            connection.execute(sa.insert(invitation), row)

        accepted(1, 2, 1)  # alice brought bob in
        accepted(2, 3, 2)  # bob brought carol in
        accepted(1, 5, 3)  # erin accepted alice's invitation first...
        accepted(2, 5, 4)  # ...and then bob's
        connection.execute(
            sa.insert(link),
            {
                "id": 1,
                "token_digest": "d" * 64,
                "inviter_label": "carol@example.com",
                "max_uses": 3,
                "uses": 2,
                "created_at": when,
                "from_user_id": 3,
            },
        )
        connection.execute(  # dave joined through carol's link; bob used it too
            sa.insert(use),
            [
                {"link_id": 1, "user_id": 4, "email": "dave@example.com", "joined_at": when},
                {"link_id": 1, "user_id": 2, "email": "bob@example.com", "joined_at": when},
            ],
        )
    upgrade(directory=MIGRATIONS)
    referral = sa.Table("kaleo_referral", sa.MetaData(), autoload_with=db.engine)
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                referral.c.id, referral.c.invitee_id, referral.c.inviter_id, referral.c.parent_id
            )
        ).all()
    edge = {invitee: (inviter, parent) for _, invitee, inviter, parent in rows}
    ids = {invitee: edge_id for edge_id, invitee, _, _ in rows}
    assert edge == {
        2: (1, None),
        3: (2, ids[2]),
        4: (3, ids[3]),
        5: (1, None),
    }
