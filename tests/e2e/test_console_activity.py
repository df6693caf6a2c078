"""The staff console's overview and invitations pages in Chromium, as staff: with and
without JavaScript, in English and Arabic (right to left), at 1280 and 390 pixels.
Nothing sticks out sideways, axe finds nothing serious, and each page is saved in
test-artifacts/ (activity-overview-*.png, activity-invitations-*.png) for a human to
look at; the documentation's screenshots are console-overview.png and
console-invitations.png, the first screenful in English at 1280 pixels."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.axe import shown_with_javascript
from tests.e2e.axe import violations
from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import log_in
from tests.helpers import invitation_columns

STAFF = ("staff@example.com", "staff-password")
WIDTHS = (1280, 390)
LANGUAGES = ("en", "ar")


@pytest.fixture(scope="module")
def history(live_server: LiveServer) -> dict[str, list[int]]:
    """A month of alice's invitations: delivered ones on most days, some accepted (with
    their edges in the tree), three undeliverable, two stuck in sending, and one to a
    very long address; returns the ids by state."""
    from example_app.extensions import db
    from example_app.models import User
    from example_app.models import kaleo

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    ids: dict[str, list[int]] = {}
    with live_server.app.app_context():
        alice = db.session.scalars(sa.select(User).where(User.email == "alice@example.com")).one()
        for n in range(45):
            sent_at = now - dt.timedelta(days=n % 28, hours=n % 5 + 1)
            state = "accepted" if n % 4 == 1 else "undeliverable" if n in (6, 17, 30) else "sent"
            if n in (2, 3):
                state, sent_at = "sending", now - dt.timedelta(hours=3)
            address = f"friend.{n}@example.com"
            if n == 0:
                address = "a.very.long.address.of.a.friend.who.was.invited@subdomain.example.com"
            columns = invitation_columns(
                alice.id, address, state, sent_at=sent_at, inviter_label="alice@example.com"
            )
            if n == 0:
                columns["expires_at"] = now + dt.timedelta(days=5)
            invitation = kaleo.JoinInvitation(**columns)
            db.session.add(invitation)
            db.session.flush()
            ids.setdefault(state, []).append(invitation.id)
            if state == "accepted":
                db.session.add(
                    kaleo.Referral(
                        invitee_label=address,
                        inviter_label="alice@example.com",
                        inviter_id=alice.id,
                        joined_at=sent_at + dt.timedelta(hours=1),
                        invitation_id=invitation.id,
                    )
                )
        db.session.commit()
    return ids


def staff_page(open_page: PageFactory, server: LiveServer, width: int, javascript: bool) -> Page:
    page = open_page(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    log_in(page, server, *STAFF)
    return page


def in_language(page: Page, server: LiveServer, path: str, language: str) -> None:
    """Open ``path`` in ``language`` (the example keeps the choice in the session)."""
    response = page.goto(server(f"{path}{'&' if '?' in path else '?'}lang={language}"))
    assert response is not None and response.status == 200, path
    direction = "rtl" if language == "ar" else "ltr"
    expect(page.locator("html")).to_have_attribute("dir", direction)


def assert_fits(page: Page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the {width}px window"


def checked(page: Page, javascript: bool, open_page: PageFactory, axe: str) -> list[str]:
    """axe's serious findings on ``page`` (shown to a JavaScript viewer when it has none)."""
    return violations(page if javascript else shown_with_javascript(page, open_page()), axe)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_overview(
    open_page: PageFactory,
    live_server: LiveServer,
    history: dict[str, list[int]],
    axe: str,
    width: int,
    language: str,
    javascript: bool,
) -> None:
    page = staff_page(open_page, live_server, width, javascript)
    in_language(page, live_server, "/invites/staff/", language)
    chart = page.locator("svg.kaleo-chart")
    expect(chart).to_be_visible()
    assert chart.locator("polyline").count() == 3
    box = chart.bounding_box()
    assert box is not None and box["width"] <= width
    attention = page.locator(".kaleo-console-attention a")
    expect(attention.first).to_be_visible()
    assert_fits(page, width)
    assert checked(page, javascript, open_page, axe) == []
    if javascript:
        ARTIFACTS.mkdir(exist_ok=True)
        name = f"activity-overview-{language}-{width}.png"
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        if (language, width) == ("en", 1280):  # docs/_static/console-overview.png
            page.screenshot(path=str(ARTIFACTS / "console-overview.png"))
    page.locator(".kaleo-console-attention a[href*='state=undeliverable']").click()
    expect(page.locator("#kaleo-filter-state")).to_have_value("undeliverable")
    expect(page.locator("tbody tr")).to_have_count(len(history["undeliverable"]))
    in_language(page, live_server, "/invites/staff/?days=90", language)
    expect(page.locator(".kaleo-console-period [aria-current=page]")).to_contain_text("90")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_invitations_page(
    open_page: PageFactory,
    live_server: LiveServer,
    history: dict[str, list[int]],
    axe: str,
    width: int,
    language: str,
    javascript: bool,
) -> None:
    page = staff_page(open_page, live_server, width, javascript)
    in_language(page, live_server, "/invites/staff/invitations", language)
    expect(page.locator("tbody tr")).to_have_count(45)
    assert_fits(page, width)
    table = page.locator("table.kaleo-invitations-table").bounding_box()
    column = page.locator(".kaleo-console").bounding_box()
    assert table is not None and column is not None
    assert column["x"] - 1 <= table["x"], (table, column)  # the table stays in its column
    assert table["x"] + table["width"] <= column["x"] + column["width"] + 1, (table, column)
    assert checked(page, javascript, open_page, axe) == []
    if javascript:
        ARTIFACTS.mkdir(exist_ok=True)
        name = f"activity-invitations-{language}-{width}.png"
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        if (language, width) == ("en", 1280):  # docs/_static/console-invitations.png
            page.screenshot(path=str(ARTIFACTS / "console-invitations.png"))

    page.locator("#kaleo-filter-state").select_option("sending")
    page.locator(".kaleo-console-filters button[type=submit]").click()
    expect(page.locator("tbody tr")).to_have_count(len(history["sending"]))
    assert "state=sending" in page.url


