"""The example app without a browser: first start, the outbox, the guards on its pages.
(The whole story in a real browser is in tests/e2e/.)"""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from example_app import create_app
from example_app.demo import DEMO_ACCOUNTS
from example_app.extensions import db
from example_app.models import User
from example_app.models import kaleo
from tests.helpers import csrf_token


def start(database: Path) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "t",
            "KALEO_SITE_URL": "http://localhost",  # the test client's host
            "EXAMPLE_OUTBOX": True,  # as in debug mode: see tests/test_example_outbox.py
        },
        instance_path=str(database.parent / "instance"),
    )


@pytest.fixture
def example(tmp_path: Path) -> t.Iterator[Flask]:
    app = start(tmp_path / "example.sqlite")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def log_in(client: FlaskClient, email: str, password: str) -> None:
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    response = client.post("/login", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)


def test_first_start_seeds_demo_accounts_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "example.sqlite"
    first = start(database)
    printed = capsys.readouterr().out
    for email, password, _, _ in DEMO_ACCOUNTS:
        assert email in printed and password in printed
    second = start(database)
    assert "demo accounts" not in capsys.readouterr().out
    with second.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3
        alice = kaleo.hooks.member("alice@example.com")
        assert alice is not None
        assert alice.check_password("alice-password")
        assert kaleo.invitations_remaining(alice) == 3
        staff = kaleo.hooks.member("staff@example.com")
        assert staff.is_staff and kaleo.invitations_remaining(staff) == -1
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_outbox_shows_the_accept_link(example: Flask, capsys: pytest.CaptureFixture[str]) -> None:
    client = example.test_client()
    log_in(client, "alice@example.com", "alice-password")
    data = {"email_address": "zoe@example.com", "csrf_token": csrf_token(client)}
    response = client.post("/invites/invite", data=data, headers={"Accept": "application/json"})
    assert response.json is not None and response.json["status"] == "OK"

    printed = capsys.readouterr().err
    links = re.findall(r"http://localhost/invites/accept/\S+", printed)
    assert len(links) == 1, printed
    page = client.get("/outbox").get_data(as_text=True)
    assert "zoe@example.com" in page
    assert f'href="{links[0]}"' in page

    visitor = example.test_client()
    response = visitor.get(links[0])
    assert response.status_code == 303 and response.location == "/signup"
    assert visitor.get("/signup").status_code == 200


def invite_and_follow(example: Flask, address: str) -> FlaskClient:
    """Alice invites ``address``; a new visitor follows the link from the outbox."""
    client = example.test_client()
    log_in(client, "alice@example.com", "alice-password")
    data = {"email_address": address, "csrf_token": csrf_token(client)}
    client.post("/invites/invite", data=data, headers={"Accept": "application/json"})
    link = re.search(r'href="(http://localhost/invites/accept/[^"]+)"', client.get("/outbox").text)
    assert link is not None
    visitor = example.test_client()
    visitor.get(link.group(1))
    return visitor


def sign_up_as(visitor: FlaskClient, email: str) -> t.Any:
    form = {
        "email": email,
        "password": "long enough",
        "confirm": "long enough",
        "csrf_token": csrf_token(visitor),
    }
    return visitor.post("/signup", data=form)


def test_signup_is_bound_to_the_invited_address(example: Flask) -> None:
    """The example app sets KALEO_REQUIRE_INVITED_EMAIL: the form is prefilled with the
    invited address, read-only, and another address is refused, changing nothing."""
    visitor = invite_and_follow(example, "yann@example.com")
    page = visitor.get("/signup").text
    field = re.search(r'<input[^>]*name="email"[^>]*>', page)
    assert field is not None
    assert 'value="yann@example.com"' in field.group(0) and "readonly" in field.group(0)
    response = sign_up_as(visitor, "someone.else@example.com")
    # the invitation is still valid: the form again, the error at the address field
    assert response.status_code == 200
    assert re.search(
        r'<span class="errors" id="email-errors">This invitation was sent to'
        r" yann@example.com: sign up with that address.</span>",
        response.text,
    )
    with example.app_context():
        invitation = db.session.scalars(sa.select(kaleo.JoinInvitation)).one()
        assert invitation.status == "sent"
        assert kaleo.hooks.member("someone.else@example.com") is None
    response = sign_up_as(visitor, "Yann@example.com")
    assert response.status_code == 303
    with example.app_context():
        invitation = db.session.scalars(sa.select(kaleo.JoinInvitation)).one()
        assert invitation.status == "accepted"
        assert invitation.to_user.email == "Yann@example.com"


def test_signup_with_a_taken_address_keeps_the_invitation(tmp_path: Path) -> None:
    """Without the binding (this test turns it off), a taken address is refused as
    taken and the invitation stays pending. (The example app binds the signup, which
    would refuse bob@example.com before asking whether it is taken.)"""
    example = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'example.sqlite'}",
            "SECRET_KEY": "t",
            "KALEO_SITE_URL": "http://localhost",
            "KALEO_REQUIRE_INVITED_EMAIL": False,
            "EXAMPLE_OUTBOX": True,
        },
        instance_path=str(tmp_path / "instance"),
    )
    visitor = invite_and_follow(example, "yann@example.com")
    response = sign_up_as(visitor, "bob@example.com")
    assert response.status_code == 200
    assert "An account with this email already exists" in response.text
    with example.app_context():
        invitation = db.session.scalars(sa.select(kaleo.JoinInvitation)).one()
        assert invitation.status == "sent"
        db.session.remove()
        db.engine.dispose()


