"""A forged ``Host:`` header never reaches an email.

Out of debug and testing mode, links, the subject's site name and the default sender
come from ``KALEO_SITE_URL`` (or ``SERVER_NAME``); an app that names its hosts in
Flask's ``TRUSTED_HOSTS`` instead refuses a request for any other host before anything
is spent or sent. The emails are read as a real relay (aiosmtpd) received them, every
byte of them.
"""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import AJAX
from tests.helpers import BROWSER
from tests.helpers import SMTPServer
from tests.helpers import accept_link
from tests.helpers import assert_counters_match_rows
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import invitation_count
from tests.helpers import make_user
from tests.helpers import message_text
from tests.hostapp import User

FORGED = "http://phish.example"
PRODUCTION = {"TESTING": False, "MAIL_DEFAULT_SENDER": None}
"""Not in testing mode, and no sender configured: the sender is ``noreply@<site>``."""


def signed_in_at(client: FlaskClient, base_url: str, allocation: int = 1) -> tuple[User, str]:
    """alice, signed in on ``client`` for requests to ``base_url``; a CSRF token."""
    with client.application.app_context():
        alice = make_user("alice@example.com", allocation)
    with client.session_transaction(base_url=base_url) as session:
        session["_user_id"] = str(alice.id)
        session["_fresh"] = True
    return alice, csrf_token(client, base_url=base_url)


def post_invite_at(client: FlaskClient, base_url: str, token: str) -> t.Any:
    """The invite form posted to ``base_url``, its Host header and a forwarded host
    both saying so."""
    host = base_url.split("://", 1)[1]
    return client.post(
        "/invites/invite",
        data={"email_address": "carol@example.com", "csrf_token": token},
        headers={**AJAX, "X-Forwarded-Host": host},
        base_url=base_url,
    )


def raw(message: t.Any) -> str:
    return str(message.as_string())


@pytest.mark.settings(KALEO_SITE_URL="https://real.example", **PRODUCTION)
def test_forged_host_puts_nothing_of_itself_in_the_email(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    alice, token = signed_in_at(client, FORGED)

    response = post_invite_at(client, FORGED, token)

    assert response.json["status"] == "OK", response.json
    [message] = smtp.messages
    text, html = message_text(message, "plain"), message_text(message, "html")
    for part in (raw(message), text, html, message["Subject"], message["From"]):
        assert "phish" not in part
    assert smtp.envelopes == [("noreply@real.example", ["carol@example.com"])]
    assert message["From"] == "noreply@real.example"
    assert message["Subject"] == "alice@example.com has invited you to join real.example"
    host, link_token = accept_link(text)
    assert accept_link(html) == (host, link_token)
    assert host == "https://real.example"
    assert f"https://real.example/invites/accept/{link_token}" in text
    assert client.get(f"/invites/accept/{link_token}").status_code == 303
    with app.app_context():
        assert assert_counters_match_rows(alice.id) == (1, 1, 0)


@pytest.mark.settings(TRUSTED_HOSTS=["real.example"], **PRODUCTION)
def test_untrusted_host_is_refused_and_nothing_is_sent(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    """No site URL, but trusted hosts: a request for another host is a 400 in the
    ERROR shape (for kaleo's JSON callers) and nothing is spent or sent; one for the
    trusted host is answered, with links to it."""
    real = "http://real.example"
    alice, token = signed_in_at(client, real)
    cookie = client.get_cookie("session", domain="real.example")
    assert cookie is not None
    client.set_cookie("session", cookie.value, domain="phish.example")  # the same session

    refused = post_invite_at(client, FORGED, token)

    assert_error(refused, 400)
    # the host app's own pages, and a browser's form post, keep Flask's plain 400
    assert client.get("/", base_url=FORGED, headers=AJAX).mimetype == "text/html"
    browser = client.post(
        "/invites/invite", data={"csrf_token": token}, headers=BROWSER, base_url=FORGED
    )
    assert (browser.status_code, browser.mimetype) == (400, "text/html")
    # kaleo's 400 page, styled like every kaleo page: its stylesheet's path is built
    # without the refused host (url_for cannot build one: it was a 500)
    assert '<link rel="stylesheet" href="/invites/static/kaleo.css">' in browser.text
    assert '<section class="kaleo-card kaleo-card-400">' in browser.text
    assert smtp.messages == []
    with app.app_context():
        assert invitation_count() == 0
        assert assert_counters_match_rows(alice.id) == (1, 0, 0)

    response = post_invite_at(client, real, token)
    assert response.json["status"] == "OK", response.json
    [message] = smtp.messages
    assert "phish" not in raw(message)
    assert accept_link(message_text(message, "plain"))[0] == real
    assert message["From"] == "noreply@real.example"


@pytest.mark.settings(KALEO_SITE_URL="https://real.example", **PRODUCTION)
def test_cli_invite_builds_links_from_the_site_url(app: Flask, smtp: SMTPServer) -> None:
    """``flask kaleo invite`` runs outside any request: the link, subject and sender
    still name the configured site."""
    with app.app_context():
        alice = make_user("alice@example.com", 1)

    result = app.test_cli_runner().invoke(
        args=["kaleo", "invite", "alice@example.com", "carol@example.com"]
    )

    assert result.exit_code == 0, result.output
    [message] = smtp.messages
    text = message_text(message, "plain")
    assert accept_link(text)[0] == "https://real.example"
    assert accept_link(message_text(message, "html"))[0] == "https://real.example"
    assert message["From"] == "noreply@real.example"
    assert message["Subject"] == "alice@example.com has invited you to join real.example"
    with app.app_context():
        assert assert_counters_match_rows(alice.id) == (1, 1, 0)
