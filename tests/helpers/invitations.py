"""Invitations in any state, written straight to the table, read back, expired or with
a lapsed delivery lease; and the signals sent meanwhile."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import typing as t

import sqlalchemy as sa
from flask import Flask

from flask_kaleo.core.addresses import address_key
from flask_kaleo.core.tokens import token_digest
from flask_kaleo.models import utcnow
from tests.helpers.extension import current_kaleo
from tests.helpers.users import make_user
from tests.hostapp import User
from tests.hostapp import db

STATES = ("sent", "sending", "expired", "accepted", "joined", "revoked", "undeliverable")


def invitation_columns(
    inviter_id: t.Any,
    email: str,
    state: str = "sent",
    *,
    sent_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    **columns: t.Any,
) -> dict[str, t.Any]:
    """The columns of an invitation row in ``state`` (one of STATES; "expired" is a
    sent one whose expiry has passed); ``columns`` override any of them."""
    assert state in STATES, state
    now = utcnow()
    if state == "expired":
        expires_at = expires_at or now - dt.timedelta(hours=1)
    sent_at = sent_at or (expires_at - dt.timedelta(days=7) if expires_at else now)
    key = address_key(email)
    status = "sent" if state in ("expired", "sending") else state
    row = {
        "from_user_id": inviter_id,
        "email": email,
        "email_key": key,
        "pending_email_key": key if status == "sent" else None,
        "message": None,
        "sent_at": sent_at,
        "expires_at": expires_at or sent_at + dt.timedelta(days=7),
        "status": status,
        "token_digest": token_digest(secrets.token_urlsafe(16)),
        "inviter_label": f"user {inviter_id}",
        "delivered_at": None if state == "sending" else sent_at,
        "delivery_attempts": 1,
    }
    row.update(columns)
    return row


def make_invitation(inviter: User, email: str, state: str = "sent", **options: t.Any) -> t.Any:
    """A committed invitation from ``inviter`` to ``email`` in ``state``, written
    straight to the table (no email, no counters); see ``invitation_columns``."""
    invitation = current_kaleo().JoinInvitation(
        **invitation_columns(inviter.id, email, state, **options)
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def make_invitations(
    inviter: User, emails: list[str], state: str = "sent", **options: t.Any
) -> None:
    """Many invitations in one INSERT (a long history), one a second apart."""
    now = utcnow()
    rows = [
        invitation_columns(
            inviter.id, address, state, sent_at=now + dt.timedelta(seconds=n), **options
        )
        for n, address in enumerate(emails)
    ]
    db.session.execute(sa.insert(current_kaleo().JoinInvitation), rows)
    db.session.commit()


def invitation_to(email: str) -> t.Any:
    """The one invitation to ``email`` (as entered), read fresh."""
    db.session.expire_all()
    model = current_kaleo().JoinInvitation
    return db.session.scalars(sa.select(model).where(model.email == email)).one()


def invitation_count() -> int:
    return db.session.scalars(
        sa.select(sa.func.count()).select_from(current_kaleo().JoinInvitation)
    ).one()


def expire(invitation_id: int, hours_ago: float = 1) -> None:
    """Move an invitation's expiry ``hours_ago`` into the past (its sending a week
    before that), the one way the tests let an invitation expire."""
    expires_at = utcnow() - dt.timedelta(hours=hours_ago)
    model = current_kaleo().JoinInvitation
    db.session.execute(
        sa.update(model)
        .where(model.id == invitation_id)
        .values(expires_at=expires_at, sent_at=expires_at - dt.timedelta(days=7))
    )
    db.session.commit()
    db.session.expire_all()


def lapse_lease(invitation_id: int) -> None:
    """Move the lease of an invitation's delivery into the past, as if the process
    that claimed it had died that long ago."""
    model = current_kaleo().JoinInvitation
    db.session.execute(
        sa.update(model)
        .where(model.id == invitation_id)
        .values(delivery_lease_until=utcnow() - dt.timedelta(seconds=1))
    )
    db.session.commit()
    db.session.expire_all()


@contextlib.contextmanager
def received(signal: t.Any) -> t.Iterator[list[dict[str, t.Any]]]:
    """The keyword arguments of every sending of ``signal`` inside the block, each
    model instance replaced by its ``id`` (read while the session is still open)."""
    calls: list[dict[str, t.Any]] = []

    def record(sender: t.Any, **kwargs: t.Any) -> None:
        calls.append({name: getattr(value, "id", value) for name, value in kwargs.items()})

    with signal.connected_to(record):
        yield calls


def age(invitation_id: int, days: float) -> None:
    """Move an invitation's sending ``days`` into the past (its expiry stays ahead)."""
    model = current_kaleo().JoinInvitation
    sent_at = utcnow() - dt.timedelta(days=days)
    db.session.execute(
        sa.update(model)
        .where(model.id == invitation_id)
        .values(sent_at=sent_at, delivered_at=sent_at)
    )
    db.session.commit()
    db.session.expire_all()


def link_for(app: Flask, email: str, state: str = "sent") -> str:
    """The accept path of a new invitation to ``email``, then ``state``: "accepted",
    "expired" or "revoked"."""
    with app.test_request_context():
        kaleo = current_kaleo()
        inviter = make_user(f"inviter.{email}", allocation=5)
        invitation = kaleo.invite(inviter, email)
        token = invitation.token
        if state == "accepted":
            kaleo.accept(invitation, make_user(email))
            db.session.commit()
        elif state == "expired":
            expire(invitation.id)
        elif state == "revoked":
            kaleo.revoke(invitation)
    return f"/invites/accept/{token}"
