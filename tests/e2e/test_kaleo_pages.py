"""kaleo's own pages as a visitor sees them, at 1280 and 390 px, in English and Arabic:
on kaleo's ``kaleo/base.html`` (a host app that does not override it) each is a
centred card styled by kaleo.css, with the log-in link where the site has one; in the
example app's layout (which overrides it) the card sits in the site's page. No page
scrolls sideways. Screenshots go to ``test-artifacts/kaleo-page-<name>-<lang>-<width>.png``
and ``example-<name>-<lang>-<width>.png``."""

from __future__ import annotations

import typing as t

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import serve
from tests.helpers import link_for
from tests.helpers import with_babel

WIDTHS = (1280, 390)
LANGS = ("en", "ar")
LOGIN = "/login"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[LiveServer]:
    """The test host app (kaleo/base.html not overridden), invite-only, with a log-in
    page and Flask-Babel choosing the browser's language."""
    from tests.hostapp import create_app
    from tests.hostapp import db

    database = tmp_path_factory.mktemp("pages") / "pages.sqlite"
    app = create_app(
        f"sqlite:///{database}",
        before_kaleo=with_babel,
        KALEO_INVITE_ONLY=True,
        KALEO_LOGIN_URL=LOGIN,
    )
    kaleo = app.extensions["kaleo"]
    app.add_url_rule(LOGIN, "login", lambda: "log in here")
    app.add_url_rule("/register", "register", kaleo.invitation_required(lambda: "sign up"))
    with app.app_context():
        db.create_all()
    with serve(app, db) as live:
        yield live


def open_in(browser: Browser, lang: str, width: int) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 800}, locale="ar" if lang == "ar" else "en-US"
    )
    return context.new_page()


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"


def speaks(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def host_pages(host: LiveServer) -> dict[str, tuple[str, int, bool]]:
    """Each page: its path, its status, and whether it links to log in."""
    return {
        "invite-only": ("/register", 403, True),
        "not-found": ("/invites/accept/no-such-token", 404, False),
        "used": (link_for(host.app, "bob@example.com", "accepted"), 410, True),
        "expired": (link_for(host.app, "erin@example.com", "expired"), 410, True),
        "method": ("/invites/invite", 405, False),
    }


@pytest.mark.parametrize("lang", LANGS)
def test_kaleo_pages_are_styled_cards_with_the_next_step(
    host: LiveServer,
    browser: Browser,
    host_pages: dict[str, tuple[str, int, bool]],
    lang: str,
) -> None:
    for name, (path, status, login) in host_pages.items():
        for width in WIDTHS:
            page = open_in(browser, lang, width)
            try:
                response = page.goto(host(path))
                assert response is not None and response.status == status, name
                speaks(page, lang)
                card = page.locator("main.kaleo-page > .kaleo-card")
                expect(card).to_be_visible()
                # kaleo.css is linked and its pages block applies: the card's top rule
                expect(card).to_have_css("border-top-width", "4px")
                expect(card.locator("h1")).to_be_visible()
                box = card.bounding_box()
                assert box is not None
                right_margin = width - (box["x"] + box["width"])
                assert abs(box["x"] - right_margin) <= 2, (name, width, box)  # centred
                link = card.locator("a.kaleo-login")
                if login:
                    expect(link).to_be_visible()
                    expect(link).to_have_attribute("href", LOGIN)
                else:
                    expect(link).to_have_count(0)
                no_sideways_scroll(page)
                shot(page, f"kaleo-page-{name}-{lang}-{width}")
            finally:
                page.context.close()


# -- the example app: its own pages and kaleo's in its layout ---------------------------


@pytest.fixture(scope="module")
def links(live_server: LiveServer) -> dict[str, str]:
    """A shareable link for @example.org, and one revoked."""
    from example_app.models import kaleo

    live_server.make_member("lena@example.com", "lena-password", 3)
    with live_server.app.test_request_context():
        lena = kaleo.hooks.member("lena@example.com")
        assert lena is not None
        used = kaleo.create_link(lena, 1, domain="example.org")
        link = kaleo.create_link(lena, 2, domain="example.org")
        kaleo.revoke(used)
        return {"used": str(used.url), "link": str(link.url)}


@pytest.mark.parametrize("lang", LANGS)
def test_the_example_pages_fit_a_phone_in_each_language(
    live_server: LiveServer, browser: Browser, links: dict[str, str], lang: str
) -> None:
    """Every example page at 390 and 1280 px: translated (the `lang` switcher), no
    sideways scroll; the wrong-domain signup keeps the form with the error at the
    address field; kaleo's pages keep their card inside the example's layout."""
    for width in WIDTHS:
        page = open_in(browser, lang, width)
        try:
            visits = {
                "home": "/",
                "login": "/login",
                "invite-only": "/signup",
                "not-found": "/no-such-page",
                "gone": links["used"].removeprefix(live_server.url),
            }
            page.goto(live_server(f"/?lang={lang}"))
            for name, path in visits.items():
                page.goto(live_server(path))
                speaks(page, lang)
                no_sideways_scroll(page)
                shot(page, f"example-{name}-{lang}-{width}")
            expect(page.locator(".kaleo-card")).to_have_css("border-top-width", "4px")

            page.goto(links["link"])  # on to the signup form, the link remembered
            page.locator("#email").fill("mallory." + "x" * 100 + "@example.com")
            page.locator("#password").fill("long enough")
            page.locator("#confirm").fill("long enough")
            page.locator("form.stacked button[type=submit]").click()
            error = page.locator("#email-errors")
            expect(error).to_contain_text("example.org")
            expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
            speaks(page, lang)
            no_sideways_scroll(page)
            shot(page, f"example-signup-wrong-domain-{lang}-{width}")
        finally:
            page.context.close()
