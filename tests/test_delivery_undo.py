"""A resend or reminder whose email cannot go undoes itself, in queued mode too: the
worker (``kaleo.deliver``, the job) puts back the columns as they were, so the link
the invitee already holds works again, the invitation stays pending and spent, and
nothing is refunded. Only a first sending that fails gives the invitation back.

The relay is a real SMTP server on 127.0.0.1 refusing for good (550) or for now (450,
until the last attempt).
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo import signals
from flask_kaleo.exceptions import DeliveryError
from tests.helpers import SMTPServer
from tests.helpers import accept_link
from tests.helpers import age
from tests.helpers import assert_counters_match_rows
from tests.helpers import expire
from tests.helpers import invitation_to
from tests.helpers import make_user
from tests.helpers import message_text
from tests.helpers import received
from tests.hostapp import User
from tests.hostapp import db

pytestmark = [
    pytest.mark.all_backends,
    pytest.mark.settings(
        KALEO_DELIVERY="queue",
        KALEO_SITE_URL="http://localhost",
        KALEO_RESEND_INTERVAL=dt.timedelta(0),
        KALEO_DELIVERY_RETRIES=[dt.timedelta(minutes=1)],
    ),
]
DAY = dt.timedelta(days=1)
COLUMNS = (
    "status",
    "token_digest",
    "resent_at",
    "reminded_at",
    "delivered_at",
    "delivery_attempts",
    "expires_at",
    "link_only",
    "delivery_lease_until",
    "undo_sending",
)


def columns(invitation: t.Any) -> dict[str, t.Any]:
    return {name: getattr(invitation, name) for name in COLUMNS}


@pytest.mark.parametrize("again", ["resend", "remind"])
@pytest.mark.parametrize("refusal", ["permanent", "last attempt"])
def test_a_refused_queued_resend_or_reminder_puts_the_earlier_link_back(
    app: Flask, smtp: SMTPServer, again: str, refusal: str, kaleo: Kaleo[User]
) -> None:
    queued: list[int] = []
    kaleo.delivery_queue(queued.append)
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        alice_id = alice.id
        invitation_id = kaleo.invite(alice, "carol@example.com").id
        assert kaleo.deliver(invitation_id) == "delivered"
        age(invitation_id, 4)
        earlier = columns(invitation_to("carol@example.com"))
    _, token = accept_link(message_text(smtp.messages[0], "plain"))

    with app.app_context():
        if again == "resend":
            kaleo.resend(invitation_to("carol@example.com"))
        else:
            assert kaleo.remind(3 * DAY).reminded == 1
        assert queued == [invitation_id, invitation_id]
        smtp.refuse_at = "RCPT"
        if refusal == "last attempt":
            smtp.rcpt_refusal = "450 4.2.1 Mailbox busy, try again later"
            with pytest.raises(DeliveryError):
                kaleo.deliver(invitation_id)  # the first of two attempts: retried
            assert invitation_to("carol@example.com").delivered_at is None
        with received(signals.invite_undeliverable) as given_back:
            assert kaleo.deliver(invitation_id) == "put back"
        after = invitation_to("carol@example.com")
        assert columns(after) == earlier
        assert given_back == []
        assert assert_counters_match_rows(alice_id) == (3, 1, 0)
        assert kaleo.deliver(invitation_id) == "nothing to do"
        assert kaleo.deliver(older_than=dt.timedelta(0)).queued == 0
    assert smtp.recipients() == ["carol@example.com"]  # the first email only
    assert app.test_client().get(f"/invites/accept/{token}").status_code == 303


def test_a_refused_first_sending_is_given_back(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    kaleo.delivery_queue(lambda invitation_id: None)
    smtp.refuse_at = "RCPT"
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        alice_id = alice.id
        invitation_id = kaleo.invite(alice, "carol@example.com").id
        with received(signals.invite_undeliverable) as given_back:
            assert kaleo.deliver(invitation_id) == "given back"
        assert invitation_to("carol@example.com").status == "undeliverable"
        assert given_back == [{"invitation": invitation_id, "inviter": alice_id}]
        assert assert_counters_match_rows(alice_id) == (3, 0, 0)


def test_a_refused_resend_of_a_link_only_invitation_leaves_it_a_link(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    """The columns put back include those the resend changed besides the link: a link
    created without email stays one (and is not reminded)."""
    kaleo.delivery_queue(lambda invitation_id: None)
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        alice_id = alice.id
        invitation = kaleo.invite(alice, "carol@example.com", send=False)
        link = invitation.accept_url
        earlier = columns(invitation_to("carol@example.com"))
        kaleo.resend(invitation_to("carol@example.com"))
        smtp.refuse_at = "RCPT"
        assert kaleo.deliver(invitation.id) == "put back"
        assert columns(invitation_to("carol@example.com")) == earlier
        assert invitation_to("carol@example.com").link_only
        assert assert_counters_match_rows(alice_id) == (3, 1, 0)
    assert link is not None
    assert app.test_client().get(link.removeprefix("http://localhost")).status_code == 303


def test_a_sweep_that_cannot_queue_leaves_the_invitations_for_a_later_sweep(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    """The queue is down while the sweep runs: a stuck resend keeps its earlier link and
    a stuck first sending stays spent; both wait for the next sweep."""

    def down(invitation_id: int) -> None:
        raise ConnectionError("the queue is down")

    kaleo.delivery_queue(lambda invitation_id: None)
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        alice_id = alice.id
        first = kaleo.invite(alice, "carol@example.com").id
        assert kaleo.deliver(first) == "delivered"
        kaleo.resend(invitation_to("carol@example.com"))
        kaleo.invite(alice, "dave@example.com")
        kaleo.delivery_queue(down)
        report = kaleo.deliver(older_than=dt.timedelta(0))
        assert (report.queued, report.given_back, report.failed) == (0, 0, 2)
        for address in ("carol@example.com", "dave@example.com"):
            stored = invitation_to(address)
            assert (stored.status, stored.delivered_at) == ("sent", None)
        assert assert_counters_match_rows(alice_id) == (3, 2, 0)
        kaleo.delivery_queue(lambda invitation_id: None)
        assert kaleo.deliver(older_than=dt.timedelta(0)).queued == 2
    _, token = accept_link(message_text(smtp.messages[0], "plain"))
    assert app.test_client().get(f"/invites/accept/{token}").status_code == 303


def test_a_resend_that_expired_waiting_is_put_back_not_given_back(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    """A queued resend whose invitation expired before any worker claimed it: the job
    puts the earlier columns back, and the expired invitation stays spent."""
    kaleo.delivery_queue(lambda invitation_id: None)
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        alice_id = alice.id
        invitation_id = kaleo.invite(alice, "carol@example.com").id
        assert kaleo.deliver(invitation_id) == "delivered"
        kaleo.resend(invitation_to("carol@example.com"))
        expire(invitation_id)
        # as if time had passed the expiry: the expiry before the resend was the same
        stored = invitation_to("carol@example.com")
        record = {**json.loads(stored.undo_sending), "expires_at": stored.expires_at.isoformat()}
        model = kaleo.JoinInvitation
        db.session.execute(
            sa.update(model)
            .where(model.id == invitation_id)
            .values(undo_sending=json.dumps(record))
        )
        db.session.commit()
        with received(signals.invite_undeliverable) as given_back:
            assert kaleo.deliver(invitation_id) == "put back"
        stored = invitation_to("carol@example.com")
        assert (stored.status, stored.display_status) == ("sent", "expired")
        assert stored.delivered_at is not None and stored.undo_sending is None
        assert given_back == []
        assert assert_counters_match_rows(alice_id) == (3, 1, 0)
    assert len(smtp.messages) == 1
