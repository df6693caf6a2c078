"""Daily sending limits that hold whatever the allocation.

``KALEO_DAILY_SEND_LIMIT`` bounds the emails one member causes in 24 hours and
``KALEO_ADDRESS_DAILY_LIMIT`` those one address receives, across all inviters; both
count invitations and resends from the log of sends, inside the spend's transaction.
Deliveries go to a real SMTP server (aiosmtpd), which records what actually arrived.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import AddressLimitReached
from flask_kaleo import Kaleo
from flask_kaleo import MemberLimitReached
from flask_kaleo import SendingLimitReached
from flask_kaleo.core.limits import MEMBER_LIMIT_REACHED
from flask_kaleo.models import utcnow
from tests.helpers import AJAX
from tests.helpers import Browser
from tests.helpers import SMTPServer
from tests.helpers import assert_counters_match_rows
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import current_kaleo
from tests.helpers import fresh
from tests.helpers import invitation_to
from tests.helpers import invite_all
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import race
from tests.helpers import signed_in
from tests.helpers import signed_in_session
from tests.hostapp import User
from tests.hostapp import db

VICTIM = "victim@example.com"
SERVER = pytest.mark.settings(SERVER_NAME="beta.example.org", PREFERRED_URL_SCHEME="https")


def sends(**where: t.Any) -> int:
    """Rows of the log of sends (optionally those matching ``where``)."""
    model = current_kaleo().InvitationSend
    statement = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        statement = statement.where(getattr(model, column) == value)
    return int(db.session.scalar(statement) or 0)


def latest_to(address: str) -> t.Any:
    """The newest invitation to ``address``."""
    model = current_kaleo().JoinInvitation
    return db.session.scalars(
        sa.select(model).where(model.email == address).order_by(model.id.desc()).limit(1)
    ).one()


def post(client: FlaskClient, action: str, invitation_id: int) -> t.Any:
    return client.post(
        f"/invites/{action}/{invitation_id}",
        data={"csrf_token": csrf_token(client)},
        headers=AJAX,
    )


def revoke_and_reinvite(app: Flask, client: FlaskClient, address: str, loops: int) -> list[t.Any]:
    """Invite ``address``, then ``loops`` times revoke it and invite it again, as the
    attacker with an allocation of 1 can. Returns every invite's answer."""
    answers = [post_invite(client, address)]
    for _ in range(loops):
        with app.app_context():
            pending = latest_to(address)
            invitation_id = pending.id if pending.status == "sent" else None
        if invitation_id is not None:
            assert post(client, "revoke", invitation_id).json["status"] == "OK"
        answers.append(post_invite(client, address))
    return answers


def test_each_limit_has_its_own_code_under_one_base() -> None:
    assert issubclass(MemberLimitReached, SendingLimitReached)
    assert issubclass(AddressLimitReached, SendingLimitReached)
    codes = {SendingLimitReached.code, MemberLimitReached.code, AddressLimitReached.code}
    assert codes == {"sending_limit_reached", "member_limit_reached", "address_limit_reached"}


# -- the revoke + re-invite loop ---------------------------------------------------------


@pytest.mark.all_backends
@pytest.mark.parametrize(
    ("limits", "delivered"),
    [
        pytest.param({}, 3, id="defaults"),
        pytest.param(
            {"KALEO_DAILY_SEND_LIMIT": None, "KALEO_ADDRESS_DAILY_LIMIT": None}, 51, id="off"
        ),
    ],
)
def test_revoke_loop_reaches_the_victim_only_up_to_the_address_limit(
    app: Flask, client: FlaskClient, smtp: SMTPServer, limits: dict[str, t.Any], delivered: int
) -> None:
    """50 loops of revoke + invite with an allocation of 1: with the limits, exactly
    ``KALEO_ADDRESS_DAILY_LIMIT`` emails arrive, and every refusal spends nothing. With
    both limits None, every loop mails the address (51 emails)."""
    app.config.update(limits)
    alice = signed_in(client, allocation=1)
    answers = revoke_and_reinvite(app, client, VICTIM, 50)
    assert smtp.recipients() == [VICTIM] * delivered
    assert sum(answer.json["status"] == "OK" for answer in answers) == delivered
    for answer in answers[delivered:]:
        assert_error(answer, 200, code="address_limit_reached")
    with app.app_context():
        stat = assert_counters_match_rows(alice.id)
        assert stat == (1, 0 if delivered == 3 else 1, 0)  # the last one revoked, or sent
        assert sends(email_key=VICTIM) == delivered


