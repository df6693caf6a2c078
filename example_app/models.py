"""The example app's own user model, and flask-kaleo set up on it."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from flask_kaleo import Kaleo

from .extensions import db


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "user"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    #: How the invitation emails name this user ("Alice Martin"); empty: by address.
    name = db.Column(db.String(100), nullable=False, default="", server_default="")
    password_hash = db.Column(db.String(255), nullable=False)
    is_staff = db.Column(db.Boolean, nullable=False, default=False)
    joined_at = db.Column(
        db.DateTime(timezone=True),
        nullable=False,
        default=lambda: dt.datetime.now(dt.timezone.utc),
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


# Defines kaleo.JoinInvitation and kaleo.InvitationStat on the app's own db.
kaleo = Kaleo(db=db, user_model=User)


@kaleo.inviter_name
def display_name(user: User) -> str | None:
    """The emails say "Alice Martin has invited you", not her address (None: the
    address, for a user who gave no name)."""
    return user.name or None


@kaleo.manage_permission
def is_staff(user: User) -> bool:
    """Only staff may use the staff endpoints (they deny everyone by default)."""
    return bool(user.is_staff)
