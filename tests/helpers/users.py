"""Members: a committed user, signed in or out on a test client, and the type of the
permission hooks the ``invite_hook`` and ``manage_hook`` fixtures set."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.extension import current_kaleo
from tests.hostapp import User
from tests.hostapp import db

UserHook = t.Callable[[t.Any], bool]
SetHook = t.Callable[[UserHook], UserHook]
"""The ``invite_hook`` and ``manage_hook`` fixtures: set a permission for one test."""


def make_user(email: str, allocation: int | None = None) -> User:
    """A committed user (in the current app context); with ``allocation``, a stat row
    allocating that many. Loaded, so it can be used after the app context ends."""
    user = User(email=email)
    db.session.add(user)
    db.session.commit()
    if allocation is not None:
        db.session.add(
            current_kaleo().InvitationStat(
                user_id=user.id, invites_allocated=allocation, invites_sent=0, invites_accepted=0
            )
        )
        db.session.commit()
    db.session.refresh(user)
    return user


def fresh(*users: User) -> None:
    """Load users again after later commits expired them, so they can be used after
    the app context ends (``make_user`` only loads the one it made)."""
    for user in users:
        db.session.refresh(user)


def login(client: FlaskClient, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def logout(client: FlaskClient) -> None:
    """Sign the client out, keeping the rest of its session (its CSRF token)."""
    with client.session_transaction() as session:
        del session["_user_id"]


def signed_in(
    client: FlaskClient, email: str = "alice@example.com", allocation: int | None = 3
) -> User:
    """A new member with ``allocation`` invitations (None: no stat row), signed in on
    ``client``: the logged-in client of most tests."""
    with client.application.app_context():
        user = make_user(email, allocation)
    login(client, user)
    return user


def new_user(app: Flask, email: str, allocation: int | None = None) -> User:
    """A committed user, loaded, usable after its app context ends."""
    with app.app_context():
        return make_user(email, allocation)


def user_count(app: Flask) -> int:
    """How many users the app's database holds."""
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0)
