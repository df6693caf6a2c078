"""The invitation email (DESIGN 6): its content, its link, and real delivery over SMTP.

Flask-Mail's recording checks what is sent; an aiosmtpd server on 127.0.0.1 checks that
it really goes out, and that a refusing or absent server costs the user nothing.
"""

from __future__ import annotations

import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import ConfigurationError
from tests.conftest import AJAX
from tests.conftest import SMTPHandler
from tests.conftest import csrf_token
from tests.conftest import free_port
from tests.conftest import login
from tests.conftest import make_user
from tests.conftest import message_text
from tests.conftest import post_invite
from tests.hostapp import User
from tests.hostapp import db
from tests.hostapp import kaleo

LINK = re.compile(r"(https?://[^/\s\"]+)/invites/accept/([A-Za-z0-9_\-]+)")


def accept_link(text: str) -> tuple[str, str]:
    """The (scheme://host, token) of the one accept link in ``text``."""
    links: set[tuple[str, str]] = set(LINK.findall(text))
    assert len(links) == 1, f"expected one accept link, found {links}"
    return links.pop()


def invitation_count() -> int:
    return db.session.scalars(sa.select(sa.func.count()).select_from(kaleo.JoinInvitation)).one()


def sent_count(user: User) -> int:
    """``invites_sent`` as stored (0 when the user has no stat row)."""
    table = kaleo.InvitationStat.__table__
    value = db.session.scalar(sa.select(table.c.invites_sent).where(table.c.user_id == user.id))
    return int(value or 0)


