"""Real concurrency on PostgreSQL and MariaDB.

Every racer is a thread with its own app context, so its own session and database
connection; a ``threading.Barrier`` releases them together. The invite races go through
HTTP: a threaded werkzeug server on 127.0.0.1 serves the host app, and each racer is a
real HTTP client with its own cookies and CSRF token.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo import UNLIMITED
from flask_kaleo import Kaleo
from flask_kaleo.exceptions import InvitationAlreadyUsed
from flask_kaleo.exceptions import InvitationNotPending
from flask_kaleo.exceptions import InvitationRefused
from flask_kaleo.exceptions import InvitationRevoked
from flask_kaleo.exceptions import ResendTooSoon
from tests.helpers import POOL
from tests.helpers import WAIT
from tests.helpers import Statements
from tests.helpers import assert_error
from tests.helpers import current_kaleo
from tests.helpers import invite_all
from tests.helpers import kaleo_of
from tests.helpers import make_user
from tests.helpers import new_user
from tests.helpers import race
from tests.helpers import signed_in_session
from tests.helpers import stat_row
from tests.helpers import user_count
from tests.hostapp import User
from tests.hostapp import db

# Racers wait for a pooled connection rather than fail; the pool stays well under the
# servers' connection limits, which other test runs share.
pytestmark = [
    pytest.mark.backends("postgresql", "mariadb"),
    pytest.mark.settings(SQLALCHEMY_ENGINE_OPTIONS=POOL),
]


# -- real HTTP clients of the live server (the ``live_port`` fixture) ----------------


def stat_of(app: Flask, user: User) -> t.Any:
    with app.app_context():
        return kaleo_of(app).allocation(db.session.get_one(User, user.id))


def invitations_from(app: Flask, user: User) -> list[t.Any]:
    with app.app_context():
        return kaleo_of(app).sent_invitations(db.session.get(User, user.id))


# -- the invite races, through HTTP ------------------------------------------------


@pytest.mark.parametrize(
    "stat_row",
    [
        "existing",
        pytest.param("lazy", marks=pytest.mark.settings(KALEO_DEFAULT_INVITE_ALLOCATION=5)),
    ],
)
def test_forty_invites_with_five_left(
    app: Flask, live_port: int, outbox: list[t.Any], stat_row: str
) -> None:
    """40 requests at once from a user with 5 left: exactly 5 go out, whether the
    stat row exists or is created by the racing requests themselves."""
    alice = new_user(app, "alice@example.com", 5 if stat_row == "existing" else None)
    session = signed_in_session(app, alice)
    addresses = [f"friend{i}@example.com" for i in range(40)]

    results = invite_all(live_port, [session] * 40, addresses)

    accepted = [reply.json for reply in results if reply.json["status"] == "OK"]
    assert len(accepted) == 5
    assert all(reply.status_code == 200 for reply in results)
    for reply in results:
        if reply.json["status"] != "OK":
            assert_error(reply, 200, code="no_invitations_left")
    stat = stat_of(app, alice)
    assert (stat.invites_allocated, stat.invites_sent) == (5, 5)
    sent = invitations_from(app, alice)
    assert sorted(i.email for i in sent) == sorted(body["email"] for body in accepted)
    assert len(outbox) == 5


def test_same_address_at_once(app: Flask, live_port: int, outbox: list[t.Any]) -> None:
    """Two users each send six requests for one address at once: each gets exactly one
    invitation out (several inviters may invite one person); every other
    request is refused with the ERROR shape and spends nothing."""
    alice = new_user(app, "alice@example.com", 10)
    bob = new_user(app, "bob@example.com", 10)
    sessions = [signed_in_session(app, alice)] * 6 + [signed_in_session(app, bob)] * 6
    addresses = ["Carol@example.com", "carol@example.com", "CAROL@example.com"] * 4

    results = invite_all(live_port, sessions, addresses)

    for inviter, mine in ((alice, results[:6]), (bob, results[6:])):
        assert [reply.json["status"] for reply in mine].count("OK") == 1
        for reply in mine:
            if reply.json["status"] != "OK":
                assert_error(reply, 200, "email_address", code="already_invited")
        assert stat_of(app, inviter).invites_sent == 1
        sent = invitations_from(app, inviter)
        assert [(i.email_key, i.pending_email_key) for i in sent] == [
            ("carol@example.com", "carol@example.com")
        ]
    assert len(outbox) == 2


# -- accepting, revoking and resending, through the Python API ------------------------


def one_invitation(app: Flask) -> tuple[User, int]:
    """alice (one invitation) has invited carol@example.com; the invitation's id."""
    alice = new_user(app, "alice@example.com", 1)
    with app.test_request_context():
        return alice, int(kaleo_of(app).invite(alice, "carol@example.com").id)


def accept_as_new_user(i: int, invitation_id: int, barrier: threading.Barrier) -> int:
    """Create user ``carol<i>`` and accept with it in one transaction (inside an app
    context), once the racers are lined up; the new user's id."""
    user = User(email=f"carol{i}@example.com")
    db.session.add(user)
    db.session.flush()
    kaleo = current_kaleo()
    invitation = db.session.get_one(kaleo.JoinInvitation, invitation_id)
    barrier.wait()
    try:
        kaleo.accept(invitation, user)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return int(user.id)


