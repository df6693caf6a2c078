"""The sent list's action menu in a real browser, at 1280 and 390 pixels, in English
and Arabic: one "Actions" button a row opening its forms, by mouse and keyboard (Enter
and Space open it, Escape closes it and gives the focus back, Tab leaves it), Resend
disabled with its time during the cool-down, Extend from the menu, no sideways
scrolling with a 120-character address, axe-clean; and the summary with its filter
and the pages of a long history without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.axe import violations
from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import log_in
from tests.e2e.story import row


def longest(tag: str) -> str:
    """A 120-character address, its own per test (an address takes a few a day)."""
    address = tag.ljust(64, "l") + "@" + "d" * 43 + ".example.com"
    assert len(address) == 120
    return address


def invite(page: Page, address: str) -> Locator:
    """Send an invitation with the form, in any language (no English selectors)."""
    form = page.locator("form.kaleo-invite-form")
    form.locator("[name=email_address]").fill(address)
    form.locator("button[type=submit]:not([name])").click()
    item = row(page, address)
    expect(item).to_have_count(1)
    return item


WIDEST = """[...document.querySelectorAll("body *")]
  .filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
  .map(e => e.tagName + "." + e.className + " " + e.scrollWidth + "/" + e.clientWidth)"""
"""What is wider than its box, when the page scrolls sideways."""


def sideways(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_action_menu_by_mouse_and_keyboard(
    open_page: PageFactory, live_server: LiveServer, axe: str, width: int, lang: str
) -> None:
    member = f"menu-{lang}-{width}@example.com"
    live_server.make_member(member, "menu-password", 5)
    page = open_page(viewport={"width": width, "height": 900})
    log_in(page, live_server, member, "menu-password")
    page.goto(live_server(f"/invitations?lang={lang}"))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    friend = f"friend-{lang}-{width}@example.com"
    item = invite(page, friend)
    long_row = invite(page, longest(f"{lang}{width}"))

    button = item.locator(".kaleo-menu-button")
    listed = item.locator(".kaleo-menu-list")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-controls", str(listed.get_attribute("id")))
    expect(listed).to_be_hidden()

    button.click()  # the mouse
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(listed).to_be_visible()
    # Just sent: Resend waits for its cool-down, and says until when.
    expect(listed.locator(".kaleo-resend-later button")).to_be_disabled()
    expect(listed.locator(".kaleo-resend-at time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
    )
    assert sideways(page) <= 0, page.evaluate(WIDEST)
    box = listed.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    found = violations(page, axe)
    assert found == [], "\n".join(found)
    ARTIFACTS.mkdir(exist_ok=True)
    listed.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"action-menu-open-{width}-{lang}.png"), full_page=True)

    page.keyboard.press("Escape")
    expect(listed).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")  # the keyboard: the focus goes into the menu
    expect(listed).to_be_visible()
    expect(listed.locator(".kaleo-extend select")).to_be_focused()  # Resend is disabled
    page.keyboard.press("Escape")
    expect(listed).to_be_hidden()
    expect(button).to_be_focused()

    page.keyboard.press("Space")
    expect(listed).to_be_visible()
    page.keyboard.press("Tab")  # select -> Extend
    expect(listed.locator(".kaleo-extend button")).to_be_focused()
    page.keyboard.press("Tab")  # Extend -> Revoke
    revoke = listed.locator(".kaleo-revoke button[type=submit]:not([name])")
    expect(revoke).to_be_focused()
    page.keyboard.press("Tab")  # out of the menu: it closes
    expect(listed).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")

    button.click()  # Extend from the menu
    listed.locator(".kaleo-extend select").select_option("3d")
    listed.locator(".kaleo-extend button").click()
    outcome = item.locator(".kaleo-outcome")
    expect(outcome).to_have_class("kaleo-outcome kaleo-outcome-done")
    expect(outcome).not_to_be_empty()
    expect(item.locator(".kaleo-menu-button")).to_be_focused()  # the fresh row's button
    expect(item.locator(".kaleo-menu-list")).to_be_hidden()

    item.locator(".kaleo-menu-button").click()  # Revoke, confirmed in the menu
    item.locator(".kaleo-revoke button[type=submit]:not([name])").click()
    yes = item.locator(".kaleo-revoke button[name=confirm]")
    expect(yes).to_be_focused()
    yes.click()
    expect(item).to_have_class("revoked")
    expect(item.locator(".kaleo-menu-button")).to_have_count(0)

    long_row.locator(".kaleo-menu-button").click()  # the longest address, its menu open
    expect(long_row.locator(".kaleo-menu-list")).to_be_visible()
    assert sideways(page) <= 0, page.evaluate(WIDEST)
    page.screenshot(path=str(ARTIFACTS / f"action-menu-long-{width}-{lang}.png"), full_page=True)
    page.mouse.click(2, 2)  # a click elsewhere closes it
    expect(long_row.locator(".kaleo-menu-list")).to_be_hidden()


def test_without_javascript_the_menu_is_a_list_of_forms(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    live_server.make_member("menu-nojs@example.com", "menu-password", 5)
    page = open_page(java_script_enabled=False, viewport={"width": 390, "height": 900})
    log_in(page, live_server, "menu-nojs@example.com", "menu-password")
    item = invite(page, longest("nojs"))
    page.reload()  # without the invite's flash (the example's layout, not the list)
    expect(item.locator(".kaleo-menu-button")).to_be_hidden()
    expect(item.locator(".kaleo-menu-list")).to_be_visible()
    expect(item.locator(".kaleo-menu-list form")).to_have_count(2)  # Extend, Revoke
    expect(item.locator(".kaleo-resend-later button")).to_be_disabled()
    assert sideways(page) <= 0, page.evaluate(WIDEST)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "action-menu-nojs-390.png"), full_page=True)


def test_long_history_pages_and_filter_without_javascript(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    from example_app.extensions import db
    from flask_kaleo import get_kaleo
    from flask_kaleo.models import utcnow

    live_server.make_member("menu-history@example.com", "menu-password", 500)
    with live_server.app.app_context():
        kaleo = get_kaleo()
        member = kaleo.hooks.member("menu-history@example.com")
        for number in range(60):
            kaleo.invite(member, f"old{number:02d}@example.com", send=False)
        model = kaleo.JoinInvitation
        db.session.execute(
            db.update(model)
            .where(model.email.in_([f"old{n:02d}@example.com" for n in range(5)]))
            .values(status="revoked", pending_email_key=None)
        )
        db.session.commit()
        assert utcnow()
    page = open_page(java_script_enabled=False, viewport={"width": 390, "height": 900})
    log_in(page, live_server, "menu-history@example.com", "menu-password")
    expect(page.locator(".invite-list > li")).to_have_count(50)
    summary = page.locator(".kaleo-sent-summary")
    expect(summary.locator("[data-kaleo-state=pending]")).to_contain_text("55")
    expect(page.locator(".invite-list > li").first).to_contain_text("old10@example.com")
    page.locator(".kaleo-sent-pager .kaleo-older").click()
    expect(page.locator(".invite-list > li")).to_have_count(10)
    expect(page.locator(".invite-list > li").first).to_contain_text("old00@example.com")
    page.locator(".kaleo-sent-pager .kaleo-newer").click()
    expect(page.locator(".invite-list > li")).to_have_count(50)
    summary.locator("[data-kaleo-state=revoked]").click()
    expect(page.locator(".invite-list > li.revoked")).to_have_count(5)
    expect(summary.locator("[aria-current=page]")).to_have_attribute("data-kaleo-state", "revoked")
    assert sideways(page) <= 0, page.evaluate(WIDEST)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sent-list-pages-390.png"), full_page=True)