@pytest.mark.all_backends
def test_the_members_daily_limit_stops_a_spray_to_many_addresses(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    """The same loop over fresh addresses: the address limit never triggers, the
    member's (default 50) does; revoking gave the allocation back, not the sends."""
    alice = signed_in(client, allocation=1)
    for number in range(50):
        address = f"target{number}@example.com"
        assert post_invite(client, address).json["status"] == "OK"
        with app.app_context():
            invitation_id = invitation_to(address).id
        assert post(client, "revoke", invitation_id).json["status"] == "OK"
    refused = post_invite(client, "target50@example.com")
    assert_error(refused, 200, code="member_limit_reached")
    assert len(smtp.recipients()) == 50
    with app.app_context():
        assert assert_counters_match_rows(alice.id) == (1, 0, 0)  # nothing spent
        assert sends(from_user_id=alice.id) == 50


# -- whatever the allocation ----------------------------------------------------------------


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_DAILY_SEND_LIMIT=3)
def test_an_unlimited_member_is_limited_too(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    free = signed_in(client, allocation=-1)
    for number in range(3):
        assert post_invite(client, f"f{number}@example.com").json["status"] == "OK"
    answer = post_invite(client, "f3@example.com")
    errors = assert_error(answer, 200, code="member_limit_reached")
    assert "f3@example.com" not in errors
    assert len(smtp.recipients()) == 3
    with app.app_context():
        assert assert_counters_match_rows(free.id) == (-1, 3, 0)


@SERVER
@pytest.mark.all_backends
@pytest.mark.settings(KALEO_DAILY_SEND_LIMIT=2)
def test_staff_force_is_limited_too(app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]) -> None:
    """``flask kaleo invite --force`` and ``kaleo.invite(force=True)`` go beyond the
    allocation, never beyond the day's limit; a refusal raises nothing."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=0)
        fresh(alice)
    runner = app.test_cli_runner()
    for address in ("a@example.com", "b@example.com"):
        result = runner.invoke(args=["kaleo", "invite", "--force", alice.email, address])
        assert result.exit_code == 0, result.output
    result = runner.invoke(args=["kaleo", "invite", "--force", alice.email, "c@example.com"])
    assert result.exit_code == 1 and MEMBER_LIMIT_REACHED in result.output
    with app.app_context():
        with pytest.raises(MemberLimitReached) as refused:
            kaleo.invite(db.session.get_one(User, alice.id), "d@example.com", force=True)
        assert refused.value.code == "member_limit_reached"
        assert assert_counters_match_rows(alice.id) == (2, 2, 0)
    assert smtp.recipients() == ["a@example.com", "b@example.com"]


@pytest.mark.all_backends
def test_the_address_limit_spans_inviters_and_does_not_say_who(
    app: Flask, smtp: SMTPServer
) -> None:
    clients = []
    for number in range(4):
        client = app.test_client()
        signed_in(client, f"member{number}@example.com", allocation=5)
        clients.append(client)
    for client in clients[:3]:
        assert post_invite(client, VICTIM).json["status"] == "OK"
    errors = assert_error(
        post_invite(clients[3], VICTIM),
        200,
        code="address_limit_reached",
    )
    assert "member" not in errors
    # Another spelling of the same mailbox is the same address.
    assert_error(post_invite(clients[3], "VICTIM@Example.COM"), 200, code="address_limit_reached")
    assert smtp.recipients() == [VICTIM] * 3


# -- resends ----------------------------------------------------------------------------------


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_RESEND_INTERVAL=0)
def test_resends_count(app: Flask, client: FlaskClient, smtp: SMTPServer) -> None:
    """Resending overwrites ``resent_at``; the log of sends still counts every one. A
    refused resend changes nothing: the link already sent keeps working."""
    signed_in(client, allocation=1)
    assert post_invite(client, VICTIM).json["status"] == "OK"
    with app.app_context():
        invitation_id = invitation_to(VICTIM).id
    for _ in range(2):
        assert post(client, "resend", invitation_id).json["status"] == "OK"
    with app.app_context():
        digest = invitation_to(VICTIM).token_digest
    assert_error(post(client, "resend", invitation_id), 200, code="address_limit_reached")
    assert smtp.recipients() == [VICTIM] * 3
    with app.app_context():
        invitation = invitation_to(VICTIM)
        assert invitation.token_digest == digest and invitation.status == "sent"
        assert sends(invitation_id=invitation_id) == 3


@pytest.mark.all_backends
@pytest.mark.settings(
    KALEO_RESEND_INTERVAL=0, KALEO_DAILY_SEND_LIMIT=2, KALEO_ADDRESS_DAILY_LIMIT=None
)
def test_resends_count_towards_the_members_limit(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    signed_in(client, allocation=5)
    assert post_invite(client, VICTIM).json["status"] == "OK"
    with app.app_context():
        invitation_id = invitation_to(VICTIM).id
    assert post(client, "resend", invitation_id).json["status"] == "OK"
    assert_error(post(client, "resend", invitation_id), 200, code="member_limit_reached")
    assert_error(post_invite(client, "other@example.com"), 200, code="member_limit_reached")
    assert smtp.recipients() == [VICTIM] * 2


# -- the window, and purging -----------------------------------------------------------


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_ADDRESS_DAILY_LIMIT=1)
def test_sends_older_than_a_day_no_longer_count_and_are_purged(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    alice = signed_in(client, allocation=5)
    assert post_invite(client, VICTIM).json["status"] == "OK"
    with app.app_context():
        invitation_id = invitation_to(VICTIM).id
    assert post(client, "revoke", invitation_id).json["status"] == "OK"
    assert_error(post_invite(client, VICTIM), 200, code="address_limit_reached")
    send = kaleo.InvitationSend.__table__
    with app.app_context():
        db.session.execute(sa.update(send).values(sent_at=utcnow() - dt.timedelta(hours=25)))
        db.session.commit()
    assert post_invite(client, VICTIM).json["status"] == "OK"
    with app.app_context():
        db.session.execute(
            sa.update(send)
            .where(send.c.invitation_id == invitation_id)
            .values(sent_at=utcnow() - dt.timedelta(days=3))
        )
        db.session.commit()
        kaleo.purge_expired(dt.timedelta(days=1))
        assert sends() == 1  # the old one went, today's stays
        assert sends(from_user_id=alice.id) == 1


@pytest.mark.all_backends
def test_deleting_the_invitation_or_the_inviter_keeps_the_days_sends(
    app: Flask, client: FlaskClient
) -> None:
    alice = signed_in(client, allocation=5)
    assert post_invite(client, VICTIM).json["status"] == "OK"
    with app.app_context():
        db.session.delete(invitation_to(VICTIM))
        db.session.delete(db.session.get_one(User, alice.id))
        db.session.commit()
        assert sends(email_key=VICTIM) == 1


# -- races --------------------------------------------------------------------------------


POOL = {"pool_size": 5, "max_overflow": 20, "pool_timeout": 120}


@pytest.mark.backends("postgresql", "mariadb")
@pytest.mark.settings(SQLALCHEMY_ENGINE_OPTIONS=POOL)
def test_twenty_members_invite_one_address_at_once(
    app: Flask, live_port: int, outbox: list[t.Any]
) -> None:
    """20 members, each with invitations left, invite one address at the same moment:
    exactly ``KALEO_ADDRESS_DAILY_LIMIT`` (3) go out, the 17 others get the ERROR, and
    every member's counters match their rows."""
    with app.app_context():
        members = [make_user(f"member{i}@example.com", allocation=2) for i in range(20)]
        fresh(*members)
    sessions = [signed_in_session(app, member) for member in members]
    replies = invite_all(live_port, sessions, [VICTIM] * 20)
    succeeded = [reply for reply in replies if reply.json["status"] == "OK"]
    assert len(succeeded) == 3
    for reply in replies:
        if reply.json["status"] != "OK":
            assert_error(reply, 200, code="address_limit_reached")
    assert len(outbox) == 3
    with app.app_context():
        stats = [assert_counters_match_rows(member.id) for member in members]
        assert sorted(sent for _, sent, _ in stats) == [0] * 17 + [1] * 3
        assert sends(email_key=VICTIM) == 3


