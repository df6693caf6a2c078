"""Each sending mails one email, whatever runs at once: a delivery claims the email
with a lease that no other delivery, sweep, resend or reminder passes while the email
may be at the relay.

The relay here is a real SMTP server on 127.0.0.1 that holds the first message at DATA
until the test lets it go (``SMTPServer.gate``), or takes a while with each one
(``SMTPServer.delay``); ``flask kaleo deliver`` runs as real processes.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo.exceptions import ResendTooSoon
from flask_kaleo.models import utcnow
from tests.helpers import BIN
from tests.helpers import POOL
from tests.helpers import WAIT
from tests.helpers import SMTPServer
from tests.helpers import accept_link
from tests.helpers import assert_counters_match_rows
from tests.helpers import invitation_to
from tests.helpers import lapse_lease
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import message_text
from tests.helpers import reconfigure
from tests.helpers import run_at_once
from tests.helpers import worker_env
from tests.hostapp import User
from tests.hostapp import db

pytestmark = [
    pytest.mark.all_backends,
    pytest.mark.settings(KALEO_SITE_URL="http://localhost", SQLALCHEMY_ENGINE_OPTIONS=POOL),
]
DAY = dt.timedelta(days=1)


class Held:
    """A call running in a thread of its own, in an app context, while its email is
    held at the relay's DATA; ``finish()`` lets the email go and returns the result."""

    def __init__(self, app: Flask, smtp: SMTPServer, call: t.Callable[[], t.Any]) -> None:
        self.smtp = smtp
        smtp.gate = threading.Event()
        self.outcome: list[t.Any] = []

        def run() -> None:
            with app.app_context():
                self.outcome.append(call())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert smtp.waiting.acquire(timeout=WAIT), "the email never reached the relay"

    def finish(self) -> t.Any:
        assert self.smtp.gate is not None
        self.smtp.gate.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive() and self.outcome, "the held call never finished"
        return self.outcome[0]


@pytest.fixture
def hold(app: Flask, smtp: SMTPServer) -> t.Iterator[t.Callable[[t.Callable[[], t.Any]], Held]]:
    """Starts a call whose email the relay holds; a test that fails before letting it
    go still ends the call, before its rows are cleared."""
    started: list[Held] = []

    def start(call: t.Callable[[], t.Any]) -> Held:
        started.append(Held(app, smtp, call))
        return started[-1]

    yield start
    for held in started:
        assert held.smtp.gate is not None
        held.smtp.gate.set()
        held.thread.join(WAIT)


@pytest.mark.settings(KALEO_DELIVERY="queue")
def test_two_deliveries_of_one_invitation_at_once_mail_it_once(
    app: Flask,
    smtp: SMTPServer,
    hold: t.Callable[[t.Callable[[], t.Any]], Held],
    kaleo: Kaleo[User],
) -> None:
    """A job delivers while a duplicate job of the same invitation starts: the duplicate
    finds the email claimed and sends nothing; the one email's link works."""
    kaleo.delivery_queue(lambda invitation_id: None)
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        invitation_id = kaleo.invite(alice, "carol@example.com").id

    first = hold(lambda: kaleo.deliver(invitation_id))
    with app.app_context():
        assert kaleo.deliver(invitation_id) == "nothing to do"
    assert first.finish() == "delivered"

    assert smtp.recipients() == ["carol@example.com"]
    _, token = accept_link(message_text(smtp.messages[0], "plain"))
    assert app.test_client().get(f"/invites/accept/{token}").status_code == 303
    with app.app_context():
        stored = invitation_to("carol@example.com")
        assert stored.delivery_attempts == 1 and stored.delivered_at is not None
        assert stored.delivery_lease_until is None
        assert assert_counters_match_rows(alice.id) == (3, 1, 0)


