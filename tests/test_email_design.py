"""The designed emails read as a mail client reads them: the HTML part parsed (its
button, its link written out, the inviter's name, the quoted message, the expiry, the
direction of the language) and checked against its plain-text twin, in English and
Arabic; the inviter named by the ``inviter_name`` hook; the site named without a port."""

from __future__ import annotations

import typing as t

import pytest
from babel.dates import format_date
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo.delivery.render import render_invitation
from flask_kaleo.delivery.render import render_notice
from flask_kaleo.delivery.transport import OutgoingEmail
from tests.helpers import accept_link
from tests.helpers import invitation_to
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import reconfigure
from tests.helpers import signed_in
from tests.helpers import speaking
from tests.helpers import with_babel
from tests.helpers.html import Node
from tests.helpers.html import parse
from tests.hostapp import User

MESSAGE = 'See you <b>there</b> & "soon"\nTom'
ARABIC = range(0x0600, 0x0700)


def _arabic(text: str) -> bool:
    return any(ord(letter) in ARABIC for letter in text)


@pytest.fixture
def babel_app(app: Flask, kaleo: Kaleo[User]) -> Flask:
    """The host app in the visitor's language, its inviters named by their name."""

    @kaleo.inviter_name
    def full_name(user: User) -> str | None:
        return "Alice Martin" if user.email == "alice@example.com" else None

    return with_babel(app)


def assert_email_safe(html: Node, raw: str) -> None:
    """What mail clients keep: no stylesheet, script, image or external resource; a
    body at most 600px wide."""
    for tag in ("style", "link", "script", "img", "iframe"):
        assert not html.find(tag), tag
    assert "src=" not in raw and "@import" not in raw
    card = html.one("table", "kaleo-email")
    assert "max-width: 600px" in card.attrs["style"]
    assert card.attrs["role"] == "presentation"


@pytest.mark.parametrize(("locale", "direction"), [("en", "ltr"), ("ar", "rtl")])
@pytest.mark.settings(KALEO_SITE_URL="http://127.0.0.1:5000")
def test_the_invitation_in_html_and_text_says_the_same_in_each_direction(
    babel_app: Flask, outbox: list[t.Any], locale: str, direction: str
) -> None:
    client = babel_app.test_client()
    signed_in(client, allocation=1)
    response = post_invite(client, "carol@example.com", MESSAGE, headers=speaking(locale))
    assert response.json["status"] == "OK", response.json
    [sent] = outbox
    with babel_app.app_context():
        expires = invitation_to("carol@example.com").expires_at
    day = format_date(expires, "long", locale=locale)  # Babel's own words, not kaleo's

    html = parse(sent.html)
    root = html.one("html")
    assert (root.attrs["lang"], root.attrs["dir"]) == (locale, direction)
    assert html.one("table", "kaleo-email").attrs["dir"] == direction
    assert_email_safe(html, sent.html)

    # One accept link, the same in both parts: a button, and written out for clients
    # that strip the button.
    host, token = accept_link(sent.body)
    url = f"{host}/invites/accept/{token}"
    assert host == "http://127.0.0.1:5000"
    button = html.one("a", "kaleo-email-accept")
    assert button.attrs["href"] == url
    assert button.all_text().strip()
    assert _arabic(button.all_text()) == (locale == "ar")
    written = html.one("p", "kaleo-email-link").one("a")
    assert (written.attrs["href"], written.all_text()) == (url, url)

    # The inviter by name (the hook), never by address; the site by its host alone.
    assert html.one("strong", "kaleo-email-inviter").all_text() == "Alice Martin"
    assert html.one("td", "kaleo-email-site").all_text().strip() == "127.0.0.1"
    for part in (sent.html, sent.body, sent.subject):
        assert "Alice Martin" in part and "127.0.0.1" in part
        assert "alice@example.com" not in part
    assert "127.0.0.1:5000" not in sent.subject
    assert sent.subject.startswith("Alice Martin") == (locale == "en")

    # The message quoted as typed, escaped in HTML; the expiry in the reader's words.
    assert html.one("blockquote", "kaleo-email-message").all_text() == MESSAGE
    assert "<b>there</b>" not in sent.html and "&lt;b&gt;there&lt;/b&gt;" in sent.html
    assert MESSAGE in sent.body
    assert day in html.one("p", "kaleo-email-expiry").all_text()
    assert day in sent.body
    assert _arabic(sent.body) == (locale == "ar")