@pytest.mark.backends("postgresql", "mariadb")
@pytest.mark.settings(
    SQLALCHEMY_ENGINE_OPTIONS=POOL, KALEO_DAILY_SEND_LIMIT=4, KALEO_ADDRESS_DAILY_LIMIT=None
)
def test_one_unlimited_member_sends_twenty_at_once(
    app: Flask, live_port: int, outbox: list[t.Any]
) -> None:
    with app.app_context():
        free = make_user("free@example.com", allocation=-1)
    session = signed_in_session(app, free)
    replies = invite_all(live_port, [session] * 20, [f"f{i}@example.com" for i in range(20)])
    assert sum(reply.json["status"] == "OK" for reply in replies) == 4
    for reply in replies:
        if reply.json["status"] != "OK":
            assert_error(reply, 200, code="member_limit_reached")
    assert len(outbox) == 4
    with app.app_context():
        assert assert_counters_match_rows(free.id) == (-1, 4, 0)
        assert sends(from_user_id=free.id) == 4


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_PRIVATE_REFUSALS=True)
def test_a_members_address_reaches_the_limit_like_a_strangers(app: Flask, smtp: SMTPServer) -> None:
    """With private refusals a member's address is answered like a fresh one, at the
    limit too: its invitations send no email but count, or the fourth answer would
    tell a member from a stranger."""
    with app.app_context():
        make_user("kate@example.com")
    answers = {}
    for address in ("kate@example.com", "stranger@example.com"):
        for number in range(4):
            client = app.test_client()
            signed_in(client, f"m{number}-{address}", allocation=1)
            answers[address, number] = post_invite(client, address)
    for number in range(3):
        assert answers["kate@example.com", number].json["status"] == "OK"
        assert answers["stranger@example.com", number].json["status"] == "OK"
    for address in ("kate@example.com", "stranger@example.com"):
        assert_error(answers[address, 3], 200, code="address_limit_reached")
    assert smtp.recipients() == ["stranger@example.com"] * 3


