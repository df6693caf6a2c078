"""The same story on the page that runs kaleo's original jQuery snippet, verbatim, with
jQuery 3 and the jQuery Form plugin: the JSON contract is the one that snippet reads."""

from __future__ import annotations

from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import LiveServer
from tests.e2e.story import ALICE
from tests.e2e.story import finish_story
from tests.e2e.story import log_in
from tests.e2e.story import mark_page
from tests.e2e.story import page_was_kept
from tests.e2e.story import remaining
from tests.e2e.story import send_invitation

PATH = "/invitations/jquery"


def test_original_snippet_story(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, *ALICE)
    page.goto(live_server(PATH))
    assert page.evaluate("typeof jQuery.fn.ajaxForm") == "function"
    assert page.evaluate("typeof window.fetch") == "function"
    expect(page.locator("script[src*='kaleo.js']")).to_have_count(0)
    remaining(page).to_have_text("(3)")
    expect(page.locator(".empty-invites")).to_be_visible()
    mark_page(page)

    send_invitation(page, "heidi@example.com")
    expect(page.locator("#invitation-form-messages")).to_have_text(
        "Invitation sent to heidi@example.com"
    )
    remaining(page).to_have_text("(2)")
    expect(page.locator(".invite-list li")).to_have_text(["heidi@example.com"])
    expect(page.locator(".empty-invites")).to_have_count(0)
    expect(page.get_by_label("Email address")).to_have_value("")
    assert page_was_kept(page), "the page reloaded"

    send_invitation(page, "heidi@example.com")
    expect(page.locator("#invitation-form-messages ul.errorlist li")).to_have_text(
        "You have already invited heidi@example.com."
    )
    remaining(page).to_have_text("(2)")

    finish_story(page, live_server, "heidi@example.com", PATH)


def test_original_snippet_hides_the_form_at_zero(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "bob@example.com", "bob-password")
    page.goto(live_server(PATH))
    send_invitation(page, "ivan@example.com")
    remaining(page).to_have_text("(0)")
    expect(page.locator(".invitation_form form")).to_be_hidden()
