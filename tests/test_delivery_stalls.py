"""One member's delivery stalls in a relay that never answers; nobody else waits.

Delivery happens after the commit, holding no lock and no pooled connection: her other
requests, her invitees' signups and the staff's top-off go on while her email waits, and
a burst of her invites does not use up the connection pool. These tests prove it on
PostgreSQL and MariaDB, where locks and pools are real: the host app runs on a threaded
werkzeug server on 127.0.0.1, every member is a real HTTP client, and the stalled
requests sit in a real socket that never greets them, with a KALEO_MAIL_TIMEOUT far
longer than the test needs.

Only alice's deliveries stall: the app's transport (set with ``kaleo.transport``) sends
mail to ``@stalled.example`` to the silent relay and everything else through the default
Flask-Mail transport to a working aiosmtpd relay. One relay per path, rather than a
relay that stalls some clients: the working path is then exactly the default one.
Closing the silent relay at the end releases every stalled request, which gives its
invitation back.
"""

from __future__ import annotations

import smtplib
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo.delivery.transport import OutgoingEmail
from flask_kaleo.delivery.transport import Transport
from flask_kaleo.delivery.transport import flask_mail_transport
from flask_kaleo.exceptions import DeliveryError
from tests.helpers import WAIT
from tests.helpers import Browser
from tests.helpers import Reply
from tests.helpers import SilentRelay
from tests.helpers import SMTPServer
from tests.helpers import assert_counters_match_rows
from tests.helpers import assert_error
from tests.helpers import fresh
from tests.helpers import kaleo_of
from tests.helpers import make_user
from tests.helpers import returns
from tests.helpers import signed_in_session
from tests.hostapp import User
from tests.hostapp import db

STALLED = "stalled.example"
BURST = 16

pytestmark = [
    pytest.mark.backends("postgresql", "mariadb"),
    # SQLAlchemy's default pool (5 + 10 connections), with a shorter wait for one, so
    # that an exhausted pool shows as a 500 within the test rather than after 30 s.
    pytest.mark.settings(
        KALEO_MAIL_TIMEOUT=60,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5, "max_overflow": 10, "pool_timeout": 10},
    ),
]


def stalling_for(relay: SilentRelay) -> Transport:
    """A transport that sends mail to ``@stalled.example`` over SMTP to ``relay`` (where
    it waits for a greeting that never comes, up to the timeout) and everything else
    through the default transport."""

    def transport(email: OutgoingEmail, timeout: float) -> None:
        if not email.recipient.endswith(f"@{STALLED}"):
            flask_mail_transport(email, timeout)
            return
        try:
            smtplib.SMTP("127.0.0.1", relay.port, timeout=timeout)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"could not reach the mail relay: {error}") from error
        raise AssertionError("the silent relay greeted")

    return transport


def sign_up(app: Flask, invitation_id: int, email: str) -> int:
    """A new member who accepts the invitation in the transaction that creates her,
    as a signup view does; her id."""
    with app.app_context():
        user = User(email=email)
        db.session.add(user)
        db.session.flush()
        kaleo = kaleo_of(app)
        kaleo.accept(db.session.get_one(kaleo.JoinInvitation, invitation_id), user)
        db.session.commit()
        return int(user.id)


def given_back(reply: Reply) -> None:
    assert_error(reply, 200, code="delivery_failed")


def test_a_stalled_delivery_holds_up_nobody_else(
    app: Flask, live_port: int, smtp: SMTPServer, silent_relay: SilentRelay, kaleo: Kaleo[User]
) -> None:
    kaleo.transport(stalling_for(silent_relay))
    with app.app_context():
        alice = make_user("alice@example.com", 30)
        bob = make_user("bob@example.com", 3)
        cora = make_user("cora@example.com", 3)
        fresh(alice, bob)
    with app.test_request_context():
        inviter = db.session.get_one(User, alice.id)
        earlier = int(kaleo.invite(inviter, "old@example.com").id)
        dora_invitation = int(kaleo.invite(inviter, "dora@example.com").id)
    assert smtp.recipients() == ["old@example.com", "dora@example.com"]
    alice_session = signed_in_session(app, alice)
    pool = ThreadPoolExecutor(max_workers=BURST + 1)
    try:
        # alice's invitation waits in the relay, after its commit
        stalled = pool.submit(Browser(live_port, alice_session).invite, f"first@{STALLED}")
        silent_relay.wait_for(1)

        def still_stalled() -> None:
            assert not stalled.done(), stalled.result()

        still_stalled()

        # another member's invite goes out, through the working relay
        bob_browser = Browser(live_port, signed_in_session(app, bob))
        reply = returns(lambda: bob_browser.invite("erin@example.com"))
        assert reply.json["status"] == "OK", reply.json
        assert smtp.recipients()[-1] == "erin@example.com"
        still_stalled()

        # alice revokes an earlier invitation of hers
        reply = returns(lambda: Browser(live_port, alice_session).act("revoke", earlier))
        assert reply.json["status"] == "OK", reply.json
        still_stalled()

        # an invitee of alice's signs up with her invitation
        returns(lambda: sign_up(app, dora_invitation, "dora@example.com"))
        still_stalled()

        # the staff tops everyone off
        result = returns(
            lambda: app.test_cli_runner().invoke(args=["kaleo", "topoff-invites", "5"])
        )
        assert result.exit_code == 0, result.output
        still_stalled()

        # 16 more of alice's invitations stall; other members' pages still answer
        burst: list[Future[Reply]] = [
            pool.submit(Browser(live_port, alice_session).invite, f"friend{i}@{STALLED}")
            for i in range(BURST)
        ]
        silent_relay.wait_for(1 + BURST)
        cora_browser = Browser(live_port, signed_in_session(app, cora))
        page = returns(lambda: cora_browser.request("GET", "/"))
        assert page.status_code == 200, page.text
        assert 'class="invitations_remaining"' in page.text
        reply = returns(lambda: cora_browser.invite("finn@example.com"))
        assert reply.json["status"] == "OK", reply.json
        still_stalled()
        assert not any(future.done() for future in burst)

        # the relay goes away: every stalled request answers, and gives its invitation back
        silent_relay.close()
        for future in [stalled, *burst]:
            given_back(future.result(timeout=WAIT))
    finally:
        silent_relay.close()  # ends every stalled request (each HTTP wait is bounded too)
        pool.shutdown(wait=True, cancel_futures=True)

    with app.app_context():
        assert assert_counters_match_rows(alice.id) == (30, 1, 1)  # dora's, accepted
        assert assert_counters_match_rows(bob.id) == (6, 1, 0)  # topped off to 5 left
        assert assert_counters_match_rows(cora.id) == (5, 1, 0)
        sent = kaleo.sent_invitations(db.session.get(User, alice.id))
        statuses = [invitation.display_status for invitation in sent]
        assert statuses == ["revoked", "accepted"] + ["undeliverable"] * (1 + BURST)
    assert smtp.recipients() == [
        "old@example.com",
        "dora@example.com",
        "erin@example.com",
        "finn@example.com",
    ]
    assert silent_relay.connections == 1 + BURST
