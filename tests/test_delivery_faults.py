"""Inline delivery against relays that fail, on every database, through the invite
endpoint.

The invitation and the spend commit first, then the email goes to the relay. A relay
that never answers (within ``KALEO_MAIL_TIMEOUT``), refuses the recipient or the
message, or is not there at all gives the invitation back: the request answers the
contract's ERROR "nothing was spent", the row is ``undeliverable`` and the allocation
is whole again. A relay that accepted the message and then drops the line at QUIT has
delivered it: the request answers OK and the invitee's link works. Every test ends by
checking that the counters agree with the rows.
"""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from flask_kaleo import signals
from tests.helpers import AJAX
from tests.helpers import SilentRelay
from tests.helpers import SMTPServer
from tests.helpers import accept_link
from tests.helpers import assert_counters_match_rows
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import free_port
from tests.helpers import invitation_to
from tests.helpers import kaleo_of
from tests.helpers import mail_relay
from tests.helpers import message_text
from tests.helpers import post_invite
from tests.helpers import received
from tests.helpers import returns
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import db

pytestmark = pytest.mark.all_backends


def invite(client: FlaskClient, email: str) -> t.Any:
    """POST the invite form as kaleo's jQuery snippet does; the request must return
    (within the helpers' deadline) whatever the relay does."""
    token = csrf_token(client)
    return returns(lambda: post_invite(client, email, token=token))


def assert_given_back(app: Flask, response: t.Any, user: User, signalled: list[t.Any]) -> None:
    """The ERROR "nothing was spent"; the one invitation is undeliverable, holds no
    pending slot, and went back to the allocation (with the signal saying so)."""
    errors = assert_error(response, 200, code="delivery_failed")
    # One code answers every email not delivered: the text tells what became of this one.
    assert "nothing was spent" in errors and "try again" in errors.lower()
    with app.app_context():
        invitation = invitation_to("carol@example.com")
        invitation_id = invitation.id
        assert (invitation.status, invitation.pending_email_key) == ("undeliverable", None)
        assert invitation.delivered_at is None
        assert invitation.display_status == "undeliverable"
        assert assert_counters_match_rows(user.id) == (1, 0, 0)
        assert kaleo_of(app).invitations_remaining(db.session.get_one(User, user.id)) == 1
    assert signalled == [{"invitation": invitation_id, "inviter": user.id}]


def assert_delivered(app: Flask, client: FlaskClient, response: t.Any, smtp: SMTPServer) -> None:
    """The contract's OK; the invitation is pending and delivered, spent once, and the
    link the relay received works."""
    assert response.status_code == 200
    assert response.json["status"] == "OK", response.json
    [message] = smtp.messages
    _, token = accept_link(message_text(message, "plain"))
    with app.app_context():
        invitation = kaleo_of(app).store.invitation_by_token(token)
        assert invitation is not None and invitation.email == "carol@example.com"
        assert invitation.status == "sent" and invitation.delivered_at is not None
        assert invitation.display_status == "sent"
        assert assert_counters_match_rows(invitation.from_user_id)[1] == 1
    assert client.get(f"/invites/accept/{token}").status_code == 303


@pytest.mark.settings(KALEO_MAIL_TIMEOUT=0.5)
def test_silent_relay_times_out_and_nothing_is_spent(
    app: Flask, client: FlaskClient, silent_relay: SilentRelay
) -> None:
    """A relay that takes the connection and never greets: the request gives up after
    KALEO_MAIL_TIMEOUT and returns; the invitation is given back."""
    alice = signed_in(client, allocation=1)

    with mail_relay(app, silent_relay.port), received(signals.invite_undeliverable) as calls:
        response = invite(client, "carol@example.com")

    assert silent_relay.connections == 1  # it did reach the relay, and waited there
    assert_given_back(app, response, alice, calls)


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_relay_refusing_gives_the_invitation_back(
    app: Flask, client: FlaskClient, smtp: SMTPServer, stage: t.Literal["RCPT", "DATA"]
) -> None:
    """550 to the recipient or to the message: nothing spent, nothing received."""
    alice = signed_in(client, allocation=1)
    smtp.refuse_at = stage

    with received(signals.invite_undeliverable) as calls:
        response = invite(client, "carol@example.com")

    assert_given_back(app, response, alice, calls)
    assert smtp.messages == []


def test_relay_dropping_at_quit_has_delivered(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    """The relay accepted DATA, then the line drops when the client says QUIT: the
    email is on its way, so the invitation is delivered and its link works."""
    signed_in(client, allocation=1)
    smtp.drop_at_quit = True

    with received(signals.invite_undeliverable) as calls:
        response = invite(client, "carol@example.com")

    assert smtp.dropped == 1
    assert calls == []
    assert_delivered(app, client, response, smtp)


def test_closed_port_gives_back_and_a_retry_to_a_working_relay_succeeds(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    """Nothing listens on the relay's port (connection refused): nothing spent; the
    same invitation then goes out through a relay that works."""
    alice = signed_in(client, allocation=1)

    with mail_relay(app, free_port()), received(signals.invite_undeliverable) as calls:
        response = invite(client, "carol@example.com")
    assert_given_back(app, response, alice, calls)

    smtp = SMTPServer()
    smtp.start()
    try:
        with mail_relay(app, smtp.port):
            retry = invite(client, "carol@example.com")
    finally:
        smtp.stop()
    assert retry.json["invitations_remaining"] == 0
    assert_delivered(app, client, retry, smtp)
    with app.app_context():
        model = kaleo.JoinInvitation
        rows = db.session.execute(sa.select(model.status).order_by(model.id)).scalars().all()
        assert rows == ["undeliverable", "sent"]
        assert assert_counters_match_rows(alice.id) == (1, 1, 0)


@pytest.mark.settings(KALEO_RESEND_INTERVAL=0)
def test_resend_refused_keeps_the_old_link_and_the_new_one_never_exists(
    app: Flask, client: FlaskClient, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    """Resending through a relay that refuses the message: the ERROR, and the link of
    the first email still works while the link of the refused one leads nowhere."""
    alice = signed_in(client, allocation=1)
    assert invite(client, "carol@example.com").json["status"] == "OK"
    [first] = smtp.messages
    _, old_token = accept_link(message_text(first, "plain"))
    with app.app_context():
        invitation_id = invitation_to("carol@example.com").id
    smtp.refuse_at = "DATA"

    token = csrf_token(client)
    response = returns(
        lambda: client.post(
            f"/invites/resend/{invitation_id}", data={"csrf_token": token}, headers=AJAX
        )
    )

    assert_error(response, 200, code="delivery_failed")
    # One code answers every email not delivered: the text tells what became of this one.
    assert "earlier link still works" in response.json["errors"]
    [refused] = smtp.refused  # the relay saw the new link, and refused to carry it
    _, new_token = accept_link(message_text(refused, "plain"))
    assert new_token != old_token
    with app.app_context():
        invitation = invitation_to("carol@example.com")
        assert invitation.status == "sent" and invitation.delivered_at is not None
        assert kaleo.store.invitation_by_token(new_token) is None
        assert assert_counters_match_rows(alice.id) == (1, 1, 0)
    assert client.get(f"/invites/accept/{new_token}").status_code == 404
    assert client.get(f"/invites/accept/{old_token}").status_code == 303
