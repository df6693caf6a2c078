"""The story in French and in Arabic (docs/i18n.md): the example app with ``?lang=``,
kaleo's macros, sent list, inline Revoke confirmation, the invitation email and the
invitee's pages translated; Arabic laid out right to left. Screenshots at 1280 and
390 px go to ``test-artifacts/i18n-<lang>-<width>.png`` (and ``-invalid`` for the
revoked link's page)."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from babel.dates import format_datetime
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.menu import open_menu
from tests.e2e.story import log_in
from tests.e2e.story import row


class Words(t.NamedTuple):
    """What each language must show, written here, not read from the catalogs."""

    address: str
    send: str
    pending: str
    revoke: str
    confirm: str
    revoked_state: str
    revoked: str
    subject: str
    invalid_heading: str
    direction: str


WORDS = {
    "fr": Words(
        "Adresse e-mail",
        "Envoyer l’invitation",
        "en attente",
        "Retirer l’invitation à {}",
        "Oui, retirer l’invitation à {}",
        "retirée",
        "Invitation à {} retirée.",
        "vous invite à rejoindre",
        "Invitation retirée",
        "ltr",
    ),
    "ar": Words(
        "عنوان البريد الإلكتروني",
        "إرسال الدعوة",
        "معلّقة",
        "سحب الدعوة الموجهة إلى {}",
        "نعم، اسحبها: الدعوة الموجهة إلى {}",
        "مسحوبة",
        # the outcome is a message (JSON): its address isolated, U+2068...U+2069, so
        # the full stop stays at the end of the sentence, on the left
        "سُحبت الدعوة الموجهة إلى \u2068{}\u2069.",
        "للانضمام إلى",
        "سُحبت الدعوة",
        "rtl",
    ),
}
WIDTHS = (1280, 390)


def speaks(page: Page, lang: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", WORDS[lang].direction)


def invite(page: Page, words: Words, address: str) -> Locator:
    page.locator(".invites form").get_by_label(words.address).fill(address)
    page.get_by_role("button", name=words.send, exact=True).click()
    item = row(page, address)
    expect(item.locator(".kaleo-status")).to_have_text(words.pending)
    return item


def check_expiry_in_locale(item: Locator, lang: str) -> None:
    """The expiry reads as Babel writes it for ``lang`` (UTC), the ISO kept for machines."""
    time = item.locator(".kaleo-expires time")
    iso = time.get_attribute("datetime")
    assert iso is not None
    expected = format_datetime(
        dt.datetime.fromisoformat(iso), "medium", tzinfo=dt.timezone.utc, locale=lang
    )
    expect(time).to_have_text(expected)


def check_cells_order(page: Page, item: Locator, lang: str, width: int) -> None:
    """Right to left, the address cell is right of the actions cell; left to right, left
    of it (on a phone they share no line, so compare their right/left edges)."""
    email = item.locator(".kaleo-email").bounding_box()
    actions = item.locator(".kaleo-row-actions").bounding_box()
    assert email is not None and actions is not None
    if width >= 1000:
        if WORDS[lang].direction == "rtl":
            assert email["x"] > actions["x"] + actions["width"] - 1
        else:
            assert email["x"] + email["width"] <= actions["x"] + 1
    elif WORDS[lang].direction == "rtl":
        # The address starts at the right edge of the row, as the actions end at its left.
        assert email["x"] + email["width"] > actions["x"] + actions["width"]


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_the_story_in_french_and_arabic(
    open_page: PageFactory, live_server: LiveServer, lang: str
) -> None:
    words = WORDS[lang]
    member = f"{lang}-member@example.com"
    kept, gone = f"{lang}-kept@example.com", f"{lang}-gone@example.com"
    live_server.make_member(member, "story-password", 5)
    page = open_page()
    log_in(page, live_server, member, "story-password")
    page.goto(live_server(f"/invitations?lang={lang}"))  # kept in the session from here
    speaks(page, lang)
    expect(page.locator(".invites .invitations_remaining")).to_have_text("5")  # kaleo's contract

    invite(page, words, kept)
    item = invite(page, words, gone)
    expect(page.locator(".invites .invitations_remaining")).to_have_text("3")
    check_expiry_in_locale(item, lang)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        check_cells_order(page, item, lang, width)
        shoot(page, f"i18n-{lang}-{width}")

    page.set_viewport_size({"width": 1280, "height": 900})
    open_menu(item).get_by_role("button", name=words.revoke.format(gone), exact=True).click()
    item.get_by_role("button", name=words.confirm.format(gone)).click()
    expect(item.locator(".kaleo-outcome")).to_have_text(words.revoked.format(gone))
    expect(item.locator(".kaleo-status")).to_have_text(words.revoked_state)
    shoot(page, f"i18n-{lang}-revoked-1280")

    invitee = open_page()
    invitee.goto(live_server(f"/outbox?lang={lang}"))
    for address in (kept, gone):
        mail = invitee.locator("article.mail").filter(
            has=invitee.locator(".recipients", has_text=address)
        )
        expect(mail.locator("h2")).to_contain_text(words.subject)  # written in their language
    mail.locator("a.accept-link").click()
    speaks(invitee, lang)
    expect(invitee.get_by_role("heading", level=1)).to_have_text(words.invalid_heading)
    for width in WIDTHS:
        invitee.set_viewport_size({"width": width, "height": 700})
        shoot(invitee, f"i18n-{lang}-invalid-{width}")

    invitee.goto(live_server(f"/outbox?lang={lang}"))
    invitee.locator("article.mail").filter(
        has=invitee.locator(".recipients", has_text=kept)
    ).locator("a.accept-link").click()
    expect(invitee).to_have_url(live_server("/signup"))
    speaks(invitee, lang)
    expect(invitee.locator("#email")).to_have_value(kept)  # its label translated too


def test_kaleo_js_says_a_network_failure_in_the_pages_language(
    page: Page, live_server: LiveServer
) -> None:
    """kaleo.js holds no English: what it says when the server cannot be reached is the
    page's data-kaleo-failed, and the live region carries the code ``network``."""
    live_server.make_member("offline@example.com", "story-password", 5)
    log_in(page, live_server, "offline@example.com", "story-password")
    page.goto(live_server("/invitations?lang=fr"))
    page.route(live_server("/invites/invite"), lambda route: route.abort())
    page.locator(".invites form").get_by_label(WORDS["fr"].address).fill("x@example.com")
    page.get_by_role("button", name=WORDS["fr"].send, exact=True).click()
    messages = page.locator("#invitation-form-messages")
    expect(messages).to_have_text(
        "Un problème est survenu et rien n’a été envoyé. Veuillez réessayer."
    )
    expect(messages).to_have_attribute("data-kaleo-code", "network")


