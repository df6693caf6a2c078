"""Helpers shared by the staff, lifecycle and CLI tests."""

from __future__ import annotations

import contextlib
import datetime as dt
import typing as t

import sqlalchemy as sa

from tests.hostapp import db
from tests.hostapp import kaleo


def expire(invitation_id: int, hours_ago: float = 1) -> None:
    """Move an invitation's expiry into the past (and its sending before it)."""
    now = dt.datetime.now(dt.timezone.utc)
    model = kaleo.JoinInvitation
    db.session.execute(
        sa.update(model)
        .where(model.id == invitation_id)
        .values(
            expires_at=now - dt.timedelta(hours=hours_ago),
            sent_at=now - dt.timedelta(hours=hours_ago + 168),
        )
    )
    db.session.commit()
    db.session.expire_all()


def stat_row(user_id: int) -> tuple[int, int, int] | None:
    """``(allocated, sent, accepted)`` as stored, read fresh."""
    stat = kaleo.InvitationStat.__table__
    row = db.session.execute(
        sa.select(stat.c.invites_allocated, stat.c.invites_sent, stat.c.invites_accepted).where(
            stat.c.user_id == user_id
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


@contextlib.contextmanager
def received(signal: t.Any) -> t.Iterator[list[dict[str, t.Any]]]:
    """The keyword arguments of every sending of ``signal`` inside the block, each
    model instance replaced by its ``id`` (read while the session is still open)."""
    calls: list[dict[str, t.Any]] = []

    def record(sender: t.Any, **kwargs: t.Any) -> None:
        calls.append({name: getattr(value, "id", value) for name, value in kwargs.items()})

    signal.connect(record)
    try:
        yield calls
    finally:
        signal.disconnect(record)


def fresh(*users: t.Any) -> None:
    """Load users again after later commits expired them, so they can be used after
    the app context ends (conftest's ``make_user`` only loads the one it made)."""
    for user in users:
        db.session.refresh(user)