def test_twelve_accepts_of_one_invitation(app: Flask, kaleo: Kaleo[User]) -> None:
    """12 new users accept one invitation at once, each in its own transaction that
    also creates the user: one wins; the others are told it was already used."""
    alice, invitation_id = one_invitation(app)

    def work(i: int, barrier: threading.Barrier) -> int:
        with app.app_context():
            return accept_as_new_user(i, invitation_id, barrier)

    results = race(12, work)

    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if not isinstance(r, int)]
    assert len(winners) == 1
    for loser in losers:
        assert isinstance(loser, InvitationNotPending), repr(loser)
        assert isinstance(loser, InvitationAlreadyUsed), f"wrong reason: {loser!r}"
    stat = stat_of(app, alice)
    assert (stat.invites_sent, stat.invites_accepted) == (1, 1)
    with app.app_context():
        invitation = db.session.get_one(kaleo.JoinInvitation, invitation_id)
        assert (invitation.status, invitation.to_user_id) == ("accepted", winners[0])
        assert invitation.pending_email_key is None
    assert user_count(app) == 2


def test_accepts_and_revokes_of_one_invitation_at_once(app: Flask, kaleo: Kaleo[User]) -> None:
    """Six new users accept one invitation while its inviter revokes it six times at
    once: exactly one of the twelve wins, and the counters match the winner."""
    alice, invitation_id = one_invitation(app)

    def work(i: int, barrier: threading.Barrier) -> str:
        with app.app_context():
            if i % 2:
                invitation = db.session.get_one(kaleo.JoinInvitation, invitation_id)
                barrier.wait()
                kaleo.revoke(invitation)
                return "revoked"
            accept_as_new_user(i, invitation_id, barrier)
            return "accepted"

    results = race(12, work)

    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1, results
    winner = winners[0]
    # Every loser gets the true reason, the winner's, also on MariaDB (whose plain reads
    # would see the loser's own snapshot and call the invitation expired).
    reason = {"accepted": InvitationAlreadyUsed, "revoked": InvitationRevoked}[winner]
    for loser in results:
        if not isinstance(loser, str):
            assert type(loser) is reason, repr(loser)
    stat = stat_of(app, alice)
    expected = {"accepted": (1, 1, 2), "revoked": (0, 0, 1)}[winner]
    with app.app_context():
        invitation = db.session.get_one(kaleo.JoinInvitation, invitation_id)
        assert invitation.status == winner and invitation.pending_email_key is None
    assert (stat.invites_sent, stat.invites_accepted, user_count(app)) == expected


