"""The whole story on Flask-Security-Too (tests/security_app.py), in Chromium: a member
logs in through its login view and invites; the friend follows the emailed link,
registers through its register view with the address prefilled and bound, and is
signed in; the member's sent list shows the invitation accepted."""

from __future__ import annotations

import typing as t

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.live import serve
from tests.helpers import accept_link
from tests.security_app import add_member
from tests.security_app import create_app
from tests.security_app import db
from tests.security_app import mail

ALICE = ("alice@example.com", "alice's long password")


@pytest.fixture(scope="module")
def security_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[LiveServer]:
    """The Flask-Security-Too host app (CSRF on, invite-only, the invited address
    bound) on a threaded server on 127.0.0.1."""
    database = tmp_path_factory.mktemp("security") / "security.sqlite"
    app = create_app(
        f"sqlite:///{database}", KALEO_INVITE_ONLY=True, KALEO_REQUIRE_INVITED_EMAIL=True
    )
    with app.app_context():
        db.create_all()
    add_member(app, *ALICE)
    with serve(app, db) as live:
        yield live


def log_in(page: Page, server: LiveServer, email: str, password: str) -> None:
    """Through Flask-Security-Too's own login page."""
    page.goto(server("/login"))
    page.get_by_label("Email Address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Login").click()
    expect(page).to_have_url(server("/"))
    expect(page.locator(".who")).to_have_text(f"Signed in as {email}")


def test_invited_friend_registers_through_flask_security(
    open_page: PageFactory, security_server: LiveServer
) -> None:
    alice = open_page()
    log_in(alice, security_server, *ALICE)
    expect(alice.locator(".invitations_remaining")).to_have_text("(3)")
    with mail.record_messages() as outbox:
        alice.locator(".invites form").get_by_label("Email address").fill("bob@example.com")
        alice.get_by_role("button", name="Send invitation").click()
        expect(alice.locator(".invite-list li", has_text="bob@example.com")).to_be_visible()
    expect(alice.locator(".invitations_remaining")).to_have_text("(2)")
    [message] = outbox
    site, token = accept_link(message.body or "")
    assert site == security_server.url

    bob = open_page()
    bob.goto(security_server("/register"))
    expect(bob.get_by_role("heading", name="Signing up is by invitation only")).to_be_visible()
    bob.goto(f"{site}/invites/accept/{token}")
    expect(bob).to_have_url(security_server("/register"))
    email = bob.get_by_label("Email Address")
    expect(email).to_have_value("bob@example.com")
    expect(email).to_have_attribute("readonly", "")
    bob.get_by_label("Password", exact=True).fill("bob's long password")
    bob.get_by_label("Retype Password").fill("bob's long password")
    bob.get_by_role("button", name="Register").click()
    expect(bob).to_have_url(security_server("/"))
    expect(bob.locator(".who")).to_have_text("Signed in as bob@example.com")

    alice.reload()
    item = alice.locator(".invite-list li", has_text="bob@example.com")
    expect(item).to_have_class("accepted")
    expect(item.locator(".kaleo-status")).to_have_text("accepted")
