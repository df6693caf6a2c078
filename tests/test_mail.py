"""The invitation email: its content, its link, and real delivery over SMTP.

Flask-Mail's recording checks what is sent; an aiosmtpd server on 127.0.0.1 checks that
it really goes out, and that a refusing or absent server costs the user nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import ConfigurationError
from flask_kaleo import Kaleo
from flask_kaleo import signals
from flask_kaleo.delivery.transport import OutgoingEmail
from flask_kaleo.exceptions import DeliveryError
from flask_kaleo.models import utcnow
from tests.helpers import AJAX
from tests.helpers import SMTPServer
from tests.helpers import accept_link
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import invitation_count
from tests.helpers import kaleo_of
from tests.helpers import make_user
from tests.helpers import message_text
from tests.helpers import post_invite
from tests.helpers import received
from tests.helpers import signed_in
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db


@pytest.mark.settings(KALEO_EMAIL_SUBJECT="[{site}] {inviter} sent you an invitation")
def test_email_carries_subject_addresses_link_inviter_message_and_expiry(
    app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    signed_in(client, allocation=2)

    response = post_invite(client, "Carol@Example.COM", "Come and see our garden.")

    assert response.json["status"] == "OK", response.json
    assert len(outbox) == 1
    sent = outbox[0]
    assert sent.subject == "[localhost] alice@example.com sent you an invitation"
    assert sent.recipients == ["Carol@example.com"]  # the domain validated, in lower case
    assert sent.sender == "invites@example.org"
    with app.app_context():
        invitation = db.session.scalars(sa.select(kaleo.JoinInvitation)).one()
        expiry = invitation.expires_at.strftime("%d %B %Y, %H:%M UTC")
    for body in (sent.body, sent.html):
        assert accept_link(body)[0] == "http://localhost"
        assert "alice@example.com" in body
        assert "Come and see our garden." in body
        assert expiry in body
    assert f'href="http://localhost/invites/accept/{accept_link(sent.html)[1]}"' in sent.html

    # The link in the email is the one that works, and only its digest is stored.
    host, token = accept_link(sent.body)
    assert token not in (invitation.token_digest, "")
    response = client.get(f"/invites/accept/{token}")
    assert response.status_code == 303


def test_link_uses_the_host_the_request_came_to(
    app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    base = "https://invite.example.net"
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
    with client.session_transaction(base_url=base) as session:
        session["_user_id"] = str(alice.id)
    token = csrf_token(client, base_url=base)

    response = client.post(
        "/invites/invite",
        data={"email_address": "carol@example.com", "csrf_token": token},
        headers={**AJAX, "Referer": f"{base}/"},  # Flask-WTF checks it over HTTPS
        base_url=base,
    )

    assert response.json["status"] == "OK", response.json
    host, link_token = accept_link(outbox[0].body)
    assert host == base
    assert accept_link(outbox[0].html) == (host, link_token)
    assert "invite.example.net" in outbox[0].subject  # the site name is the host too
    assert client.get(f"/invites/accept/{link_token}", base_url=base).status_code == 303


def test_html_body_escapes_the_message_and_text_body_keeps_it(
    app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    signed_in(client, allocation=1)
    message = '<script>alert("hi")</script> & <b>Tom</b>\'s'

    response = post_invite(client, "carol@example.com", message)

    assert response.json["status"] == "OK", response.json
    html = outbox[0].html
    assert "<script>" not in html and "<b>Tom</b>" not in html
    assert "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; &lt;b&gt;Tom&lt;/b&gt;" in html
    assert message in outbox[0].body  # plain text is not HTML: shown as typed


@pytest.mark.settings(KALEO_SITE_URL="http://localhost")
def test_the_reminders_html_body_escapes_the_message_too(
    app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    alice = signed_in(client, allocation=1)
    message = '<script>alert("hi")</script> & <b>Tom</b>\'s'
    assert post_invite(client, "carol@example.com", message).json["status"] == "OK"
    with app.app_context():
        model = kaleo.JoinInvitation
        sent_at = utcnow() - dt.timedelta(days=4)
        db.session.execute(sa.update(model).values(sent_at=sent_at, delivered_at=sent_at))
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["kaleo", "remind", "--after", "3d"])

    assert result.output.startswith("Reminded 1 invitation;"), result.output
    reminder = outbox[1]
    assert reminder.subject.startswith("Reminder: ") and reminder.recipients == [
        "carol@example.com"
    ]
    assert "<script>" not in reminder.html and "<b>Tom</b>" not in reminder.html
    escaped = "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; &lt;b&gt;Tom&lt;/b&gt;"
    assert escaped + "&#39;s</blockquote>" in reminder.html
    assert message in reminder.body
    with app.app_context():
        assert stat_row(alice.id) == (1, 1, 0)


def test_app_templates_override_the_email(
    app: Flask, client: FlaskClient, outbox: list[t.Any], tmp_path: t.Any
) -> None:
    folder = tmp_path / "templates" / "kaleo" / "email"
    folder.mkdir(parents=True)
    (folder / "invitation.txt").write_text(
        "Our own words from {{ inviter_label }}: {{ accept_url }}", encoding="utf-8"
    )
    app.template_folder = str(tmp_path / "templates")
    signed_in(client, allocation=1)

    response = post_invite(client, "carol@example.com")

    assert response.json["status"] == "OK", response.json
    body = outbox[0].body
    assert body.startswith("Our own words from alice@example.com: http://localhost/invites/")
    assert "has invited you" in outbox[0].html  # not overridden: the extension's own


# -- links outside a request ---------------------------------------------------------


@pytest.mark.settings(SERVER_NAME="invites.example.com", PREFERRED_URL_SCHEME="https")
def test_invite_outside_a_request_links_to_server_name(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
        invitation = kaleo.invite(alice, "carol@example.com", "Hello from a worker")

        assert len(outbox) == 1
        assert accept_link(outbox[0].body) == ("https://invites.example.com", invitation.token)
        assert accept_link(outbox[0].html) == ("https://invites.example.com", invitation.token)
        assert "invites.example.com" in outbox[0].subject
    response = app.test_client().get(
        f"/invites/accept/{invitation.token}", base_url="https://invites.example.com"
    )
    assert response.status_code == 303


def test_invite_outside_a_request_without_server_name_names_it_and_spends_nothing(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
        with pytest.raises(ConfigurationError, match="SERVER_NAME"):
            kaleo.invite(alice, "carol@example.com")

        assert outbox == []
        assert invitation_count() == 0
        assert stat_row(alice.id) == (1, 0, 0)


@pytest.mark.settings(MAIL_DEFAULT_SENDER=None)
def test_without_any_sender_mail_comes_from_noreply_at_the_host(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    """Neither MAIL_DEFAULT_SENDER nor KALEO_EMAIL_SENDER: a sane sender, not a crash."""
    with app.test_request_context("/", base_url="https://invite.example.net:8443"):
        alice = make_user("alice@example.com", allocation=1)
        kaleo.invite(alice, "carol@example.com")
    assert [message.sender for message in outbox] == ["noreply@invite.example.net"]


@pytest.mark.settings(MAIL_DEFAULT_SENDER=None, KALEO_EMAIL_SENDER="Invites <hi@example.org>")
def test_kaleo_email_sender_wins(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    with app.test_request_context("/"):
        alice = make_user("alice@example.com", allocation=1)
        kaleo.invite(alice, "carol@example.com")
    assert [message.sender for message in outbox] == ["Invites <hi@example.org>"]


# -- real SMTP -------------------------------------------------------------------------


def assert_nothing_spent(response: t.Any, app: Flask, user: User) -> None:
    """The contract's ERROR for an undeliverable email: the invitation is kept as
    ``undeliverable`` (not pending, so it blocks nothing) and given back."""
    errors = assert_error(response, 200).lower()
    assert "nothing was spent" in errors and "try again" in errors
    with app.app_context():
        model = kaleo_of(app).JoinInvitation
        states = db.session.execute(sa.select(model.status, model.pending_email_key)).all()
        assert [tuple(row) for row in states] == [("undeliverable", None)]
        assert stat_row(user.id) == (1, 0, 0)


def test_accepting_server_receives_one_message_whose_link_works(
    client: FlaskClient, smtp: SMTPServer
) -> None:
    signed_in(client, allocation=1)

    response = post_invite(client, "carol@example.com", "See you there")

    assert response.json["status"] == "OK", response.json
    assert smtp.envelopes == [("invites@example.org", ["carol@example.com"])]
    [received] = smtp.messages
    assert received["To"] == "carol@example.com"
    text = message_text(received, "plain")
    assert "See you there" in text
    host, token = accept_link(text)
    assert accept_link(message_text(received, "html")) == (host, token)
    assert host == "http://localhost"
    assert client.get(f"/invites/accept/{token}").status_code == 303


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_refusing_server_spends_nothing_and_a_retry_succeeds(
    app: Flask, client: FlaskClient, smtp: SMTPServer, stage: t.Literal["RCPT", "DATA"]
) -> None:
    alice = signed_in(client, allocation=1)
    smtp.refuse_at = stage

    assert_nothing_spent(post_invite(client, "carol@example.com"), app, alice)
    assert smtp.messages == []

    smtp.refuse_at = None
    retry = post_invite(client, "carol@example.com")
    assert retry.json["status"] == "OK", retry.json
    assert retry.json["invitations_remaining"] == 0
    assert len(smtp.messages) == 1


def test_closed_port_spends_nothing_and_a_retry_succeeds_once_a_server_listens(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    alice = signed_in(client, allocation=1)
    token = csrf_token(client)
    smtp.stop()  # nothing listens on the configured port: the connection is refused

    assert_nothing_spent(post_invite(client, "carol@example.com", token=token), app, alice)

    smtp.start()
    retry = post_invite(client, "carol@example.com", token=token)
    assert retry.json["status"] == "OK", retry.json
    assert len(smtp.messages) == 1


@pytest.mark.settings(KALEO_MAIL_TIMEOUT=2.5)
def test_a_transport_of_the_apps_own_gets_the_rendered_email_and_the_timeout(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    sent: list[tuple[OutgoingEmail, float]] = []

    @kaleo.transport
    def http_api(email: OutgoingEmail, timeout: float) -> None:
        sent.append((email, timeout))

    signed_in(client, allocation=1)
    assert post_invite(client, "carol@example.com", "Hi <b>").json["status"] == "OK"
    [(email, timeout)] = sent
    assert timeout == 2.5
    assert (email.recipient, email.sender) == ("carol@example.com", "invites@example.org")
    assert email.subject == "alice@example.com has invited you to join localhost"
    assert "Hi <b>" in email.text and "Hi &lt;b&gt;" in email.html
    link = re.search(r"http://localhost/invites/accept/\S+", email.text)
    assert link is not None
    assert client.get(link.group()).status_code == 303


def test_a_transport_that_gives_up_gives_the_invitation_back(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    @kaleo.transport
    def refuse(email: OutgoingEmail, timeout: float) -> None:
        raise DeliveryError("the mail API said no", permanent=True)

    alice = signed_in(client, allocation=1)
    with received(signals.invite_undeliverable) as calls:
        response = post_invite(client, "carol@example.com")
    assert_nothing_spent(response, app, alice)
    assert [call["inviter"] for call in calls] == [alice.id]
