"""The database itself keeps the invariants, on every backend.

Rows are written with Core statements, bypassing the extension, so each test proves a
constraint in the schema rather than a check in Python.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo import AlreadyInvited
from flask_kaleo import Kaleo
from flask_kaleo.models import utcnow
from tests.helpers import current_kaleo
from tests.helpers import expire
from tests.helpers import invitation_columns
from tests.helpers import make_user
from tests.hostapp import User
from tests.hostapp import db

pytestmark = pytest.mark.all_backends

# PyMySQL reports a failed CHECK on MariaDB (error 4025) as an OperationalError, not an
# IntegrityError; either way the database refused the row.
REFUSED = (sa.exc.IntegrityError, sa.exc.OperationalError)


# The one-pending-invitation constraint, by name (PostgreSQL, MariaDB) or columns (SQLite).
PENDING = "uq_kaleo_join_invitation_pending|kaleo_join_invitation.pending_email_key"


def invitations() -> sa.Table:
    return current_kaleo().JoinInvitation.__table__


def stats() -> sa.Table:
    return current_kaleo().InvitationStat.__table__


def insert(table: sa.Table, **row: t.Any) -> None:
    db.session.execute(sa.insert(table).values(**row))
    db.session.commit()


def refused(table: sa.Table, constraint: str, **row: t.Any) -> None:
    """Assert the database refuses ``row`` by ``constraint`` (a pattern matching how
    each backend names it), and leave the session usable."""
    with pytest.raises(REFUSED, match=constraint):
        db.session.execute(sa.insert(table).values(**row))
        db.session.flush()
    db.session.rollback()


def count(table: sa.Table) -> int:
    return db.session.scalars(sa.select(sa.func.count()).select_from(table)).one()


# -- join invitations ----------------------------------------------------------------


def test_one_pending_invitation_per_inviter_and_address(app_ctx: None) -> None:
    alice = make_user("alice@example.com")
    insert(invitations(), **invitation_columns(alice.id, "carol@example.com"))

    refused(invitations(), PENDING, **invitation_columns(alice.id, "Carol@Example.COM"))
    assert count(invitations()) == 1


def test_the_same_address_may_be_pending_from_two_inviters(app_ctx: None) -> None:
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    insert(invitations(), **invitation_columns(alice.id, "carol@example.com"))
    insert(invitations(), **invitation_columns(bob.id, "carol@example.com"))
    assert count(invitations()) == 2


@pytest.mark.parametrize("status", ["sent", "accepted", "joined", "revoked"])
def test_a_finished_invitation_does_not_block_a_new_pending_one(app_ctx: None, status: str) -> None:
    """Expired (still "sent"), accepted, joined or revoked: its pending key is NULL."""
    alice = make_user("alice@example.com")
    past = utcnow() - dt.timedelta(days=30)
    old = invitation_columns(
        alice.id, "carol@example.com", status=status, pending_email_key=None, sent_at=past
    )
    insert(invitations(), **old)
    insert(invitations(), **invitation_columns(alice.id, "carol@example.com"))
    # Several finished ones may pile up too: NULLs never collide.
    insert(invitations(), **{**old, "token_digest": "f" * 64})
    assert count(invitations()) == 3


def test_token_digest_is_unique(app_ctx: None) -> None:
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    digest = "d" * 64
    insert(invitations(), **invitation_columns(alice.id, "carol@example.com", token_digest=digest))

    refused(
        invitations(),
        "token_digest",
        **invitation_columns(bob.id, "dave@example.com", token_digest=digest),
    )
    assert count(invitations()) == 1


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"status": "accepted"}, "ck_kaleo_join_invitation_pending"),  # finished yet pending
        ({"pending_email_key": "x@example.com"}, "ck_kaleo_join_invitation_pending"),
        ({"status": "lost", "pending_email_key": None}, "ck_kaleo_join_invitation_status"),
    ],
)
def test_pending_key_and_status_are_consistent(
    app_ctx: None, values: dict[str, t.Any], constraint: str
) -> None:
    alice = make_user("alice@example.com")
    refused(
        invitations(), constraint, **invitation_columns(alice.id, "carol@example.com", **values)
    )
    assert count(invitations()) == 0


# -- invitation stats ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("allocated", "sent", "accepted", "check"),
    [
        (-2, 0, 0, "allocated"),  # below "unlimited"
        (5, -1, 0, "sent"),
        (5, 0, -1, "accepted"),
        (2, 3, 0, "within_allocation"),  # sent more than a finite allocation
        (0, 1, 0, "within_allocation"),
    ],
)
def test_counters_that_break_the_invariants_are_refused(
    app_ctx: None, allocated: int, sent: int, accepted: int, check: str
) -> None:
    alice = make_user("alice@example.com")
    refused(
        stats(),
        f"ck_kaleo_invitation_stat_{check}",
        user_id=alice.id,
        invites_allocated=allocated,
        invites_sent=sent,
        invites_accepted=accepted,
    )
    assert count(stats()) == 0


def test_an_update_past_the_allocation_is_refused(app_ctx: None) -> None:
    alice = make_user("alice@example.com", allocation=2)
    table = stats()
    with pytest.raises(REFUSED, match="ck_kaleo_invitation_stat_within_allocation"):
        db.session.execute(
            sa.update(table)
            .where(table.c.user_id == alice.id)
            .values(invites_sent=table.c.invites_sent + 3)
        )
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(sa.select(table.c.invites_sent)) == 0


def test_unlimited_allows_any_number_sent(app_ctx: None, kaleo: Kaleo[User]) -> None:
    alice = make_user("alice@example.com")
    insert(stats(), user_id=alice.id, invites_allocated=-1, invites_sent=500, invites_accepted=7)
    assert kaleo.invitations_remaining(alice) == -1


# -- times ---------------------------------------------------------------------------


def test_times_come_back_timezone_aware_utc(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context("/"):
        alice = make_user("alice@example.com", allocation=1)
        before = utcnow()
        invitation = kaleo.invite(alice, "carol@example.com")
        after = utcnow()
        invitation_id = invitation.id
    with app.app_context():  # a fresh session: the values come from the database
        loaded = db.session.get(kaleo.JoinInvitation, invitation_id)
        row = db.session.execute(
            sa.select(invitations().c.sent_at, invitations().c.expires_at)
        ).one()
        for value in (loaded.sent_at, loaded.expires_at, *row):
            assert value.tzinfo is not None
            assert value.utcoffset() == dt.timedelta(0)
        # The stored instant is the instant: no backend drops the fractions of a second.
        assert before <= loaded.sent_at <= after
        assert loaded.expires_at is not None
        assert loaded.expires_at - loaded.sent_at == dt.timedelta(hours=168)


def test_a_zone_other_than_utc_is_stored_as_the_same_instant(
    app_ctx: None, kaleo: Kaleo[User]
) -> None:
    alice = make_user("alice@example.com")
    plus_two = dt.timezone(dt.timedelta(hours=2))
    sent = dt.datetime(2030, 1, 1, 12, 0, tzinfo=plus_two)
    insert(invitations(), **invitation_columns(alice.id, "carol@example.com", sent_at=sent))
    db.session.expire_all()
    loaded = db.session.scalars(sa.select(kaleo.JoinInvitation)).one()
    assert loaded.sent_at == sent
    assert loaded.sent_at.hour == 10 and loaded.sent_at.utcoffset() == dt.timedelta(0)


# -- the invite path frees an expired invitation's slot ------------------------------


def test_inviting_again_after_expiry_releases_the_old_pending_slot(
    app: Flask, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context("/"):
        alice = make_user("alice@example.com", allocation=3)
        first = kaleo.invite(alice, "carol@example.com")
        with pytest.raises(AlreadyInvited):
            kaleo.invite(alice, "CAROL@example.com")

        expire(first.id)
        second = kaleo.invite(alice, "Carol@Example.com")

        db.session.expire_all()
        old = db.session.get(kaleo.JoinInvitation, first.id)
        assert old.pending_email_key is None
        assert old.status == "sent" and old.display_status == "expired"
        assert second.id != first.id and second.pending_email_key == "carol@example.com"
        assert kaleo.invitations_remaining(alice) == 1