@pytest.mark.settings(KALEO_SITE_URL="http://localhost")
def test_the_reminder_carries_its_new_link_and_says_it_is_the_last(babel_app: Flask) -> None:
    with babel_app.test_request_context():
        alice = make_user("alice@example.com", 1)
        arabic = make_invitation(alice, "carol@example.com", locale="ar", message=MESSAGE)
        english = make_invitation(alice, "dan@example.com", locale="en")
        emails = {
            "ar": render_invitation(arabic, "ar-token", inviter_label="A", reminder=True),
            "en": render_invitation(english, "en-token", inviter_label="A", reminder=True),
            "first": render_invitation(arabic, "first", inviter_label="A"),
        }
    footers = {
        key: parse(email.html).one("td", "kaleo-email-footer").all_text().split()
        for key, email in emails.items()
    }
    assert " ".join(footers["en"]).startswith("You will not get another reminder. If you")
    # In Arabic too, the reminder's footer says more than the first email's.
    assert _arabic(" ".join(footers["ar"])) and len(footers["ar"]) > len(footers["first"])
    html = parse(emails["ar"].html)
    assert html.one("html").attrs["dir"] == "rtl"
    assert_email_safe(html, emails["ar"].html)
    url = "http://localhost/invites/accept/ar-token"
    assert html.one("a", "kaleo-email-accept").attrs["href"] == url
    assert url in emails["ar"].text
    assert html.one("blockquote", "kaleo-email-message").all_text() == MESSAGE


@pytest.mark.parametrize("locale", ["en", "ar"])
@pytest.mark.settings(KALEO_SITE_URL="https://beta.example.com:8443/app")
def test_the_notice_has_the_frame_and_no_link(babel_app: Flask, locale: str) -> None:
    with babel_app.test_request_context():
        email: OutgoingEmail = render_notice("carol@example.com", locale)
    html = parse(email.html)
    assert html.one("html").attrs["dir"] == ("rtl" if locale == "ar" else "ltr")
    assert_email_safe(html, email.html)
    assert html.one("td", "kaleo-email-site").all_text().strip() == "beta.example.com"
    assert not html.find("a") and "http" not in email.text
    assert "beta.example.com" in email.subject and "8443" not in email.subject


@pytest.mark.parametrize(
    ("site_url", "name"),
    [
        ("http://127.0.0.1:5000", "127.0.0.1"),
        ("https://beta.example.com:8443/app", "beta.example.com"),
        ("https://beta.example.com", "beta.example.com"),
        ("http://[::1]:5000", "[::1]"),
    ],
)
def test_the_site_is_named_by_its_links_host_without_the_port(
    app: Flask, outbox: list[t.Any], site_url: str, name: str
) -> None:
    reconfigure(app, KALEO_SITE_URL=site_url)
    client = app.test_client()
    signed_in(client, allocation=1)
    assert post_invite(client, "carol@example.com").json["status"] == "OK"
    [sent] = outbox
    assert sent.subject == f"alice@example.com has invited you to join {name}"
    assert parse(sent.html).one("td", "kaleo-email-site").all_text().strip() == name
    assert f"join {name}." in sent.body


@pytest.mark.settings(KALEO_SITE_URL="http://127.0.0.1:5000", KALEO_SITE_NAME="Example Beta")
def test_the_site_name_setting_wins_and_an_unnamed_inviter_is_their_address(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    @kaleo.inviter_name
    def no_name(user: User) -> str | None:
        return None

    client = app.test_client()
    signed_in(client, allocation=1)
    assert post_invite(client, "carol@example.com").json["status"] == "OK"
    [sent] = outbox
    assert sent.subject == "alice@example.com has invited you to join Example Beta"
    html = parse(sent.html)
    assert html.one("td", "kaleo-email-site").all_text().strip() == "Example Beta"
    assert html.one("strong", "kaleo-email-inviter").all_text() == "alice@example.com"


@pytest.mark.settings(KALEO_SITE_URL="http://127.0.0.1:5000", KALEO_SITE_NAME="Example Beta")
def test_a_display_name_cannot_reverse_the_subject(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    """A right-to-left override (or an isolate left open) in a display name would
    reverse the rest of the subject, the site's name included, in the mail client."""

    @kaleo.inviter_name
    def spoofing(user: User) -> str | None:
        return "Mallory \u202e\u2067 \u202a"

    client = app.test_client()
    signed_in(client, allocation=1)
    assert post_invite(client, "carol@example.com").json["status"] == "OK"
    [sent] = outbox
    assert sent.subject == "Mallory has invited you to join Example Beta"
    inviter = parse(sent.html).one("strong", "kaleo-email-inviter").all_text()
    assert inviter == "Mallory"
