"""The sent list's Resend and Revoke buttons in the example app: with flask-kaleo's
script (in the row's menu, in place, no reload) and with JavaScript off (plain posts,
the outcome in the row)."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.menu import open_menu
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
    open_menu(carol).get_by_role("button", name="Revoke").click()
    carol.get_by_role("button", name="Yes, revoke").click()
    expect(carol).to_have_class("revoked")
    expect(carol.get_by_role("button")).to_have_count(0)
    expect(carol.locator(".kaleo-outcome")).to_have_text("Invitation to carol@example.com revoked.")
    remaining(page).to_have_text("(2)")

    dave = page.locator(".invite-list li", has_text="dave@example.com")
    open_menu(dave).get_by_role("button", name="Resend").click()
    expect(dave.locator(".kaleo-outcome")).to_have_text(
        "Invitation sent again to dave@example.com."
    )
    expect(dave).to_have_class("sent")
    expect(dave.locator(".kaleo-menu-button")).to_be_focused()  # the focus stays in the row
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

    expect(erin.locator(".kaleo-menu-button")).to_be_hidden()  # the forms themselves show
    expect(erin.locator(".kaleo-resend-later button")).to_be_disabled()  # too soon to resend
    expect(erin.locator(".kaleo-resend-at time")).to_have_count(1)

    reconfigure(live_server.app, KALEO_RESEND_INTERVAL=dt.timedelta(0))
    page.reload()  # offered now...
    reconfigure(live_server.app, KALEO_RESEND_INTERVAL=dt.timedelta(minutes=5))  # ...no more
    erin.get_by_role("button", name="Resend").click()  # too soon: refused, nothing sent
    row_id = erin.get_attribute("id")
    expect(page).to_have_url(live_server(f"/invitations#{row_id}"))  # back at the row
    expect(erin.locator(".kaleo-outcome")).to_contain_text("sent a moment ago")
    expect(erin.locator(".kaleo-outcome")).to_have_class("kaleo-outcome kaleo-outcome-refused")
    shown = page.locator("#invitation-form-messages, .kaleo-outcome, .flash")
    expect(shown.filter(has_text="sent a moment ago")).to_have_count(1)  # no flash as well
    expect(page.locator(".flash-error")).to_have_count(0)

    erin.locator(".kaleo-extend select").select_option("3d")
    erin.get_by_role("button", name="Extend the invitation to erin@example.com").click()
    expect(erin.locator(".kaleo-outcome")).to_have_text("Invitation to erin@example.com extended.")
    expect(erin.locator(".kaleo-outcome")).to_have_class("kaleo-outcome kaleo-outcome-done")

    erin.get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Revoke the invitation").click()
    expect(erin).to_have_class("revoked")
    expect(erin.locator(".kaleo-outcome")).to_have_text("Invitation to erin@example.com revoked.")
    expect(page.locator(".flash-success")).to_have_count(0)  # said in the row alone