ASKS = {
    "fr": ("Retirer l’invitation à {} ?", "Retirer l’invitation", "La garder"),
    "ar": ("هل تريد سحب الدعوة الموجهة إلى {}؟", "سحب الدعوة", "إبقاؤها"),
}


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_without_javascript_the_revoke_page_asks_in_the_language(
    open_page: PageFactory, live_server: LiveServer, lang: str
) -> None:
    """The confirmation page a Revoke without JavaScript goes through, translated and,
    in Arabic, right to left; screenshots ``i18n-<lang>-confirm-<width>.png``."""
    heading, revoke, keep = ASKS[lang]
    member, address = f"{lang}-nojs@example.com", f"{lang}-asked@example.com"
    live_server.make_member(member, "story-password", 5)
    page = open_page(java_script_enabled=False)
    log_in(page, live_server, member, "story-password")
    page.goto(live_server(f"/invitations?lang={lang}"))
    invite(page, WORDS[lang], address)
    row(page, address).get_by_role(
        "button", name=WORDS[lang].revoke.format(address), exact=True
    ).click()
    speaks(page, lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading.format(address))
    expect(page.get_by_role("link", name=keep)).to_be_visible()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 600})
        shoot(page, f"i18n-{lang}-confirm-{width}")
    page.get_by_role("button", name=revoke, exact=True).click()
    expect(row(page, address).locator(".kaleo-status")).to_have_text(WORDS[lang].revoked_state)
