"""The staff console in Chromium, inside the example app's layout: a visitor gets the
401 page with its log-in link, a member the 403 page; staff go through every page and
form with JavaScript on and off, in English and in Arabic (right to left), at 1280
and 390 px: nothing scrolls sideways and axe finds nothing serious. Screenshots go
to ``test-artifacts/console-<page>-<lang>-<width>.png``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.axe import shown_with_javascript
from tests.e2e.axe import violations
from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import log_in

CONSOLE = "/invites/staff"
STAFF = ("staff@example.com", "staff-password")
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def tree(live_server: LiveServer) -> dict[str, int]:
    """A chain alice → dan → eve → gil joined through real invitations, dan with a
    pending one to fay, a long address among his invitees, and an allocation set by
    staff; the members' ids."""
    from example_app.demo import add_member
    from example_app.extensions import db
    from example_app.models import User
    from example_app.models import kaleo

    def join(inviter: User, email: str) -> User:
        invitation = kaleo.invite(inviter, email, send=False)
        user = add_member(email, f"{email}-password", 3)
        kaleo.accept(invitation, user)
        db.session.commit()
        return user

    with live_server.app.test_request_context():
        alice = db.session.scalars(db.select(User).filter_by(email="alice@example.com")).one()
        dan = join(alice, "dan@example.com")
        eve = join(dan, "eve@example.com")
        join(eve, "gil@example.com")
        join(dan, "a.very.long.address.of.someone.invited.by.dan@subdomain.example.com")
        kaleo.invite(dan, "fay@example.com", send=False)
        db.session.commit()
        staff = db.session.scalars(db.select(User).filter_by(email=STAFF[0])).one()
        kaleo.set_allocation(dan, 6, by=staff)  # an entry in the audit log about dan
        return {"alice": alice.id, "dan": dan.id, "eve": eve.id}


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits(page: Page) -> None:
    """Nothing scrolls sideways: the document is no wider than the viewport."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width}px wide in a {viewport}px viewport"


def checked(page: Page, axe: str, viewer: Page | None) -> list[str]:
    """axe's serious findings on the page (shown to ``viewer`` when JavaScript is off)."""
    return violations(page if viewer is None else shown_with_javascript(page, viewer), axe)


def test_a_visitor_gets_401_with_a_login_link_and_a_member_403(
    open_page: PageFactory, live_server: LiveServer, axe: str, tree: dict[str, int]
) -> None:
    page = open_page()
    found: list[str] = []
    response = page.goto(live_server(f"{CONSOLE}/members"))
    assert response is not None and response.status == 401
    expect(page.get_by_role("heading", name="Unauthorized")).to_be_visible()
    found += violations(page, axe)
    page.locator("main").get_by_role("link", name="Log in").click()
    expect(page).to_have_url(live_server("/login"))

    log_in(page, live_server, "alice@example.com", "alice-password")
    for path in ("/", "/members", f"/members/{tree['dan']}", "/accountability", "/audit"):
        response = page.goto(live_server(CONSOLE + path))
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
        expect(page.locator(".kaleo-console-nav")).to_have_count(0)
    found += violations(page, axe)
    assert found == [], "\n".join(found)


