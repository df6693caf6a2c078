"""Steps of the example app's story, shared by the e2e tests (our script, kaleo's
original jQuery snippet, JavaScript off)."""

from __future__ import annotations

import re
import typing as t

from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect

if t.TYPE_CHECKING:
    from tests.e2e.live import LiveServer

ALICE = ("alice@example.com", "alice-password")


def log_in(page: Page, server: LiveServer, email: str, password: str) -> None:
    page.goto(server("/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".account .who")).to_have_text(email)
    # The page's scripts are deferred: they run once the document is parsed, before
    # DOMContentLoaded. The click does not wait for them, and a form submitted before
    # they bind posts without JavaScript.
    page.wait_for_load_state("domcontentloaded")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".account").get_by_role("link", name="Log in")).to_be_visible()


class Remaining:
    """kaleo's ``.invitations_remaining`` in the example's badge: the bare number as
    the page renders it ("3 invitations left"), or "(3)" once kaleo's jQuery snippet
    has written into it; ``to_have_text("(3)")`` accepts either."""

    def __init__(self, page: Page) -> None:
        self.number = page.locator(".invites .invitations_remaining")

    def to_have_text(self, shown: str) -> None:
        bare = shown.strip("()")
        expect(self.number).to_have_text(re.compile(rf"^\(?{re.escape(bare)}\)?$"))


def remaining(page: Page) -> Remaining:
    return Remaining(page)


def send_invitation(page: Page, address: str) -> None:
    page.locator(".invites form").get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Send invitation").click()


def mark_page(page: Page) -> None:
    """Tag the document, so a test can tell whether the page was reloaded since."""
    page.evaluate("window.kaleoTestMark = 'still here'")


def page_was_kept(page: Page) -> bool:
    return bool(page.evaluate("window.kaleoTestMark === 'still here'"))


def accept_from_outbox(page: Page, server: LiveServer, address: str) -> None:
    """Open the development outbox, follow the invitation's link, land on signup."""
    page.goto(server("/outbox"))
    mail = page.locator("article.mail").filter(has=page.locator(".recipients", has_text=address))
    expect(mail).to_have_count(1)
    expect(mail.locator("h2")).to_contain_text("invited you")
    mail.get_by_role("link", name="Open the invitation link").click()
    expect(page).to_have_url(server("/signup"))
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(page.get_by_text("Alice Martin invited you")).to_be_visible()  # her display name
    expect(page.get_by_label("Email")).to_have_value(address)


def sign_up(page: Page, server: LiveServer, address: str, password: str) -> None:
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(server("/invitations"))
    expect(page.locator(".account .who")).to_have_text(address)
    expect(page.locator(".flash-success")).to_contain_text(f"Welcome, {address}")


def see_accepted(page: Page, server: LiveServer, address: str, path: str) -> None:
    """The inviter's list shows the invitation accepted (rendered by the server)."""
    page.goto(server(path))
    item = page.locator(".invite-list li", has_text=address)
    expect(item).to_have_class("accepted")
    expect(item.locator(".kaleo-status")).to_have_text("accepted")


def finish_story(page: Page, server: LiveServer, address: str, path: str) -> None:
    """From a sent invitation to the inviter seeing it accepted."""
    log_out(page)
    accept_from_outbox(page, server, address)
    sign_up(page, server, address, "a long new password")
    log_out(page)
    log_in(page, server, *ALICE)
    see_accepted(page, server, address, path)


def row(page: Page, address: str) -> Locator:
    """The row of the sent list that shows ``address``."""
    return page.locator(".invite-list li").filter(
        has=page.locator(".kaleo-email", has_text=address)
    )
