"""The sent list in a real browser: Revoke's inline confirmation and the outcome told in
the row and the live region, the keyboard focus ring, the skip link, errors at the
field, and columns that line up at 1280 and 390 pixels whatever the address."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.menu import open_menu
from tests.e2e.story import log_in
from tests.e2e.story import remaining
from tests.e2e.story import row
from tests.e2e.story import send_invitation
from tests.helpers import reconfigure

SHORT = "al@example.com"
LONG = "a.remarkably.long.address.that.keeps.going.and.going.for.testing@subdomain.example.com"


def member_with(page: Page, server: LiveServer, name: str, *addresses: str) -> None:
    """Sign in a new member with five invitations who has sent to ``addresses``."""
    email = f"{name}@example.com"
    server.make_member(email, "list-password", 5)
    log_in(page, server, email, "list-password")
    for address in addresses:
        send_invitation(page, address)
        expect(page.locator(".invite-list li", has_text=address)).to_have_count(1)


def relative_luminance(rgb: tuple[int, ...]) -> float:
    channels = [value / 255 for value in rgb[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(css_color: str) -> float:
    rgb = tuple(int(part) for part in css_color[css_color.index("(") + 1 : -1].split(","))
    return 1.05 / (relative_luminance(rgb) + 0.05)


def test_revoke_asks_in_the_row_then_tells_the_row(page: Page, live_server: LiveServer) -> None:
    member_with(page, live_server, "revoker", "carol@example.com")
    remaining(page).to_have_text("(4)")
    carol = row(page, "carol@example.com")
    open_menu(carol)
    revoke = carol.get_by_role(
        "button", name="Revoke the invitation to carol@example.com", exact=True
    )
    revoke.click()
    yes = carol.get_by_role("button", name="Yes, revoke the invitation to carol@example.com")
    expect(yes).to_be_focused()
    expect(revoke).to_be_hidden()
    expect(carol).to_have_class("sent kaleo-confirming")  # asked, not done

    page.keyboard.press("Escape")  # changed their mind
    expect(yes).to_be_hidden()
    expect(revoke).to_be_focused()
    revoke.click()
    carol.get_by_role("button", name="Keep the invitation to carol@example.com").click()
    expect(revoke).to_be_focused()
    expect(carol).to_have_class("sent")

    revoke.click()
    yes.click()
    expect(carol).to_have_class("revoked")
    said = "Invitation to carol@example.com revoked."
    expect(carol.locator(".kaleo-outcome")).to_have_text(said)
    expect(carol.locator(".kaleo-outcome")).to_have_class("kaleo-outcome kaleo-outcome-done")
    expect(carol.locator(".kaleo-outcome")).to_be_focused()  # the focus stays in the row
    expect(page.locator(".kaleo-row-status")).to_have_text(said)  # for screen readers
    expect(page.locator("#invitation-form-messages")).not_to_contain_text("revoked")  # once
    shown = page.locator("#invitation-form-messages, .kaleo-outcome, .flash")
    expect(shown.filter(has_text=said)).to_have_count(1)
    expect(carol.get_by_role("button")).to_have_count(0)
    remaining(page).to_have_text("(5)")


def test_refused_resend_is_told_once_in_red_in_the_row(page: Page, live_server: LiveServer) -> None:
    reconfigure(live_server.app, KALEO_RESEND_INTERVAL=dt.timedelta(0))
    member_with(page, live_server, "resender", "dave@example.com")
    page.reload()  # Resend offered: the cool-down is nothing...
    reconfigure(live_server.app, KALEO_RESEND_INTERVAL=dt.timedelta(minutes=5))  # ...was
    dave = row(page, "dave@example.com")
    open_menu(dave).get_by_role("button", name="Resend the invitation to dave@example.com").click()
    outcome = dave.locator(".kaleo-outcome")
    expect(outcome).to_contain_text("a moment ago")
    expect(outcome).to_have_class("kaleo-outcome kaleo-outcome-refused")
    colour = outcome.evaluate("node => getComputedStyle(node).color")
    assert colour == "rgb(163, 38, 27)", colour  # --kaleo-danger, not green
    shown = page.locator("#invitation-form-messages, .kaleo-outcome, .flash")
    expect(shown.filter(has_text="a moment ago")).to_have_count(1)  # not in the banner
    expect(page.locator("#invitation-form-messages")).not_to_contain_text("a moment ago")


def test_revoke_without_javascript_has_a_confirmation_page(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    page = open_page(java_script_enabled=False)
    member_with(page, live_server, "nojs.revoker", "erin@example.com")
    row(page, "erin@example.com").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke the invitation to erin@example.com?"))
    expect(page.locator("header.site .brand")).to_have_text("Kaleo Example")  # the site's layout
    page.keyboard.press("Tab")  # the skip link, shown while focused
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "revoke-confirm-1280.png"), full_page=True)
    page.get_by_role("link", name="Keep it").click()
    expect(page).to_have_url(live_server("/invitations"))
    expect(row(page, "erin@example.com")).to_have_class("sent")

    row(page, "erin@example.com").get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Revoke the invitation").click()
    erin = row(page, "erin@example.com")
    expect(erin).to_have_class("revoked")
    expect(page).to_have_url(live_server(f"/invitations#{erin.get_attribute('id')}"))
    expect(erin.locator(".kaleo-outcome")).to_have_text("Invitation to erin@example.com revoked.")


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_a_refused_invitation_shows_the_error_at_the_field(
    open_page: PageFactory, live_server: LiveServer, javascript: bool
) -> None:
    page = open_page(java_script_enabled=javascript)
    member_with(page, live_server, f"typist.{javascript}".lower())
    page.get_by_label("Message (optional)").fill("Do join us, it's lovely.")
    send_invitation(page, "not an address")
    address = page.get_by_label("Email address")
    expect(address).to_have_value("not an address")
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(address).to_have_accessible_description(re.compile("^Enter a valid email address"))
    expect(page.get_by_label("Message (optional)")).to_have_value("Do join us, it's lovely.")
    address.fill("fixed@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(row(page, "fixed@example.com")).to_have_count(1)
    expect(page.locator(".kaleo-field-error")).to_have_count(0)
    expect(page.get_by_label("Email address")).not_to_have_attribute("aria-invalid", "true")


def test_keyboard_focus_is_visible_and_the_skip_link_works(
    page: Page, live_server: LiveServer
) -> None:
    member_with(page, live_server, "keyboard", "frank@example.com")
    page.goto(live_server("/invitations"))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    resend = page.get_by_role("button", name="Actions for frank@example.com")
    resend.focus()
    page.keyboard.press("Shift+Tab")  # keyboard focus, so :focus-visible applies
    page.keyboard.press("Tab")
    expect(resend).to_be_focused()
    ring = resend.evaluate(
        "b => { const s = getComputedStyle(b);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert ring[0] == "solid" and ring[1] == "3px", ring
    assert contrast_with_white(ring[2]) >= 3, ring  # WCAG 1.4.11 asks 3:1
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".invites section.sent").screenshot(path=str(ARTIFACTS / "focus-ring.png"))


@pytest.mark.parametrize("width", [1280, 390])
def test_columns_line_up_whatever_the_address(
    open_page: PageFactory, live_server: LiveServer, width: int
) -> None:
    page = open_page(viewport={"width": width, "height": 900})
    member_with(page, live_server, f"columns{width}", SHORT, LONG)
    open_menu(row(page, SHORT)).get_by_role("button", name="Revoke").click()  # one row asking
    page.reload()  # the server's rows, as a visitor first sees them
    boxes = {}
    for address in (SHORT, LONG):
        cells = {}
        for cell in ("kaleo-email", "kaleo-status", "kaleo-row-actions"):
            box = row(page, address).locator(f".{cell}").bounding_box()
            assert box is not None
            cells[cell] = box
        boxes[address] = cells
    for cell in ("kaleo-status", "kaleo-row-actions"):
        assert boxes[SHORT][cell]["x"] == boxes[LONG][cell]["x"], (width, cell, boxes)
        assert boxes[SHORT][cell]["width"] == boxes[LONG][cell]["width"], (width, cell, boxes)
    long_email = boxes[LONG]["kaleo-email"]
    if width == 1280:  # one line per row: the address wraps inside its own column
        assert long_email["x"] + long_email["width"] <= boxes[LONG]["kaleo-status"]["x"]
    else:  # the address on its own line, state and actions beneath it
        assert long_email["y"] + long_email["height"] <= boxes[LONG]["kaleo-status"]["y"]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    open_menu(row(page, LONG)).get_by_role("button", name="Revoke").click()  # inline confirmation
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"sent-list-{width}.png"), full_page=True)
