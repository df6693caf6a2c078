"""The whole story with flask-kaleo's own script, the staff page, the phone layout."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import ALICE
from tests.e2e.story import finish_story
from tests.e2e.story import log_in
from tests.e2e.story import mark_page
from tests.e2e.story import page_was_kept
from tests.e2e.story import remaining
from tests.e2e.story import send_invitation


def test_invite_accept_story(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, *ALICE)
    expect(page).to_have_url(live_server("/invitations"))
    remaining(page).to_have_text("(3)")
    expect(page.locator(".invitation_form form")).to_be_visible()
    expect(page.locator(".invite-list .empty-invites")).to_be_visible()
    mark_page(page)

    gate = live_server.hold_invites()
    send_invitation(page, "carol@example.com")
    button = page.get_by_role("button", name="Send invitation")
    expect(button).to_be_disabled()  # while the request is held at the server
    expect(button).to_have_attribute("aria-busy", "true")
    gate.set()

    messages = page.locator("#invitation-form-messages")
    expect(messages).to_have_attribute("aria-live", "polite")
    expect(messages).to_have_text("Invitation sent to carol@example.com.")
    remaining(page).to_have_text("(2)")
    expect(page.locator(".invite-list li")).to_have_count(1)
    expect(page.locator(".invite-list li.sent")).to_contain_text("carol@example.com")
    expect(page.locator(".empty-invites")).to_have_count(0)
    expect(page.get_by_label("Email address")).to_have_value("")
    expect(page.get_by_label("Email address")).to_be_focused()
    expect(button).to_be_enabled()
    assert page_was_kept(page), "the page reloaded"

    finish_story(page, live_server, "carol@example.com", "/invitations")


def test_refusal_is_announced(page: Page, live_server: LiveServer) -> None:
    live_server.make_member("dave@example.com", "dave-password", 2)
    log_in(page, live_server, "dave@example.com", "dave-password")
    send_invitation(page, "dave@example.com")
    messages = page.locator("#invitation-form-messages")
    expect(messages.locator("ul.errorlist li")).to_have_text("You cannot invite yourself.")
    remaining(page).to_have_text("(2)")
    expect(page.locator(".empty-invites")).to_be_visible()


def test_last_invitation_hides_the_form(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "bob@example.com", "bob-password")
    remaining(page).to_have_text("(1)")
    send_invitation(page, "erin@example.com")
    remaining(page).to_have_text("(0)")
    expect(page.locator(".invitation_form form")).to_be_hidden()
    expect(page.locator(".kaleo-no-invitations")).to_have_text(
        "You have no invitations left to send."
    )
    page.reload()
    expect(page.locator(".invitation_form form")).to_have_count(0)
    expect(page.locator(".invite-list li.sent")).to_contain_text("erin@example.com")


def test_staff_tops_up_everyone_and_one_member(
    page: Page, open_page: PageFactory, live_server: LiveServer
) -> None:
    live_server.make_member("frank@example.com", "frank-password", 0)
    live_server.make_member("grace@example.com", "grace-password", 1)
    log_in(page, live_server, "staff@example.com", "staff-password")
    page.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Invitations by member")).to_be_visible()

    def row(email: str) -> Locator:
        return page.locator(f"tr[data-email='{email}']")

    expect(row("frank@example.com").locator(".remaining")).to_have_text("0")
    expect(row("staff@example.com").locator(".remaining")).to_have_text("unlimited")

    page.get_by_label("Who").select_option(label="Everyone")
    page.get_by_label("How many").fill("4")
    page.get_by_role("button", name="Top off to").click()
    expect(page.locator(".flash-success")).to_contain_text("Topped off to at least 4")
    for email in ("frank@example.com", "grace@example.com"):
        expect(row(email).locator(".remaining")).to_have_text("4")
    expect(row("staff@example.com").locator(".remaining")).to_have_text("unlimited")

    page.get_by_label("Who").select_option(label="grace@example.com")
    page.get_by_label("How many").fill("6")
    page.get_by_role("button", name="Set allocation to").click()
    expect(page.locator(".flash-success")).to_have_text(
        "grace@example.com now has 6 invitations in all."
    )
    expect(row("grace@example.com").locator(".allocated")).to_have_text("6")
    expect(row("grace@example.com").locator(".remaining")).to_have_text("6")
    expect(row("frank@example.com").locator(".remaining")).to_have_text("4")

    member = open_page()
    log_in(member, live_server, "frank@example.com", "frank-password")
    expect(member.locator(".invitations_remaining")).to_have_text("(4)")
    expect(member.get_by_role("link", name="Staff")).to_have_count(0)
    response = member.goto(live_server("/staff"))
    assert response is not None and response.status == 403
    expect(member.get_by_role("heading", name="Forbidden")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(open_page: PageFactory, live_server: LiveServer, width: int) -> None:
    """The invitations page at a desktop and a phone width, saved for a human to look at;
    nothing may stick out sideways on the phone."""
    page = open_page(viewport={"width": width, "height": 900})
    email = f"shots{width}@example.com"
    live_server.make_member(email, "shots-password", 5)
    log_in(page, live_server, email, "shots-password")
    send_invitation(page, f"a.rather.long.address.for.a.friend.{width}@example.com")
    expect(page.locator("#invitation-form-messages")).to_contain_text("Invitation sent")
    # kaleo.js (like kaleo's snippet) empties the page's text fields after a success;
    # the new row's Extend choice is no text field, so it keeps its value.
    expect(page.locator(".invite-list [name=by]")).to_have_value("7d")
    send_invitation(page, "not an address")
    expect(page.locator("#invitation-form-messages .errorlist")).to_be_visible()
    assert_fits(page, width)
    page.screenshot(path=str(ARTIFACTS / f"invitations-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_other_pages_fit(open_page: PageFactory, live_server: LiveServer, width: int) -> None:
    """Home, staff and outbox pages at both widths: nothing sticks out sideways; the
    staff page is saved for a human to look at."""
    page = open_page(viewport={"width": width, "height": 900})
    page.goto(live_server("/"))
    expect(page.get_by_role("heading", name="Demo accounts")).to_be_visible()
    assert_fits(page, width)
    log_in(page, live_server, "staff@example.com", "staff-password")
    for path in ("/staff", "/outbox"):
        page.goto(live_server(path))
        assert_fits(page, width)
    page.goto(live_server("/staff"))
    expect(page.locator("tr[data-email='alice@example.com'] .remaining")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"staff-{width}.png"), full_page=True)


def assert_fits(page: Page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the {width}px window"
    ARTIFACTS.mkdir(exist_ok=True)