def test_staff_extend_and_revoke_selected_rows_without_javascript(
    open_page: PageFactory, live_server: LiveServer, history: dict[str, list[int]], axe: str
) -> None:
    """Select two pending rows and one accepted: extend them (the accepted one is
    refused, the others done), then revoke, through the confirmation page."""
    page = staff_page(open_page, live_server, 390, javascript=False)
    first, second = history["sent"][1], history["sent"][2]
    accepted = history["accepted"][0]
    page.goto(live_server("/invites/staff/invitations"))

    def select(*ids: int) -> None:
        for item_id in ids:
            page.locator(f"#kaleo-select-{item_id}").check()

    select(first, second, accepted)
    page.locator("#kaleo-extend-days").select_option("3")
    page.locator("button[value=extend]").click()
    # The site's layout shows the flashed messages (the console's frame then does not).
    messages = page.get_by_role("status")
    expect(messages).to_contain_text("Extended: invitations")
    for item_id in (first, second):
        expect(messages).to_contain_text(f"#{item_id}")
    expect(messages).to_contain_text(f"Not extended, invitation #{accepted}:")

    select(first, second)
    page.locator("button[value=revoke]").click()
    expect(page.locator(".kaleo-console-confirm li")).to_have_count(2)
    assert checked(page, False, open_page, axe) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "activity-revoke-confirm-390.png"), full_page=True)
    page.locator(".kaleo-console-confirm button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked: invitations")
    for item_id in (first, second):
        expect(page.locator(f"#kaleo-invitation-{item_id} .kaleo-status")).to_have_text("revoked")


def test_a_member_is_refused_the_console(open_page: PageFactory, live_server: LiveServer) -> None:
    page = open_page()
    log_in(page, live_server, "bob@example.com", "bob-password")
    for path in ("/invites/staff/", "/invites/staff/invitations"):
        response = page.goto(live_server(path))
        assert response is not None and response.status == 403, path
        expect(page.locator("table")).to_have_count(0)