@pytest.mark.parametrize("sending", ["invite", "resend", "remind"])
def test_a_sweep_leaves_an_email_being_sent_inline_alone(
    app: Flask,
    smtp: SMTPServer,
    hold: t.Callable[[t.Callable[[], t.Any]], Held],
    sending: str,
    kaleo: Kaleo[User],
) -> None:
    """While a request (invite, resend) or ``flask kaleo remind`` has its email at the
    relay, ``flask kaleo deliver --older-than 0`` and ``kaleo.deliver`` find it held
    and send nothing; the held email is then recorded as delivered."""
    reconfigure(app, KALEO_RESEND_INTERVAL=dt.timedelta(0))
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        if sending != "invite":
            make_invitation(alice, "carol@example.com", sent_at=utcnow() - 4 * DAY)
    calls: dict[str, t.Callable[[], t.Any]] = {
        "invite": lambda: kaleo.invite(db.session.get_one(User, alice.id), "carol@example.com"),
        "resend": lambda: kaleo.resend(invitation_to("carol@example.com")),
        "remind": lambda: kaleo.remind(3 * DAY).reminded,
    }

    held = hold(calls[sending])
    swept = app.test_cli_runner().invoke(args=["kaleo", "deliver", "--older-than", "0"])
    assert swept.output.startswith("Delivered 0, queued 0, gave back 0, left 0"), swept.output
    with app.app_context():
        invitation_id = invitation_to("carol@example.com").id
        assert kaleo.deliver(invitation_id) == "nothing to do"
    result = held.finish()

    assert smtp.recipients() == ["carol@example.com"]
    if sending == "remind":
        assert result == 1
    with app.app_context():
        stored = invitation_to("carol@example.com")
        assert stored.delivered_at is not None and stored.delivery_lease_until is None
        assert stored.undo_sending is None
    _, token = accept_link(message_text(smtp.messages[0], "plain"))
    assert app.test_client().get(f"/invites/accept/{token}").status_code == 303


def test_two_deliver_commands_at_once_mail_each_stuck_invitation_once(
    app: Flask, smtp: SMTPServer, database_url: str, tmp_path: Path
) -> None:
    """Two ``flask kaleo deliver`` processes at once over six stuck invitations, with a
    relay that takes 0.3 s per message: six emails, one per address, and the two
    reports add up to six deliveries."""
    smtp.delay = 0.3
    addresses = [f"friend{n}@example.com" for n in range(6)]
    with app.app_context():
        alice = make_user("alice@example.com", 10)
        for address in addresses:
            make_invitation(alice, address, "sending", sent_at=utcnow() - DAY)

    command = [str(BIN / "flask"), "kaleo", "deliver", "--older-than", "0"]
    outputs = run_at_once(
        [command, command], worker_env(app, database_url, smtp, tmp_path), tmp_path
    )

    assert sorted(smtp.recipients()) == addresses
    delivered = [re.search(r"Delivered (\d+),", output) for output in outputs]
    assert sum(int(match.group(1)) for match in delivered if match) == 6, outputs
    with app.app_context():
        for address in addresses:
            stored = invitation_to(address)
            assert stored.delivery_attempts == 2  # the fixture's one, and this claim
            assert stored.delivered_at is not None and stored.delivery_lease_until is None


def test_a_claim_whose_process_died_is_swept_once_its_lease_passed(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    """An invitation claimed by a delivery that never finished keeps its lease: the
    sweep leaves it until the lease has passed, then mails it once."""
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        stuck = make_invitation(
            alice,
            "carol@example.com",
            "sending",
            sent_at=utcnow() - DAY,
            delivery_lease_until=utcnow() + dt.timedelta(minutes=3),
        )
        assert kaleo.deliver(older_than=dt.timedelta(0)).delivered == 0
        assert kaleo.deliver(stuck.id) == "nothing to do"
        assert smtp.messages == []
        lapse_lease(stuck.id)
        assert kaleo.deliver(older_than=dt.timedelta(0)).delivered == 1
        assert kaleo.deliver(older_than=dt.timedelta(0)).delivered == 0
    assert smtp.recipients() == ["carol@example.com"]


@pytest.mark.settings(KALEO_DELIVERY="queue", KALEO_RESEND_INTERVAL=dt.timedelta(0))
def test_no_resend_while_an_email_of_the_invitation_is_at_the_relay(
    app: Flask,
    smtp: SMTPServer,
    hold: t.Callable[[t.Callable[[], t.Any]], Held],
    kaleo: Kaleo[User],
) -> None:
    """A worker has the email at the relay: a resend now is refused as too soon (it
    would mail a second email, and the worker would record the first under its link)."""
    kaleo.delivery_queue(lambda invitation_id: None)
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        invitation_id = kaleo.invite(alice, "carol@example.com").id

    delivering = hold(lambda: kaleo.deliver(invitation_id))
    with app.app_context(), pytest.raises(ResendTooSoon):
        kaleo.resend(invitation_to("carol@example.com"))
    assert delivering.finish() == "delivered"

    assert smtp.recipients() == ["carol@example.com"]
    _, token = accept_link(message_text(smtp.messages[0], "plain"))
    assert app.test_client().get(f"/invites/accept/{token}").status_code == 303
