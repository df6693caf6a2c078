"""axe-core over every page of the example app a visitor, a member and staff meet: no
serious or critical violation, with JavaScript on and off."""

from __future__ import annotations

from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.axe import shown_with_javascript
from tests.e2e.axe import violations
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.menu import open_menu
from tests.e2e.story import log_in
from tests.e2e.story import log_out
from tests.e2e.story import send_invitation


def check(page: Page, axe: str, found: list[str]) -> None:
    found.extend(violations(page, axe))


def test_visitor_and_invitee_pages(
    open_page: PageFactory, live_server: LiveServer, axe: str
) -> None:
    page = open_page()
    found: list[str] = []
    for path, status in (("/", 200), ("/login", 200), ("/signup", 403), ("/outbox", 200),
                         ("/invites/accept/not-a-real-token", 404)):  # fmt: skip
        response = page.goto(live_server(path))
        assert response is not None and response.status == status, path
        check(page, axe, found)
    page.goto(live_server("/login"))
    page.get_by_role("button", name="Log in").click()  # the form with its field errors
    expect(page.locator(".errors").first).to_be_visible()
    check(page, axe, found)

    live_server.make_member("axe.inviter@example.com", "axe-password", 3)
    log_in(page, live_server, "axe.inviter@example.com", "axe-password")
    send_invitation(page, "axe.invitee@example.com")
    expect(page.locator(".invite-list li.sent")).to_have_count(1)
    log_out(page)
    page.goto(live_server("/outbox"))
    mail = page.locator("article.mail", has_text="axe.invitee@example.com")
    mail.get_by_role("link", name="Open the invitation link").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    check(page, axe, found)
    assert found == [], "\n".join(found)


def test_member_and_staff_pages(open_page: PageFactory, live_server: LiveServer, axe: str) -> None:
    found: list[str] = []
    page = open_page()
    live_server.make_member("axe.member@example.com", "axe-password", 3)
    log_in(page, live_server, "axe.member@example.com", "axe-password")
    send_invitation(page, "a.rather.long.address.for.axe@example.com")
    expect(page.locator(".invite-list li.sent")).to_have_count(1)
    send_invitation(page, "not an address")  # the error at the field and in the live region
    expect(page.locator(".kaleo-field-error")).to_be_visible()
    check(page, axe, found)
    open_menu(page.locator(".invite-list li")).get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("button", name="Yes, revoke")).to_be_focused()
    check(page, axe, found)
    page.goto(live_server("/invitations/jquery"))
    check(page, axe, found)

    nojs = open_page(java_script_enabled=False)
    log_in(nojs, live_server, "axe.member@example.com", "axe-password")
    send_invitation(nojs, "still not an address")
    expect(nojs.locator(".kaleo-field-error")).to_be_visible()
    viewer = open_page()
    check(shown_with_javascript(nojs, viewer), axe, found)
    nojs.locator(".invite-list li").get_by_role("button", name="Revoke").click()
    expect(nojs.get_by_role("heading", name="Revoke the invitation to")).to_be_visible()
    check(shown_with_javascript(nojs, viewer), axe, found)

    staff = open_page()
    log_in(staff, live_server, "staff@example.com", "staff-password")
    for path in ("/invites/staff/", "/invites/staff/invitations", "/invitations"):
        staff.goto(live_server(path))
        check(staff, axe, found)
    assert found == [], "\n".join(found)


def test_the_check_finds_what_it_should(page: Page, axe: str) -> None:
    """A nameless button and an unlabelled field are reported: the check is not vacuous."""
    page.set_content(
        '<!doctype html><html lang="en"><title>t</title><main>'
        '<button></button><input type="text"></main></html>'
    )
    found = " ".join(violations(page, axe))
    assert "button-name (critical)" in found and "label (critical)" in found, found