@pytest.mark.settings(KALEO_EMAIL_SUBJECT="[{site}] {inviter} sent you an invitation")
def test_email_carries_subject_addresses_link_inviter_message_and_expiry(
    app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=2)
    login(client, alice)

    response = post_invite(client, "Carol@Example.COM", "Come and see our garden.")

    assert response.json["status"] == "OK", response.json
    assert len(outbox) == 1
    sent = outbox[0]
    assert sent.subject == "[localhost] alice@example.com sent you an invitation"
    assert sent.recipients == ["Carol@Example.COM"]
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
    page = client.get("/", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None

    response = client.post(
        "/invites/invite",
        data={"email_address": "carol@example.com", "csrf_token": token.group(1)},
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
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
    login(client, alice)
    message = '<script>alert("hi")</script> & <b>Tom</b>\'s'

    response = post_invite(client, "carol@example.com", message)

    assert response.json["status"] == "OK", response.json
    html = outbox[0].html
    assert "<script>" not in html and "<b>Tom</b>" not in html
    assert "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; &lt;b&gt;Tom&lt;/b&gt;" in html
    assert message in outbox[0].body  # plain text is not HTML: shown as typed


def test_app_templates_override_the_email(
    app: Flask, client: FlaskClient, outbox: list[t.Any], tmp_path: t.Any
) -> None:
    folder = tmp_path / "templates" / "kaleo" / "email"
    folder.mkdir(parents=True)
    (folder / "invitation.txt").write_text(
        "Our own words from {{ inviter_label }}: {{ accept_url }}", encoding="utf-8"
    )
    app.template_folder = str(tmp_path / "templates")
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
    login(client, alice)

    response = post_invite(client, "carol@example.com")

    assert response.json["status"] == "OK", response.json
    body = outbox[0].body
    assert body.startswith("Our own words from alice@example.com: http://localhost/invites/")
    assert "has invited you" in outbox[0].html  # not overridden: the extension's own


# -- links outside a request ---------------------------------------------------------


@pytest.mark.settings(SERVER_NAME="invites.example.com", PREFERRED_URL_SCHEME="https")
def test_invite_outside_a_request_links_to_server_name(app: Flask, outbox: list[t.Any]) -> None:
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
    app: Flask, outbox: list[t.Any]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
        with pytest.raises(ConfigurationError, match="SERVER_NAME"):
            kaleo.invite(alice, "carol@example.com")

        assert outbox == []
        assert invitation_count() == 0
        assert sent_count(alice) == 0
        assert kaleo.invitations_remaining(alice) == 1


@pytest.mark.settings(MAIL_DEFAULT_SENDER=None)
def test_without_any_sender_mail_comes_from_noreply_at_the_host(
    app: Flask, outbox: list[t.Any]
) -> None:
    """Neither MAIL_DEFAULT_SENDER nor KALEO_EMAIL_SENDER: a sane sender, not a crash."""
    with app.test_request_context("/", base_url="https://invite.example.net:8443"):
        alice = make_user("alice@example.com", allocation=1)
        kaleo.invite(alice, "carol@example.com")
    assert [message.sender for message in outbox] == ["noreply@invite.example.net"]


@pytest.mark.settings(MAIL_DEFAULT_SENDER=None, KALEO_EMAIL_SENDER="Invites <hi@example.org>")
def test_kaleo_email_sender_wins(app: Flask, outbox: list[t.Any]) -> None:
    with app.test_request_context("/"):
        alice = make_user("alice@example.com", allocation=1)
        kaleo.invite(alice, "carol@example.com")
    assert [message.sender for message in outbox] == ["Invites <hi@example.org>"]


# -- real SMTP -------------------------------------------------------------------------


def assert_nothing_spent(response: t.Any, app: Flask, user: User) -> None:
    """The contract's ERROR for an undeliverable email, and no trace in the database."""
    assert response.status_code == 200
    assert response.json["status"] == "ERROR", response.json
    errors = response.json["errors"].lower()
    assert errors.startswith('<ul class="errorlist"><li>')
    assert "nothing was spent" in errors and "try again" in errors
    with app.app_context():
        assert invitation_count() == 0
        assert sent_count(user) == 0
        assert kaleo.invitations_remaining(user) == 1


class TestRealSMTP:
    """Delivery through an aiosmtpd server on 127.0.0.1."""

    @pytest.fixture
    def app_settings(self, smtp_handler: SMTPHandler) -> dict[str, t.Any]:
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_handler.port,
            "MAIL_SUPPRESS_SEND": False,
        }

    def test_accepting_server_receives_one_message_whose_link_works(
        self, app: Flask, client: FlaskClient, smtp_handler: SMTPHandler
    ) -> None:
        with app.app_context():
            alice = make_user("alice@example.com", allocation=1)
        login(client, alice)

        response = post_invite(client, "carol@example.com", "See you there")

        assert response.json["status"] == "OK", response.json
        assert len(smtp_handler.messages) == 1
        assert smtp_handler.envelopes == [("invites@example.org", ["carol@example.com"])]
        received = smtp_handler.messages[0]
        assert received["To"] == "carol@example.com"
        text = message_text(received, "plain")
        assert "See you there" in text
        host, token = accept_link(text)
        assert accept_link(message_text(received, "html")) == (host, token)
        assert host == "http://localhost"
        assert client.get(f"/invites/accept/{token}").status_code == 303

    @pytest.mark.parametrize("stage", ["RCPT", "DATA"])
    def test_refusing_server_spends_nothing_and_a_retry_succeeds(
        self, app: Flask, client: FlaskClient, smtp_handler: SMTPHandler, stage: str
    ) -> None:
        with app.app_context():
            alice = make_user("alice@example.com", allocation=1)
        login(client, alice)
        smtp_handler.refuse_at = stage

        assert_nothing_spent(post_invite(client, "carol@example.com"), app, alice)
        assert smtp_handler.messages == []

        smtp_handler.refuse_at = None
        retry = post_invite(client, "carol@example.com")
        assert retry.json["status"] == "OK", retry.json
        assert retry.json["invitations_remaining"] == 0
        assert len(smtp_handler.messages) == 1


class TestNoSMTPServer:
    """Nothing listens on the configured port: the connection is refused."""

    @pytest.fixture
    def app_settings(self) -> dict[str, t.Any]:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(), "MAIL_SUPPRESS_SEND": False}

    def test_closed_port_spends_nothing_and_a_retry_succeeds_once_a_server_listens(
        self, app: Flask, client: FlaskClient
    ) -> None:
        from aiosmtpd.controller import Controller

        with app.app_context():
            alice = make_user("alice@example.com", allocation=1)
        login(client, alice)
        token = csrf_token(client)

        assert_nothing_spent(post_invite(client, "carol@example.com", token=token), app, alice)

        handler = SMTPHandler()
        controller = Controller(handler, hostname="127.0.0.1", port=app.config["MAIL_PORT"])
        controller.start()
        try:
            retry = post_invite(client, "carol@example.com", token=token)
        finally:
            controller.stop()
        assert retry.json["status"] == "OK", retry.json
        assert len(handler.messages) == 1