@pytest.mark.backends("postgresql", "mariadb")
@pytest.mark.settings(SQLALCHEMY_ENGINE_OPTIONS=POOL)
def test_resends_and_invites_to_one_address_at_once(
    app: Flask, live_port: int, outbox: list[t.Any]
) -> None:
    """10 members resend their invitations to one address while 10 others invite it,
    all at once: 3 emails in all go out, resends and invitations alike."""

    hour_ago = utcnow() - dt.timedelta(hours=1)
    with app.app_context():
        members = [make_user(f"member{i}@example.com", allocation=2) for i in range(20)]
        ids = [make_invitation(member, VICTIM, sent_at=hour_ago).id for member in members[:10]]
        fresh(*members)
    sessions = [signed_in_session(app, member) for member in members]

    def work(i: int, barrier: t.Any) -> t.Any:
        browser = Browser(live_port, sessions[i])
        barrier.wait()
        return browser.act("resend", ids[i]) if i < 10 else browser.invite(VICTIM)

    replies = race(20, work)
    for reply in replies:
        assert not isinstance(reply, BaseException), repr(reply)
    assert sum(reply.json["status"] == "OK" for reply in replies) == 3
    for reply in replies:
        if reply.json["status"] != "OK":
            assert_error(reply, 200, code="address_limit_reached")
    assert len(outbox) == 3
    with app.app_context():
        assert sends(email_key=VICTIM) == 3