def test_pages_need_the_right_user(example: Flask) -> None:
    client = example.test_client()
    for path in ("/invitations", "/invitations/jquery"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert client.get("/signup").status_code == 403
    assert client.get(CONSOLE).status_code == 401
    log_in(client, "bob@example.com", "bob-password")
    assert client.get(CONSOLE).status_code == 403
    assert client.get("/invitations").status_code == 200
    assert client.post("/logout").status_code == 400  # no CSRF token


CONSOLE = "/invites/staff/"


def test_staff_reach_the_console_from_the_nav(example: Flask) -> None:
    """The example's own staff page is gone: its nav leads staff to flask-kaleo's
    console, inside the site's layout, and shows members no such link."""
    client = example.test_client()
    log_in(client, "bob@example.com", "bob-password")
    assert f'href="{CONSOLE}"' not in client.get("/invitations").text
    log_in(client, "staff@example.com", "staff-password")
    assert f'<a href="{CONSOLE}">Staff console</a>' in client.get("/invitations").text
    overview = client.get(CONSOLE)
    assert overview.status_code == 200
    assert 'class="brand"' in overview.text and 'class="kaleo-chart"' in overview.text
    assert client.get("/staff").status_code == 404


def test_unlimited_reads_unlimited_in_the_header(example: Flask) -> None:
    client = example.test_client()
    log_in(client, "staff@example.com", "staff-password")
    page = client.get("/invitations").text
    assert ">unlimited invitations</p>" in page and "(-1)" not in page
    assert 'class="invitations_remaining"' not in page  # no script writes -1 into it
    log_in(client, "alice@example.com", "alice-password")
    badge = '<span class="invitations_remaining">3</span> invitations left'
    assert badge in client.get("/invitations").text


def test_a_member_back_on_the_signup_page_is_sent_on(example: Flask) -> None:
    """Signing up, then pressing Back: the member lands on the site, not on a refusal."""
    visitor = invite_and_follow(example, "yann@example.com")
    assert sign_up_as(visitor, "yann@example.com").status_code == 303
    response = visitor.get("/signup")
    assert (response.status_code, response.location) == (303, "/")
    assert "You are already signed in." in visitor.get("/").text


def test_the_used_link_offers_to_log_in(example: Flask) -> None:
    visitor = invite_and_follow(example, "yann@example.com")
    assert sign_up_as(visitor, "yann@example.com").status_code == 303
    outbox = example.test_client().get("/outbox").text
    link = re.search(r'href="(http://localhost/invites/accept/[^"]+)"', outbox)
    assert link is not None
    page = example.test_client().get(link.group(1))
    assert page.status_code == 410
    assert "Kaleo Example" in page.text  # kaleo's page in the site's layout
    assert 'href="/login"' in page.text and "If you accepted it" in page.text


def test_a_wrong_domain_signup_keeps_the_link_and_says_why_at_the_field(example: Flask) -> None:
    """A link for @example.org used with another address: not a used-up link (410) but
    the form again with the error at the address field; the link still works after."""
    with example.test_request_context():
        alice = kaleo.hooks.member("alice@example.com")
        assert alice is not None
        url = kaleo.create_link(alice, 2, domain="example.org").url
    visitor = example.test_client()
    assert visitor.get(url).status_code == 303

    refused = sign_up_as(visitor, "mallory@example.com")

    assert refused.status_code == 200
    field = re.search(r'<input[^>]*name="email"[^>]*>', refused.text)
    assert field is not None and 'aria-describedby="email-errors"' in field.group(0)
    assert (
        '<span class="errors" id="email-errors">This link is only for addresses at'
        " example.org.</span>" in refused.text
    )
    assert "used up" not in refused.text
    with example.app_context():
        assert kaleo.hooks.member("mallory@example.com") is None
        assert db.session.scalars(sa.select(kaleo.InvitationLink.uses)).one() == 0
    assert sign_up_as(visitor, "carol@example.org").status_code == 303
    with example.app_context():
        assert db.session.scalars(sa.select(kaleo.InvitationLink.uses)).one() == 1


def test_the_example_speaks_the_visitors_language(example: Flask) -> None:
    """The example's own sentences, labels and flashes come from its catalog; an
    address in a right-to-left flash is isolated, its full stop after it."""
    client = example.test_client()
    home = client.get("/?lang=fr").text
    assert "Une bêta privée, sur invitation" in home
    assert "A private beta" not in home
    login = client.get("/login?lang=de").text
    assert ">E-Mail-Adresse</label>" in login and ">Passwort</label>" in login
    data = {"email": "alice@example.com", "password": "alice-password"}
    data["csrf_token"] = csrf_token(client)
    client.get("/?lang=ar")
    page = client.post("/login", data=data, follow_redirects=True).text
    assert "سجّلت الدخول باسم \u2068alice@example.com\u2069." in page
    assert "الدعوات" in page  # the nav
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    # kaleo's page in the example's layout: kaleo's words and the layout's translated
    refused = client.get("/signup")
    assert refused.status_code == 403
    assert "التسجيل بالدعوة فقط" in refused.text  # kaleo's heading
    assert "صندوق الصادر" in refused.text and ">Outbox<" not in refused.text  # the nav
