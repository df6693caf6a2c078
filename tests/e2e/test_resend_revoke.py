"""The sent list's Resend and Revoke buttons in the example app: with flask-kaleo's
script (in place, no reload) and with JavaScript off (plain posts, a flash)."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import ALICE
from tests.e2e.story import log_in
from tests.e2e.story import mark_page
from tests.e2e.story import page_was_kept
from tests.e2e.story import remaining
from tests.e2e.story import send_invitation
from tests.helpers import reconfigure


def outbox_count(page: Page, server: LiveServer, address: str) -> int:
    page.goto(server("/outbox"))
    mails = page.locator("article.mail").filter(has=page.locator(".recipients", has_text=address))
    return mails.count()


def test_revoke_and_resend_in_place(page: Page, live_server: LiveServer) -> None:
    reconfigure(live_server.app, KALEO_RESEND_INTERVAL=dt.timedelta(0))  # this module's own server
    log_in(page, live_server, *ALICE)
    for address in ("carol@example.com", "dave@example.com"):
        send_invitation(page, address)
        expect(page.locator(".invite-list li", has_text=address)).to_have_count(1)
    remaining(page).to_have_text("(1)")
    mark_page(page)

    carol = page.locator(".invite-list li", has_text="carol@example.com")
    carol.get_by_role("button", name="Revoke").click()
    carol.get_by_role("button", name="Yes, revoke").click()
    expect(carol).to_have_class("revoked")
    expect(carol.get_by_role("button")).to_have_count(0)
    expect(page.locator("#invitation-form-messages")).to_have_text(
        "Invitation to carol@example.com revoked."
    )
    remaining(page).to_have_text("(2)")

    dave = page.locator(".invite-list li", has_text="dave@example.com")
    dave.get_by_role("button", name="Resend").click()
    expect(page.locator("#invitation-form-messages")).to_have_text(
        "Invitation sent again to dave@example.com."
    )
    expect(dave).to_have_class("sent")
    assert page_was_kept(page)
    assert outbox_count(page, live_server, "dave@example.com") == 2


def test_without_javascript_the_buttons_post_and_come_back(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    reconfigure(live_server.app, KALEO_RESEND_INTERVAL=dt.timedelta(minutes=5))
    page = open_page(java_script_enabled=False)
    log_in(page, live_server, *ALICE)
    send_invitation(page, "erin@example.com")
    erin = page.locator(".invite-list li", has_text="erin@example.com")
    expect(erin).to_have_class("sent")

    erin.get_by_role("button", name="Resend").click()  # too soon: refused, nothing sent
    expect(page.locator(".flash-error")).to_contain_text("sent a moment ago")
    row_id = erin.get_attribute("id")
    expect(page).to_have_url(live_server(f"/invitations#{row_id}"))  # back at the row
    expect(erin.locator(".kaleo-outcome")).to_contain_text("sent a moment ago")

    page.locator(".invite-list li", has_text="erin@example.com").get_by_role(
        "button", name="Revoke"
    ).click()
    page.get_by_role("button", name="Revoke the invitation").click()
    expect(page.locator(".flash-success")).to_have_text("Invitation to erin@example.com revoked.")
    expect(page.locator(".invite-list li", has_text="erin@example.com")).to_have_class("revoked")
