"""With JavaScript off the invite form is a plain form post: the server redirects back
with a flashed message, and the rest of the story works the same. Signup without an
invitation is refused with a clear page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import ALICE
from tests.e2e.story import finish_story
from tests.e2e.story import log_in
from tests.e2e.story import remaining
from tests.e2e.story import send_invitation


def test_story_without_javascript(open_page: PageFactory, live_server: LiveServer) -> None:
    page = open_page(java_script_enabled=False)
    log_in(page, live_server, *ALICE)
    remaining(page).to_have_text("(3)")

    with page.expect_navigation():
        send_invitation(page, "judy@example.com")
    expect(page).to_have_url(live_server("/invitations"))
    expect(page.locator(".flash-success")).to_have_text("Invitation sent to judy@example.com.")
    remaining(page).to_have_text("(2)")
    expect(page.locator(".invite-list li.sent")).to_contain_text("judy@example.com")

    with page.expect_navigation():
        send_invitation(page, "judy@example.com")
    # Once, at its field: no flash repeats it.
    expect(page.locator("#email_address-error")).to_have_text(
        "You have already invited judy@example.com."
    )
    expect(page.locator(".flash-error")).to_have_count(0)
    expect(page.get_by_text("You have already invited judy@example.com.")).to_have_count(1)
    remaining(page).to_have_text("(2)")

    finish_story(page, live_server, "judy@example.com", "/invitations")


def test_signup_without_invitation_is_refused(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    page = open_page()
    page.goto(live_server("/"))
    with page.expect_response(live_server("/signup")) as signup:
        page.get_by_role("link", name="try it").click()
    assert signup.value.status == 403
    expect(page.get_by_role("heading", name="Signing up is by invitation only")).to_be_visible()
    expect(page.get_by_text("follow the link in an invitation email")).to_be_visible()
    expect(page.get_by_role("button", name="Create account")).to_have_count(0)


def test_unknown_accept_link_is_a_clear_404(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    page = open_page()
    response = page.goto(live_server("/invites/accept/not-a-real-token"))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Invitation not found")).to_be_visible()
    expect(page.locator("header.site .brand")).to_have_text("Kaleo Example")
