"""Sharing a link in the example app, in Chromium: a member creates one, sees it in a
read-only field with a Copy button and a uses meter (kept on reload), a newcomer
follows it and signs up, the member sees who joined in the links list, then revokes
it and gets the unused invitation back. At 1280 and 390 pixels, in English and
Arabic: nothing scrolls sideways, axe finds nothing serious, and the screenshots in
test-artifacts/ (share-*.png) are for a human to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.axe import violations
from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import ALICE
from tests.e2e.story import log_in
from tests.e2e.story import log_out
from tests.e2e.story import remaining

NEWCOMER = ("newcomer@example.org", "a long new password")
LONG_DOMAIN = "students.department-of-comparative-literature.faculty-of-humanities.example.edu"
WIDTHS = (1280, 390)


def create_link(page: Page, uses: int, domain: str = "") -> None:
    """Fill and send the link form by its ids (no English, so Arabic pages too)."""
    form = page.locator("form.kaleo-shareable-link-form")
    form.locator("#kaleo-link-uses").fill(str(uses))
    form.locator("#kaleo-link-domain").fill(domain)
    form.locator("button[type=submit]").click()


def new_link_url(page: Page) -> str:
    field = page.locator(".kaleo-new-link input.kaleo-link-text")
    expect(field).to_be_visible()
    return field.input_value()


def no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= page.evaluate("window.innerWidth"), wide


def join_through(live_server: LiveServer, url: str, *emails: str) -> None:
    """People join through the link in the app itself (a browser signup each is the
    story test's; this is the list's layout)."""
    from example_app.extensions import db
    from example_app.models import User
    from example_app.models import kaleo

    with live_server.app.app_context():
        link = kaleo.link_by_token(url.rsplit("/", 1)[1])
        assert link is not None
        for email in emails:
            user = User(email=email, password_hash="-")
            db.session.add(user)
            db.session.flush()
            kaleo.accept(link, user)
        db.session.commit()


def test_create_a_link_and_join_through_it(
    page: Page, open_page: PageFactory, live_server: LiveServer
) -> None:
    log_in(page, live_server, *ALICE)
    page.goto(live_server("/invitations"))
    remaining(page).to_have_text("(3)")
    links = page.locator("section.links")
    links.get_by_label("For how many people").fill("2")
    links.get_by_role("button", name="Create shareable link").click()

    expect(page.locator(".flash-success")).to_have_text("Link created for 2 people.")
    url = new_link_url(page)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/invites/join/[\w-]+", url), url
    assert page.locator(".flash-success").inner_text().count(url) == 0  # not flashed
    remaining(page).to_have_text("(1)")
    expect(links.locator("li.kaleo-link .kaleo-link-uses")).to_have_text("0 of 2 used")
    page.reload()  # kept while it is the newest link and active
    assert new_link_url(page) == url

    visitor = open_page()
    visitor.goto(url)
    expect(visitor).to_have_url(live_server("/signup"))
    expect(visitor.get_by_text("Alice Martin invited you")).to_be_visible()  # its display name
    email = visitor.get_by_label("Email")
    expect(email).to_have_value("")
    expect(email).to_be_editable()  # a link names nobody: any address may join
    email.fill(NEWCOMER[0])
    visitor.get_by_label("Password", exact=True).fill(NEWCOMER[1])
    visitor.get_by_label("Password again").fill(NEWCOMER[1])
    visitor.get_by_role("button", name="Create account").click()
    expect(visitor).to_have_url(live_server("/invitations"))
    expect(visitor.locator(".flash-success")).to_contain_text(f"Welcome, {NEWCOMER[0]}")

    page.reload()
    expect(page.locator(".kaleo-new-link .kaleo-link-uses")).to_have_text("1 of 2 used")
    link = page.locator("section.links li.kaleo-link")
    expect(link.locator(".kaleo-link-uses")).to_have_text("1 of 2 used")
    expect(link.locator(".kaleo-link-joiners li")).to_have_text([NEWCOMER[0]])
    link.get_by_role("button", name=re.compile(r"^Revoke link 1 of 2 used expires ")).click()
    expect(page.locator(".flash-success")).to_contain_text(
        "Link withdrawn; 1 unused invitation given back."
    )
    expect(link).to_have_class(re.compile(r"\brevoked\b"))
    expect(page.locator(".kaleo-new-link")).to_have_count(0)  # no longer active
    remaining(page).to_have_text("(2)")

    log_out(visitor)
    visitor.goto(url)  # the link is dead now, and says why
    expect(visitor.get_by_text("This link has been withdrawn.")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("width", WIDTHS)
def test_the_new_link_and_the_links_list(
    open_page: PageFactory, live_server: LiveServer, axe: str, lang: str, width: int
) -> None:
    member = f"share-{lang}-{width}@example.com"
    live_server.make_member(member, "share-password", 20)
    page = open_page(
        viewport={"width": width, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    log_in(page, live_server, member, "share-password")
    page.goto(live_server(f"/invitations?lang={lang}"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    create_link(page, 3, LONG_DOMAIN)
    url = new_link_url(page)
    assert url.startswith(live_server("/invites/join/"))
    panel = page.locator(".kaleo-new-link")
    meter = panel.locator("meter")
    expect(meter).to_have_attribute("value", "0")
    expect(meter).to_have_attribute("max", "3")
    if lang == "en":
        expect(panel.locator(".kaleo-link-uses-text")).to_have_text("0 of 3 used")
        expect(page.locator("[data-kaleo-badge]")).to_have_text("17 invitations left")

    copy = panel.locator("button[data-kaleo-copy]")
    copy.click()
    expect(panel.locator("[data-kaleo-copy-status]")).to_have_text(
        copy.get_attribute("data-kaleo-copied") or "?"
    )
    assert page.evaluate("navigator.clipboard.readText()") == url

    long_names = [
        f"someone.with.a.remarkably.long.name.{lang}{width}.{n}.for.wrapping@{LONG_DOMAIN}"
        for n in (1, 2)
    ]
    join_through(live_server, url, *long_names)
    page.reload()
    assert new_link_url(page) == url  # kept on reload while active
    expect(meter).to_have_attribute("value", "2")
    row = page.locator("section.links li.kaleo-link")
    expect(row.locator(".kaleo-link-joiners li bdi")).to_have_count(2)
    expect(row.locator(".kaleo-link-domain bdi")).to_have_text("@" + LONG_DOMAIN)
    expect(row.locator("meter")).to_have_attribute("value", "2")
    no_sideways_scroll(page)
    assert violations(page, axe) == []

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"share-invitations-{lang}-{width}.png"), full_page=True)
    page.locator("section.links").screenshot(
        path=str(ARTIFACTS / f"share-links-{lang}-{width}.png")
    )


def test_without_the_clipboard_the_new_link_is_selected(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    live_server.make_member("share-fallback@example.com", "share-password", 5)
    page = open_page(viewport={"width": 390, "height": 900})
    page.add_init_script(
        "Object.defineProperty(navigator, 'clipboard', {value: undefined});"
        " document.execCommand = () => false;"
    )
    log_in(page, live_server, "share-fallback@example.com", "share-password")
    page.goto(live_server("/invitations"))
    create_link(page, 1)
    url = new_link_url(page)
    panel = page.locator(".kaleo-new-link")
    copy = panel.locator("button[data-kaleo-copy]")
    copy.click()
    expect(panel.locator("[data-kaleo-copy-status]")).to_have_text(
        "The link is selected: copy it with Ctrl+C (or Cmd+C)."
    )
    expect(panel.locator("input.kaleo-link-text")).to_be_focused()
    selected = page.evaluate(
        "(() => { const f = document.activeElement;"
        " return f.value.substring(f.selectionStart, f.selectionEnd); })()"
    )
    assert selected == url


def test_the_badge_follows_each_invitation(page: Page, live_server: LiveServer) -> None:
    """kaleo.js rewrites the badge's words from each answer (plural forms and all),
    the number in kaleo's span staying bare."""
    live_server.make_member("share-badge@example.com", "share-password", 2)
    log_in(page, live_server, "share-badge@example.com", "share-password")
    page.goto(live_server("/invitations"))
    badge = page.locator("[data-kaleo-badge]")
    expect(badge).to_have_text("2 invitations left")
    for address, words in (("one@example.org", "1 invitation left"),
                           ("two@example.org", "no invitations left")):  # fmt: skip
        page.locator("#email_address").fill(address)
        page.locator("form[data-kaleo-invite] button[type=submit]").click()
        expect(badge).to_have_text(words, use_inner_text=True)
    expect(badge.locator(".invitations_remaining")).to_be_hidden()
    expect(badge.locator(".invitations_remaining")).to_have_text("0")
