"""``flask kaleo remind``: one reminder per pending invitation, under a new link,
through the invitation's delivery path, within the daily sending limits, never twice
(also when two runs race, on PostgreSQL and MariaDB)."""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo.models import utcnow
from tests.helpers import POOL
from tests.helpers import SMTPServer
from tests.helpers import accept_link
from tests.helpers import age
from tests.helpers import invitation_to
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import message_text
from tests.helpers import race
from tests.hostapp import User
from tests.hostapp import db

pytestmark = pytest.mark.settings(KALEO_SITE_URL="http://localhost")
DAY = dt.timedelta(days=1)


def remind(app: Flask, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(args=["kaleo", "remind", *args])


@pytest.mark.all_backends
def test_one_reminder_under_a_new_link_and_never_twice(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        invitation = kaleo.invite(alice, "carol@example.com")
        age(invitation.id, 4)
    _, old_token = accept_link(message_text(smtp.messages[0], "plain"))
    result = remind(app, "--after", "3d")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Reminded 1 invitation;")
    assert len(smtp.messages) == 2
    reminder = smtp.messages[1]
    assert reminder["Subject"] == "Reminder: alice@example.com has invited you to join localhost"
    body = message_text(reminder, "plain")
    assert "A reminder" in body and "no longer works" in body
    _, new_token = accept_link(body)
    assert new_token != old_token
    with app.app_context():
        stored = invitation_to("carol@example.com")
        assert stored.reminded_at is not None and stored.is_reminder
        assert stored.delivered_at is not None
    visitor = app.test_client()
    stale = visitor.get(f"/invites/accept/{old_token}")
    assert stale.status_code == 410 and "sent again" in stale.get_data(as_text=True)
    assert visitor.get(f"/invites/accept/{new_token}").status_code == 303
    again = remind(app, "--after", "1m")
    assert again.output.startswith("Reminded 0 invitations;") and len(smtp.messages) == 2


@pytest.mark.all_backends
def test_only_pending_mailed_invitations_past_the_delay_are_reminded(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        old = dt.datetime.now(dt.timezone.utc) - 4 * DAY
        make_invitation(alice, "due@example.com", sent_at=old)
        never = make_invitation(alice, "never@example.com", sent_at=old)
        never.expires_at = None  # a NULL expiry is pending, and due
        make_invitation(alice, "recent@example.com", sent_at=utcnow() - DAY)
        make_invitation(alice, "link@example.com", sent_at=old, link_only=True)
        make_invitation(alice, "member@example.com", sent_at=old, to_member=True)
        make_invitation(alice, "expired@example.com", "expired")
        make_invitation(alice, "sending@example.com", "sending", sent_at=old)
        make_invitation(alice, "accepted@example.com", "accepted", sent_at=old)
        make_invitation(alice, "revoked@example.com", "revoked", sent_at=old)
        make_invitation(alice, "orphan@example.com", sent_at=old, from_user_id=None)
        db.session.commit()
        report = kaleo.remind(3 * DAY)
    assert (report.reminded, report.limited, report.failed) == (2, 0, 0)
    assert sorted(m["To"] for m in smtp.messages) == ["due@example.com", "never@example.com"]


@pytest.mark.settings(KALEO_ADDRESS_DAILY_LIMIT=1)
def test_reminders_count_towards_the_daily_limits(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        kaleo.invite(alice, "carol@example.com")  # today's one email to carol
        age(invitation_to("carol@example.com").id, 4)
        report = kaleo.remind(3 * DAY)
        assert (report.reminded, report.limited) == (0, 1)
        assert invitation_to("carol@example.com").reminded_at is None
    assert len(smtp.messages) == 1


def test_an_undelivered_reminder_leaves_the_old_link_working(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        invitation = kaleo.invite(alice, "carol@example.com")
        age(invitation.id, 4)
        digest = invitation_to("carol@example.com").token_digest
        smtp.refuse_at = "DATA"
        report = kaleo.remind(3 * DAY)
        assert (report.reminded, report.failed) == (0, 1)
        after = invitation_to("carol@example.com")
        assert (after.token_digest, after.reminded_at, after.status) == (digest, None, "sent")
        smtp.refuse_at = None
        assert kaleo.remind(3 * DAY).reminded == 1  # a later run tries again


@pytest.mark.settings(KALEO_DELIVERY="queue")
def test_queued_reminders_go_through_the_worker(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    queued: list[int] = []
    kaleo.delivery_queue(queued.append)
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        invitation = make_invitation(alice, "carol@example.com", sent_at=utcnow() - 4 * DAY)
        assert kaleo.remind(3 * DAY).reminded == 1
        assert queued == [invitation.id] and smtp.messages == []
        assert invitation_to("carol@example.com").delivered_at is None  # on its way
        assert kaleo.deliver(invitation.id) == "delivered"
    (reminder,) = smtp.messages
    assert reminder["Subject"].startswith("Reminder: ")
    accept_link(message_text(reminder, "plain"))


def test_a_resend_after_the_reminder_is_an_invitation_again(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    app.config["KALEO_RESEND_INTERVAL"] = 0
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        invitation = kaleo.invite(alice, "carol@example.com")
        age(invitation.id, 4)
        kaleo.remind(3 * DAY)
        kaleo.resend(invitation_to("carol@example.com"))
    subjects = [m["Subject"].startswith("Reminder:") for m in smtp.messages]
    assert subjects == [False, True, False]


@pytest.mark.parametrize("after", ["3", "3x", "", "0d", "-1d", "d", "1h3d", "99999999d"])
def test_bad_durations_are_usage_errors(app: Flask, after: str) -> None:
    result = remind(app, "--after", after)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output and "--after" in result.output


def test_after_is_required(app: Flask) -> None:
    assert remind(app).exit_code == 2


@pytest.mark.parametrize(("after", "due"), [("1d12h", True), ("90m", True), ("2d", False)])
def test_durations(app: Flask, smtp: SMTPServer, after: str, due: bool) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        make_invitation(alice, "carol@example.com", sent_at=utcnow() - 1.75 * DAY)
    assert remind(app, "--after", after).exit_code == 0
    assert len(smtp.messages) == int(due)


@pytest.mark.backends("postgresql", "mariadb")
@pytest.mark.settings(SQLALCHEMY_ENGINE_OPTIONS=POOL)
def test_remind_runs_at_once_remind_each_invitation_once(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    """Four remind runs at once over six due invitations: six reminders in all, one
    per invitation, each claimed by exactly one run."""
    with app.app_context():
        alice = make_user("alice@example.com", -1)
        for n in range(6):
            make_invitation(alice, f"friend{n}@example.com", sent_at=utcnow() - 4 * DAY)

    def work(i: int, barrier: threading.Barrier) -> int:
        with app.app_context():
            barrier.wait()
            return kaleo.remind(3 * DAY).reminded

    results = race(4, work)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6, results
    assert sorted(m["To"] for m in smtp.messages) == [f"friend{n}@example.com" for n in range(6)]
    with app.app_context():
        model = kaleo.JoinInvitation
        reminded = db.session.scalar(
            sa.select(sa.func.count()).where(model.reminded_at.is_not(None))
        )
        sends = db.session.scalar(sa.select(sa.func.count()).select_from(kaleo.InvitationSend))
    assert (reminded, sends) == (6, 6)


@pytest.mark.all_backends
def test_a_second_reminder_is_never_sent_however_long_ago_the_first(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    """The first reminder's sending moved back past the delay: only ``reminded_at``
    still set stops a second one."""
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        invitation = make_invitation(
            alice, "carol@example.com", sent_at=utcnow() - 9 * DAY, expires_at=utcnow() + DAY
        )
        assert kaleo.remind(3 * DAY).reminded == 1
        long_ago = utcnow() - 5 * DAY
        model = kaleo.JoinInvitation
        db.session.execute(
            sa.update(model)
            .where(model.id == invitation.id)
            .values(resent_at=long_ago, reminded_at=long_ago, delivered_at=long_ago)
        )
        db.session.commit()
        assert kaleo.remind(3 * DAY).reminded == 0
    assert len(smtp.messages) == 1


@pytest.mark.all_backends
def test_no_reminder_for_an_inviter_no_longer_allowed_to_invite(
    app: Flask, smtp: SMTPServer, invite_hook: t.Any, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        barred = make_user("barred@example.com", 5)
        make_invitation(alice, "carol@example.com", sent_at=utcnow() - 4 * DAY)
        make_invitation(barred, "dave@example.com", sent_at=utcnow() - 4 * DAY)
        invite_hook(lambda user: user.email != "barred@example.com")
        report = kaleo.remind(3 * DAY)
        assert (report.reminded, report.skipped) == (1, 1)
        assert invitation_to("dave@example.com").reminded_at is None
    assert [m["To"] for m in smtp.messages] == ["carol@example.com"]


@pytest.mark.all_backends
@pytest.mark.parametrize("private", [False, True])
def test_no_reminder_to_an_address_that_has_become_a_member(
    app: Flask, smtp: SMTPServer, private: bool, kaleo: Kaleo[User]
) -> None:
    """Carol joined without her invitation (it is still pending): no email invites her
    to join, whether or not refusals are private."""
    app.config["KALEO_PRIVATE_REFUSALS"] = private
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        make_invitation(alice, "carol@example.com", sent_at=utcnow() - 4 * DAY)
        make_invitation(alice, "dave@example.com", sent_at=utcnow() - 4 * DAY)
        make_user("Carol@Example.com")
        report = kaleo.remind(3 * DAY)
        assert (report.reminded, report.skipped) == (1, 1)
        carol = invitation_to("carol@example.com")
        assert (carol.status, carol.reminded_at) == ("sent", None)
    assert [m["To"] for m in smtp.messages] == ["dave@example.com"]
    result = remind(app, "--after", "3d")
    assert "1 no longer to be mailed" in result.output, result.output
