"""The invitation email as a reader sees it: the real message Flask-Mail recorded for
an invitation sent from the example in English and in Arabic, drawn by Chromium at
1280 and 390 px (saved in test-artifacts/ as email-<lang>-<width>.png), and the
example's outbox showing it in its sandboxed frame."""

from __future__ import annotations

import typing as t

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import log_in

if t.TYPE_CHECKING:
    from example_app.outbox import RecordedMail

WIDTHS = (1280, 390)
MESSAGE = "We are testing the new garden planner this month.\nJoin us! <3 Tom"


def invite_in(page: Page, server: LiveServer, lang: str, address: str) -> RecordedMail:
    """A new member named Alice Martin, reading the site in ``lang``, invites
    ``address``: the email as Flask-Mail dispatched it (the outbox records it)."""
    from example_app.demo import add_member
    from example_app.outbox import messages

    inviter = f"inviter-{address}"
    with server.app.app_context():
        add_member(inviter, "preview-password", 1, name="Alice Martin")
    log_in(page, server, inviter, "preview-password")
    page.goto(server(f"/invitations?lang={lang}"))
    form = page.locator("form.kaleo-invite-form")
    form.locator("[name=email_address]").fill(address)
    form.locator("[name=message]").fill(MESSAGE)
    form.locator("button[type=submit]").first.click()
    expect(page.locator(".invite-list li").filter(has_text=address)).to_have_count(1)
    with server.app.app_context():
        [mail] = [mail for mail in messages() if address in mail.recipients]
    return mail


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("ar", "rtl")])
def test_the_email_reads_well_wide_and_on_a_phone(
    open_page: PageFactory, live_server: LiveServer, lang: str, direction: str
) -> None:
    mail = invite_in(open_page(), live_server, lang, f"preview-{lang}@example.com")
    reader = open_page(java_script_enabled=False)  # as a mail client: no scripts
    for width in WIDTHS:
        reader.set_viewport_size({"width": width, "height": 300})  # the shot: its content
        reader.set_content(mail.html)
        expect(reader.locator("html")).to_have_attribute("dir", direction)
        button = reader.locator("a.kaleo-email-accept")
        expect(button).to_be_visible()
        expect(button).to_have_attribute("href", mail.links[0])
        expect(reader.locator(".kaleo-email-message")).to_have_text(MESSAGE)
        expect(reader.locator(".kaleo-email-inviter")).to_have_text("Alice Martin")
        overflow = reader.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the {lang} email is {overflow}px wider than {width}px"
        card = reader.locator("table.kaleo-email").bounding_box()
        box = button.bounding_box()
        assert card is not None and box is not None
        assert card["width"] <= 600 and card["x"] >= 0
        # The button sits where the reader starts reading: left in English, right in
        # Arabic (its far edge within the card's 24px padding and a margin).
        if direction == "ltr":
            assert box["x"] - card["x"] < 60
        else:
            assert (card["x"] + card["width"]) - (box["x"] + box["width"]) < 60
        shoot(reader, f"email-{lang}-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_outbox_shows_the_email_in_its_frame(
    open_page: PageFactory, live_server: LiveServer, width: int
) -> None:
    address = f"outbox-{width}@example.com"
    invite_in(open_page(), live_server, "en", address)
    page = open_page(viewport={"width": width, "height": 900})
    page.goto(live_server("/outbox"))
    mail = page.locator("article.mail").filter(has=page.locator(".recipients", has_text=address))
    frame = mail.locator("iframe.mail-html")
    expect(frame).to_be_visible()
    email = mail.frame_locator("iframe.mail-html")
    expect(email.locator("a.kaleo-email-accept")).to_be_visible()
    expect(email.locator(".kaleo-email-inviter")).to_have_text("Alice Martin")
    # The sandbox gives the email an origin of its own: it cannot read the site.
    origin = frame.evaluate(
        "frame => { try { return frame.contentWindow.origin } catch (e) { return 'blocked' } }"
    )
    assert origin in ("null", "blocked"), origin
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the outbox is {overflow}px wider than {width}px"
    mail.locator("details.mail-text summary").click()
    expect(mail.locator("details.mail-text pre")).to_contain_text("Alice Martin")
    mail.scroll_into_view_if_needed()
    shoot(page, f"outbox-email-{width}")
