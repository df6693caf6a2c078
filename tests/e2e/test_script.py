"""The whole story with flask-kaleo's own script, the way to the staff console, the phone
layout."""

from __future__ import annotations

import pytest
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
    error = page.locator("#email_address-error")
    expect(error).to_have_text("You cannot invite yourself.")
    expect(page.locator("#email_address")).to_have_attribute(
        "aria-describedby", "email_address-error"
    )
    # Shown once: the live region keeps the sentence for screen readers only.
    messages = page.locator("#invitation-form-messages")
    expect(messages.locator("p.kaleo-visually-hidden")).to_have_text("You cannot invite yourself.")
    expect(messages.locator("ul.errorlist")).to_have_count(0)
    box = messages.bounding_box()  # no empty box above the form either
    assert box is not None and box["width"] <= 1 and box["height"] <= 1, box
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


def test_staff_reach_the_console_and_members_do_not(
    page: Page, open_page: PageFactory, live_server: LiveServer
) -> None:
    live_server.make_member("frank@example.com", "frank-password", 0)
    log_in(page, live_server, "staff@example.com", "staff-password")
    page.get_by_role("link", name="Staff console").click()
    expect(page).to_have_url(live_server("/invites/staff/"))
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()

    member = open_page()
    log_in(member, live_server, "frank@example.com", "frank-password")
    expect(member.get_by_role("link", name="Staff console")).to_have_count(0)
    response = member.goto(live_server("/invites/staff/"))
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
    expect(page.locator("#email_address-error")).to_be_visible()
    assert_fits(page, width)
    page.screenshot(path=str(ARTIFACTS / f"invitations-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_other_pages_fit(open_page: PageFactory, live_server: LiveServer, width: int) -> None:
    """Home, staff console and outbox pages at both widths: nothing sticks out
    sideways; the console's overview is saved for a human to look at."""
    page = open_page(viewport={"width": width, "height": 900})
    page.goto(live_server("/"))
    expect(page.get_by_role("heading", name="Demo accounts")).to_be_visible()
    assert_fits(page, width)
    log_in(page, live_server, "staff@example.com", "staff-password")
    for path in ("/invites/staff/", "/outbox"):
        page.goto(live_server(path))
        assert_fits(page, width)
    page.goto(live_server("/invites/staff/"))
    expect(page.locator("svg.kaleo-chart")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"staff-{width}.png"), full_page=True)


def assert_fits(page: Page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the {width}px window"
    ARTIFACTS.mkdir(exist_ok=True)