@pytest.mark.settings(KALEO_RESEND_INTERVAL=dt.timedelta(0))
def test_eight_resends_of_one_invitation_at_once(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    """Eight resends at once, with no interval to wait: one swaps the token and mails
    it; the others find the token already replaced and send nothing."""
    alice, invitation_id = one_invitation(app)

    def work(i: int, barrier: threading.Barrier) -> str:
        with app.test_request_context():
            invitation = db.session.get_one(kaleo.JoinInvitation, invitation_id)
            barrier.wait()
            kaleo.resend(invitation)
            return str(invitation.token)

    results = race(8, work)

    [token] = [r for r in results if isinstance(r, str)]
    for loser in results:
        if not isinstance(loser, str):
            assert isinstance(loser, ResendTooSoon), repr(loser)
    assert len(outbox) == 2  # the invitation, then the one resend
    with app.app_context():
        invitation = kaleo.store.invitation_by_token(token)
        assert invitation is not None and invitation.id == invitation_id
    assert stat_of(app, alice).invites_sent == 1


# -- bulk commands while invitations go out ------------------------------------------

INVITERS = 4
ATTEMPTS = 12
ROUNDS = 8


def invite_while(
    app: Flask, inviters: list[User], bulk: t.Callable[[], t.Any]
) -> tuple[list[int], list[t.Any]]:
    """Each inviter sends ATTEMPTS invitations in a loop while ``bulk`` runs ROUNDS
    times; returns the invitations each inviter got out, and the bulk results."""

    def work(i: int, barrier: threading.Barrier) -> t.Any:
        if i == len(inviters):
            with app.app_context():
                barrier.wait()
                return [bulk() for _ in range(ROUNDS)]
        sent = 0
        with app.test_request_context():
            user = db.session.get_one(User, inviters[i].id)
            barrier.wait()
            for attempt in range(ATTEMPTS):
                try:
                    kaleo_of(app).invite(user, f"friend{i}-{attempt}@example.com")
                    sent += 1
                except InvitationRefused:
                    pass
        return sent

    results = race(len(inviters) + 1, work)
    for result in results:
        assert not isinstance(result, BaseException), repr(result)
    return results[:-1], results[-1]


def make_inviters(app: Flask, allocation: int | None) -> list[User]:
    return [new_user(app, f"inviter{i}@example.com", allocation) for i in range(INVITERS)]


def test_add_invites_while_inviting(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    """``grant(2, everyone=True)`` eight times while four users send: every
    allocation ends exactly 16 higher, and every invitation that went out is counted.
    Half the inviters start without a stat row, so the set-based INSERT ... SELECT
    races the invitations too."""
    with_rows = make_inviters(app, allocation=3)[:2]
    without_rows = [new_user(app, f"newcomer{i}@example.com") for i in range(2)]
    inviters = with_rows + without_rows

    sent, _ = invite_while(app, inviters, lambda: kaleo.grant(2, everyone=True))

    for inviter, count, start in zip(inviters, sent, [3, 3, 0, 0], strict=True):
        stat = stat_of(app, inviter)
        assert stat.invites_allocated == start + 2 * ROUNDS
        assert stat.invites_sent == count == len(invitations_from(app, inviter))
        assert stat.invites_sent <= stat.invites_allocated
    assert len(outbox) == sum(sent)


def test_topoff_invites_while_inviting(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    """``grant(3, top_off=True)`` eight times while four users with 3 left send: no spend is
    lost, and nobody ever holds more than 3 unspent (each top-off counts from the
    committed number sent)."""
    inviters = make_inviters(app, allocation=3)

    sent, _ = invite_while(app, inviters, lambda: kaleo.grant(3, top_off=True))

    for inviter, count in zip(inviters, sent, strict=True):
        stat = stat_of(app, inviter)
        assert stat.invites_sent == count == len(invitations_from(app, inviter))
        assert 0 <= stat.invites_allocated - stat.invites_sent <= 3
        assert count >= 3
    assert len(outbox) == sum(sent)


# -- the first bulk insert on PostgreSQL: the stat table locked while it is empty ------


def stat_table_lock_waiters() -> int:
    """Sessions waiting for a lock on the stat table."""
    with db.engine.connect() as connection:
        return int(
            connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted"
                    " AND relation = 'kaleo_invitation_stat'::regclass"
                )
            )
        )


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize(
    ("operation", "allocated"),
    [
        (lambda kaleo: kaleo.grant(5), 5),
        (lambda kaleo: kaleo.grant(5, top_off=True), 5),
        (lambda kaleo: kaleo.grant(UNLIMITED), -1),
    ],
    ids=["add", "topoff", "infinite"],
)
def test_the_first_bulk_insert_locks_the_empty_table_and_inserts_plainly(
    app: Flask, kaleo: Kaleo[User], operation: t.Callable[[Kaleo[User]], int], allocated: int
) -> None:
    """Nobody has a stat row: the table is locked against writers and every row is
    inserted with no ON CONFLICT. Once rows exist, neither the lock nor the plain
    INSERT is used."""
    with app.app_context():
        users = [make_user(f"user{number}@example.com") for number in range(3)]
        with Statements(db.engine) as first:
            assert operation(kaleo) == 3
        assert [s for s in first.statements if s.startswith("LOCK TABLE")] == [
            "LOCK TABLE kaleo_invitation_stat IN SHARE ROW EXCLUSIVE MODE"
        ]
        [(insert, _), (logged, _)] = first.starting("INSERT")
        assert "ON CONFLICT" not in insert
        assert logged.startswith("INSERT INTO kaleo_audit_entry")
        assert [stat_row(user.id) for user in users] == [(allocated, 0, 0)] * 3

        make_user("late@example.com")
        with Statements(db.engine) as second:
            added = kaleo.grant(5, everyone=True)
        assert added == (4 if allocated > 0 else 1)  # unlimited allocations stay so
        assert not any(s.startswith("LOCK TABLE") for s in second.statements)
        [(insert, _), (logged, _)] = second.starting("INSERT")
        assert "ON CONFLICT" in insert
        assert logged.startswith("INSERT INTO kaleo_audit_entry")


@pytest.mark.backends("postgresql")
def test_the_first_add_invites_sees_a_row_committed_while_it_waited(
    app: Flask, kaleo: Kaleo[User]
) -> None:
    """A member's stat row is being inserted, not yet committed, when add-invites finds
    the table empty: it waits for the lock, sees the row once committed, and adds to it
    rather than insert it a second time."""
    with app.app_context():
        member, newcomer = (make_user(f"{name}@example.com") for name in ("member", "newcomer"))
        outcome: list[t.Any] = []

        def add() -> None:
            with app.app_context():
                try:
                    outcome.append(kaleo.grant(5))
                except BaseException as error:  # noqa: B036 - reported below
                    outcome.append(error)

        with db.engine.connect() as writer:
            row = {"user_id": member.id, "invites_allocated": 1, "invites_sent": 1}
            writer.execute(sa.insert(kaleo.InvitationStat.__table__), row)
            thread = threading.Thread(target=add, daemon=True)
            thread.start()
            deadline = time.monotonic() + WAIT
            while stat_table_lock_waiters() == 0:  # until add-invites queues on the lock
                assert thread.is_alive() and time.monotonic() < deadline, outcome
            writer.commit()
        thread.join(WAIT)
        assert outcome == [2]
        assert stat_row(member.id) == (6, 1, 0)
        assert stat_row(newcomer.id) == (5, 0, 0)
