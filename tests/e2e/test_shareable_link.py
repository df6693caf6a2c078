"""A shareable link in the example app, in Chromium: a member creates one for two
people, a newcomer follows it and signs up, and the member sees who joined, then
revokes it and gets the unused invitation back."""

from __future__ import annotations

import re

from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import ALICE
from tests.e2e.story import log_in
from tests.e2e.story import log_out
from tests.e2e.story import remaining

NEWCOMER = ("newcomer@example.org", "a long new password")


def test_create_a_link_and_join_through_it(
    page: Page, open_page: PageFactory, live_server: LiveServer
) -> None:
    log_in(page, live_server, *ALICE)
    page.goto(live_server("/invitations"))
    remaining(page).to_have_text("(3)")
    links = page.locator("section.links")
    links.get_by_label("People who may join through it").fill("2")
    links.get_by_role("button", name="Create shareable link").click()

    flash = page.locator(".flash-success")
    expect(flash).to_contain_text("Link created for 2 people:")
    found = re.search(r"http://127\.0\.0\.1:\d+/invites/join/[\w-]+", flash.inner_text())
    assert found is not None, flash.inner_text()
    url = found.group(0)
    remaining(page).to_have_text("(1)")
    expect(links.locator(".kaleo-link .kaleo-link-uses")).to_have_text("0 of 2 used")
    page.reload()  # shown once: the page no longer holds it
    assert url not in page.content()

    visitor = open_page()
    visitor.goto(url)
    expect(visitor).to_have_url(live_server("/signup"))
    expect(visitor.get_by_text(f"{ALICE[0]} invited you")).to_be_visible()
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
    link = page.locator("section.links .kaleo-link")
    expect(link.locator(".kaleo-link-uses")).to_have_text("1 of 2 used")
    expect(link.locator(".kaleo-link-joiners li")).to_have_text([NEWCOMER[0]])
    link.get_by_role("button", name="Revoke link").click()
    expect(page.locator(".flash-success")).to_contain_text(
        "Link withdrawn; 1 unused invitation given back."
    )
    expect(link).to_have_class(re.compile(r"\brevoked\b"))
    remaining(page).to_have_text("(2)")

    log_out(visitor)
    visitor.goto(url)  # the link is dead now, and says why
    expect(visitor.get_by_text("This link has been withdrawn.")).to_be_visible()
