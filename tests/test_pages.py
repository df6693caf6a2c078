"""kaleo's own pages (all on kaleo/base.html, each saying what to do next), the
one-time check of the page settings, development mail, the inviter's display name,
and the words shown to people."""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

import pytest
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient
from flask_login import login_user

from flask_kaleo import Kaleo
from flask_kaleo.cli.params import plural
from flask_kaleo.exceptions import ConfigurationError
from flask_kaleo.web.text import invitations_left
from tests.helpers import accept_link
from tests.helpers import csrf_token
from tests.helpers import link_for
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import reconfigure
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import login_manager

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
BASE = '<main class="kaleo-page">'


# -- every page on kaleo/base.html ---------------------------------------------------


def test_a_visit_to_the_invite_endpoint_is_a_kaleo_405_page(client: FlaskClient) -> None:
    response = client.get("/invites/invite", headers=BROWSER)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.mimetype == "text/html"
    assert BASE in response.text
    assert "<title>Method Not Allowed</title>" in response.text
    assert "Go back to the page with the form." in response.text


def test_json_callers_keep_the_error_shape(client: FlaskClient) -> None:
    response = client.get("/invites/invite", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.json["status"] == "ERROR"
    assert response.json["error_list"] == {"__all__": ["Use POST here."]}


def test_a_browser_that_must_sign_in_gets_a_kaleo_401_page(client: FlaskClient) -> None:
    """No login view configured: Flask-Login answers 401, rendered by kaleo."""
    form = {"email_address": "x@example.com", "csrf_token": csrf_token(client)}
    response = client.post("/invites/invite", data=form, headers=BROWSER)
    assert response.status_code == 401
    assert BASE in response.text and "Please log in to see this page." in response.text


def test_unknown_link_and_invite_only_pages_use_the_base(app: Flask) -> None:
    unknown = app.test_client().get("/invites/accept/no-such-token")
    assert unknown.status_code == 404 and BASE in unknown.text
    with app.test_request_context():
        page = render_template_string('{% include "kaleo/invite_only.html" %}')
    assert BASE in page


# -- used, expired, revoked: what to do next ------------------------------------------


@pytest.mark.settings(KALEO_LOGIN_URL="/login")
def test_a_used_invitation_offers_to_log_in(app: Flask) -> None:
    response = app.test_client().get(link_for(app, "bob@example.com", "accepted"))
    assert response.status_code == 410 and BASE in response.text
    assert "Invitation already used" in response.text
    assert "If you accepted it, you already have an account" in response.text
    assert '<a class="kaleo-login" href="/login">log in</a>' in response.text
    assert "Ask the person who invited you" not in response.text


@pytest.mark.settings(KALEO_LOGIN_URL="/login")
@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_an_expired_or_revoked_invitation_says_to_ask_for_a_new_one(app: Flask, state: str) -> None:
    response = app.test_client().get(link_for(app, "bob@example.com", state))
    assert response.status_code == 410
    assert f"Invitation {state}" in response.text
    assert "Ask the person who invited you to send a new invitation." in response.text
    assert 'Already a member? <a class="kaleo-login" href="/login">Log in</a>' in response.text


@pytest.mark.settings(KALEO_LOGIN_URL="/login", KALEO_RESEND_INTERVAL=dt.timedelta(0))
def test_a_replaced_accept_url_and_a_used_up_link_offer_to_log_in(
    app: Flask, kaleo: Kaleo[User]
) -> None:
    """Every 410 a token URL answers links to log in: the accept URL a resend replaced,
    and a shareable link nobody may join through any more."""
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=5)
        invitation = kaleo.invite(alice, "bob@example.com")
        replaced = f"/invites/accept/{invitation.token}"
        kaleo.resend(invitation)
        link = kaleo.create_link(alice, 1)
        joined = link.url.split("/invites", 1)[1]
        kaleo.revoke(link)
    for path in (replaced, f"/invites{joined}"):
        response = app.test_client().get(path)
        assert response.status_code == 410 and BASE in response.text, path
        assert 'class="kaleo-login" href="/login"' in response.text, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_the_log_in_link_comes_from_flask_login(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.add_url_rule("/sign-in", "sign_in", lambda: "log in here")
    monkeypatch.setattr(login_manager, "login_view", "sign_in")
    response = app.test_client().get(link_for(app, "bob@example.com", "accepted"))
    assert 'href="/sign-in"' in response.text


def test_without_a_login_page_there_is_no_link(app: Flask) -> None:
    response = app.test_client().get(link_for(app, "bob@example.com", "accepted"))
    assert "kaleo-login" not in response.text
    assert "If you accepted it, you already have an account: log in." in " ".join(
        response.text.split()
    )


# -- page settings: checked when the app starts serving ---------------------------------


@pytest.mark.parametrize("setting", ["KALEO_SIGNED_IN_REDIRECT", "KALEO_LOGIN_URL"])
def test_a_mistyped_page_endpoint_fails_the_first_request(database_url: str, setting: str) -> None:
    from tests.hostapp import create_app

    mistyped: dict[str, t.Any] = {setting: "acounts.home"}
    app = create_app(database_url, **mistyped)
    with pytest.raises(ConfigurationError, match=f"{setting} is 'acounts.home'"):
        app.test_client().get("/")


def test_endpoints_registered_after_init_app_pass(client: FlaskClient, app: Flask) -> None:
    """The check waits for the first request: blueprints come after kaleo.init_app."""
    reconfigure(app, KALEO_SIGNUP_URL="signup")
    assert client.get("/").status_code == 200


# -- development mail -------------------------------------------------------------------


@pytest.mark.settings(KALEO_DELIVERY="log")
def test_mail_debug_logs_the_email_with_its_link_and_sends_nothing(
    app: Flask,
    client: FlaskClient,
    outbox: list[t.Any],
    caplog: pytest.LogCaptureFixture,
    kaleo: Kaleo[User],
) -> None:
    @kaleo.transport
    def broken(email: t.Any, timeout: float) -> None:
        raise AssertionError("KALEO_DELIVERY = 'log' must not use the app's transport")

    signed_in(client)
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        forged = "Come along\n[2026-01-01] CRITICAL in app: forged"
        body = post_invite(client, "bob@example.com", forged).json
    assert body["status"] == "OK", body
    assert body["invitations_remaining"] == 2
    assert outbox == []  # nothing went through Flask-Mail
    [record] = [r for r in caplog.records if r.name == app.logger.name and "To: " in r.getMessage()]
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    assert text.startswith("KALEO_DELIVERY is 'log': this email was not sent.")
    assert "To: bob@example.com" in text and "Come along" in text
    assert "\n[2026" not in text  # the invitee's lines cannot pass for the log's own
    _, token = accept_link(text)
    assert client.get(f"/invites/accept/{token}").status_code == 303  # the link works
    with app.app_context():
        [invitation] = kaleo.sent_invitations(kaleo.hooks.member("alice@example.com"))
        assert invitation.delivered_at is not None  # counted as delivered


# -- the inviter's display name ---------------------------------------------------------


def test_the_inviter_name_hook_names_the_inviter(
    client: FlaskClient, outbox: list[t.Any], app: Flask, kaleo: Kaleo[User]
) -> None:
    @kaleo.inviter_name
    def name(user: t.Any) -> str | None:
        return None if user.email.startswith("nameless") else " Alice\n Liddell "

    signed_in(client)
    assert post_invite(client, "bob@example.com").json["status"] == "OK"
    [email] = outbox
    assert email.subject == "Alice Liddell has invited you to join localhost"
    assert "Alice Liddell has invited you" in email.body
    assert '<strong class="kaleo-email-inviter" dir="auto">Alice Liddell</strong>' in email.html
    with app.app_context():
        [invitation] = kaleo.sent_invitations(kaleo.hooks.member("alice@example.com"))
        assert invitation.inviter_label == "Alice Liddell"
    signed_in(client, "nameless@example.com")
    assert post_invite(client, "carol@example.com").json["status"] == "OK"
    assert outbox[-1].subject.startswith("nameless@example.com has invited you")


# -- words ---------------------------------------------------------------------------


def test_plurals() -> None:
    assert plural(1, "invitation") == "1 invitation"
    assert plural(0, "invitation") == "0 invitations"
    assert plural(2, "member") == "2 members"
    assert plural(1000, "user") == "1,000 users"
    assert plural(3, "person", "people") == "3 people"


def test_unlimited_is_shown_as_a_word_and_kept_as_a_number(app: Flask) -> None:
    assert invitations_left(-1) == "unlimited" and invitations_left(4) == "4"
    template = (
        '{% from "kaleo/macros.html" import remaining_invites, invites_remaining,'
        " invitations_left %}"
        "{{ remaining_invites(current_user) }}|{{ invites_remaining(current_user) }}|"
        "{{ invitations_left(current_user) }}|{{ 3 | invitations_left }}"
    )
    with app.test_request_context():
        member = make_user("unlimited@example.com", allocation=-1)
        login_user(member)
        assert render_template_string(template) == "-1|-1|unlimited|3"
        login_user(make_user("five@example.com", allocation=5))
        assert render_template_string(template) == "5|5|5|3"


# -- kaleo's pages link to log in wherever the site has a log-in page -----------------


@pytest.mark.settings(KALEO_LOGIN_URL="/login", KALEO_INVITE_ONLY=True)
def test_the_invite_only_and_401_pages_link_to_log_in(app: Flask, client: FlaskClient) -> None:
    app.add_url_rule("/register", "register", app.extensions["kaleo"].invitation_required(str))
    refused = client.get("/register")
    assert refused.status_code == 403 and BASE in refused.text
    assert 'Already a member? <a class="kaleo-login" href="/login">Log in</a>.' in refused.text
    form = {"email_address": "x@example.com", "csrf_token": csrf_token(client)}
    unauthorized = client.post("/invites/invite", data=form, headers=BROWSER)
    assert unauthorized.status_code == 401
    assert '<a class="kaleo-login kaleo-button" href="/login">Log in</a>' in unauthorized.text


@pytest.mark.settings(KALEO_INVITE_ONLY=True)
def test_without_a_login_page_the_invite_only_page_has_no_link(
    app: Flask, client: FlaskClient
) -> None:
    app.add_url_rule("/register", "register", app.extensions["kaleo"].invitation_required(str))
    refused = client.get("/register")
    assert refused.status_code == 403 and "Signing up is by invitation only" in refused.text
    assert "kaleo-login" not in refused.text


def test_every_kaleo_page_links_kaleo_css(app: Flask, client: FlaskClient) -> None:
    """Styled by default: no stylesheet URL to pass, whatever the page."""
    for path, status in (("/invites/accept/nothing", 404), ("/invites/invite", 405)):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == status
        assert '<link rel="stylesheet" href="/invites/static/kaleo.css">' in response.text
        assert '<section class="kaleo-card' in response.text