def look_at_every_page(
    page: Page, live_server: LiveServer, axe: str, tree: dict[str, int], viewer: Page | None,
    lang: str,
) -> list[str]:  # fmt: skip
    """Each console page at both widths: it fits, axe is content, and (JavaScript on)
    a screenshot for people to look at."""
    found: list[str] = []
    pages = {
        "overview": "/",
        "members": "/members",
        "member": f"/members/{tree['dan']}?depth=2",
        "invitations": "/invitations",
        "accountability": "/accountability",
        "audit": "/audit",
    }
    for name, path in pages.items():
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(live_server(CONSOLE + path))
            assert response is not None and response.status == 200, path
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
            fits(page)
            found += checked(page, axe, viewer)
            if viewer is None:
                shoot(page, f"console-{name}-{lang}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    return found


def flashed_once(page: Page, text: str) -> None:
    """The post's message is on the page once (the site's layout shows it; the
    console's layout then does not)."""
    expect(page.get_by_text(text)).to_have_count(1)


def pending_from_dan(live_server: LiveServer, tree: dict[str, int], address: str) -> None:
    """A pending invitation from dan, for the suspension to revoke."""
    from example_app.extensions import db
    from example_app.models import User
    from example_app.models import kaleo

    with live_server.app.test_request_context():
        dan = db.session.get(User, tree["dan"])
        assert dan is not None
        kaleo.invite(dan, address, send=False)


def use_the_forms(page: Page, live_server: LiveServer, tree: dict[str, int], run: str) -> None:
    """Allocation, suspend (reason, revoke pending), resume and the tree's levels, on
    dan's page; each post comes back to the page with its message."""
    pending_from_dan(live_server, tree, f"pending-{run}@example.com")
    page.goto(live_server(f"{CONSOLE}/members/{tree['dan']}"))
    figures = page.locator(".kaleo-figures dd")
    allocated = int(figures.first.inner_text())
    page.locator("input[name=how][value=add]").check()
    page.locator("input[name=amount]").fill("2")
    page.locator("form[action$=allocation] button").click()
    expect(page).to_have_url(live_server(f"{CONSOLE}/members/{tree['dan']}"))
    flashed_once(page, "Allocation of dan@example.com changed.")
    expect(figures.first).to_have_text(str(allocated + 2))

    tree_list = page.locator("#invitees")
    expect(tree_list.get_by_role("link", name="eve@example.com")).to_have_count(1)
    page.locator(".kaleo-disclosure summary").click()
    page.locator("textarea[name=reason]").fill("Invites strangers in bulk")
    page.locator("input[name=revoke_pending]").check()
    page.locator("form[action$=suspend] button").click()
    flashed_once(page, "1 member suspended. Invitations revoked:")
    expect(page.locator(".kaleo-suspension")).to_contain_text("Invites strangers in bulk")
    expect(page.locator(".kaleo-audit tbody tr").first).to_contain_text("inviting suspended")
    page.reload()
    expect(page.get_by_text("1 member suspended")).to_have_count(0)  # shown once

    page.locator("form[action$=resume] button").click()
    flashed_once(page, "dan@example.com may invite again.")
    expect(page.locator(".kaleo-suspension")).to_have_count(0)


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_console_as_staff(
    open_page: PageFactory,
    live_server: LiveServer,
    axe: str,
    tree: dict[str, int],
    lang: str,
    javascript: bool,
) -> None:
    page = open_page(java_script_enabled=javascript)
    viewer = None if javascript else open_page()
    log_in(page, live_server, *STAFF)
    page.goto(live_server(f"{CONSOLE}/?lang={lang}"))  # kept in the session from here
    found = look_at_every_page(page, live_server, axe, tree, viewer, lang)
    if lang == "en":
        use_the_forms(page, live_server, tree, f"{lang}-{javascript}")
        found += checked(page, axe, viewer)
    else:  # right to left: the nav starts at the right
        links = page.locator(".kaleo-console-nav a")
        first, last = links.first.bounding_box(), links.last.bounding_box()
        assert first is not None and last is not None
        assert first["x"] > last["x"]
    assert found == [], "\n".join(found)


def test_search_sort_filter_and_pages_without_javascript(
    open_page: PageFactory, live_server: LiveServer, tree: dict[str, int]
) -> None:
    page = open_page(java_script_enabled=False)
    log_in(page, live_server, *STAFF)
    page.goto(live_server(f"{CONSOLE}/members"))
    page.locator("input[name=q]").fill("da")
    page.locator("form[role=search] button").click()
    rows = page.locator(".kaleo-members tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("link", name="dan@example.com").click()
    expect(page.locator("h1")).to_have_text("dan@example.com")
    chain = page.locator(".kaleo-chain")
    expect(chain.get_by_role("link")).to_have_text(["Alice Martin"])  # her display name
    invitees = page.locator("#invitees")
    expect(invitees.get_by_role("link", name="gil@example.com")).to_have_count(0)
    invitees.get_by_role("link", name="2 levels").click()
    expect(page.locator(".kaleo-levels [aria-current]")).to_have_text("2 levels")
    expect(invitees.get_by_role("link", name="gil@example.com")).to_be_visible()

    page.goto(live_server(f"{CONSOLE}/accountability"))
    page.get_by_role("link", name="Accepted").click()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    page.get_by_role("link", name="Accepted").click()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("link", name="3 or more invitees in trouble").click()
    expect(page.locator(".kaleo-levels [aria-current]")).to_have_text(
        "3 or more invitees in trouble"
    )

    page.goto(live_server(f"{CONSOLE}/audit"))
    page.locator("select[name=action]").select_option("suspend")
    page.locator("input[name=member]").fill("nobody@example.com")
    page.locator(".kaleo-console-filters button").click()
    expect(page.get_by_text("No member has the address nobody@example.com.")).to_be_visible()
    expect(page.locator("select[name=action]")).to_have_value("suspend")
