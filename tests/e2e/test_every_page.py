"""Every page of the example app and of flask-kaleo's macros and pages, at 390 and 1280
px, in English and in Arabic (right to left), with data that stresses the layout (a
120-character address, a link for a long domain and its joiners, a link just made):
nothing scrolls sideways, every button has a name, axe finds nothing serious.

The pages are one table, ``PAGES``: a page added later is one line there, and
``test_every_page_is_in_the_table`` fails while a GET route of the example or of the
kaleo blueprint is in no line. Each visit saves the whole page as
``test-artifacts/sweep/<page>-<lang>-<width>.png``; the lines with ``shots`` also take
the documentation's gallery pictures (docs/gallery.md, see tests/e2e/gallery.py).
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect
from werkzeug.exceptions import NotFound

from tests.e2e.axe import violations
from tests.e2e.gallery import named_pictures
from tests.e2e.gallery import picture_name
from tests.e2e.gallery import published_pictures
from tests.e2e.gallery import take
from tests.e2e.live import ARTIFACTS
from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.story import log_in
from tests.e2e.sweep import LONG_DOMAIN
from tests.e2e.sweep import MEMBER
from tests.e2e.sweep import PASSWORD
from tests.e2e.sweep import STAFF
from tests.e2e.sweep import Data
from tests.e2e.sweep import make_data
from tests.e2e.sweep import nameless_buttons
from tests.e2e.sweep import overflow

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser

Who = t.Literal["visitor", "member", "staff"]
WIDTHS = {390: 844, 1280: 800}  # width: the window's height
LANGS = ("en", "ar")
CONSOLE = "/invites/staff"


@dataclasses.dataclass(frozen=True)
class Visit:
    """A page: who looks at it, its URL (given the data), the status it answers, the
    steps that lead to it from there, and the gallery pictures taken of it: (name, CSS
    selector of what to picture, or "" for the window)."""

    name: str
    who: Who
    url: t.Callable[[Data], str]
    status: int = 200
    then: t.Callable[[Page, Data], None] | None = None
    shots: tuple[tuple[str, str], ...] = ()


INVITATIONS_SHOTS = (
    ("remaining", ".invites .kaleo-invitations-badge"),
    ("invite-form", ".invites form"),
    ("sent-list", ".invite-list"),
    ("links-list", ".links"),
)


def at(path: str) -> t.Callable[[Data], str]:
    return lambda data: path


def submit_empty_login(page: Page, data: Data) -> None:
    page.locator("main form [type=submit]").click()
    expect(page.locator("main [aria-invalid=true]").first).to_be_visible()


def create_shareable_link(page: Page, data: Data) -> None:
    """The shareable-link form, posted: the page comes back showing the new link."""
    form = page.locator("form[action$='/invites/links']")
    form.locator("[name=uses]").fill("3")
    form.locator("[name=domain]").fill(LONG_DOMAIN)
    form.locator("[type=submit]").click()
    expect(page.locator(".kaleo-new-link input[readonly]")).to_have_value(
        re.compile("/invites/join/")
    )


def open_action_menu(page: Page, data: Data) -> None:
    """The first pending row's action menu, opened as a member would."""
    page.locator(".invite-list .kaleo-menu-button").first.click()
    expect(page.locator(".invite-list .kaleo-menu-open")).to_have_count(1)


def ask_to_revoke(page: Page, data: Data) -> None:
    """What a browser without JavaScript posts for Revoke: the confirmation page."""
    token = page.locator("input[name=csrf_token]").first.input_value()
    page.evaluate(
        """([action, token]) => {
          const form = document.createElement('form');
          form.method = 'post'; form.action = action;
          form.innerHTML = '<input type="hidden" name="csrf_token">';
          form.firstChild.value = token;
          document.body.append(form); form.submit();
        }""",
        [f"/invites/revoke/{data.revocable_id}", token],
    )
    expect(page.locator("form input[name=confirm][value=yes]")).to_have_count(1)


def ask_to_revoke_in_bulk(page: Page, data: Data) -> None:
    """The console's Revoke on the selected rows: the page that asks first."""
    for box in page.locator("input[name=ids]").all()[:4]:
        box.check()
    page.locator("button[name=action][value=revoke]").click()
    expect(page.locator("input[name=confirm][value=yes]")).to_have_count(1)


# One line a page: name, who looks, URL, status, steps from there, gallery pictures.
# fmt: off
PAGES = (
    # The example's own pages.
    Visit("home", "visitor", at("/")),
    Visit("login", "visitor", at("/login")),
    Visit("login-errors", "visitor", at("/login"), then=submit_empty_login),
    Visit("not-found", "visitor", at("/no-such-page"), 404),
    Visit("outbox", "visitor", at("/outbox")),
    Visit("signup-invited", "visitor", lambda d: d.pending, shots=(("signup", "main"),)),
    Visit("signup-link", "visitor", lambda d: d.link),
    Visit("invitations", "member", at("/invitations"), shots=INVITATIONS_SHOTS),
    Visit("invitations-new-link", "member", at("/invitations"), then=create_shareable_link,
          shots=(("new-link", ""),)),
    Visit("invitations-menu-open", "member", at("/invitations"), then=open_action_menu,
          shots=(("action-menu", ".invite-list"),)),
    Visit("invitations-jquery", "member", at("/invitations/jquery")),
    # kaleo's pages, inside the example's layout (it overrides kaleo/base.html).
    Visit("invite-only", "visitor", at("/signup"), 403, shots=(("invite-only", "main"),)),
    Visit("unknown-invitation", "visitor", at("/invites/accept/not-a-real-token"), 404,
          shots=(("unknown", "main"),)),
    Visit("unknown-link", "visitor", at("/invites/join/not-a-real-token"), 404),
    Visit("used", "visitor", lambda d: d.used, 410, shots=(("used", "main"),)),
    Visit("expired", "visitor", lambda d: d.expired, 410),
    Visit("revoked", "visitor", lambda d: d.revoked, 410),
    Visit("replaced", "visitor", lambda d: d.replaced, 410),
    Visit("used-up-link", "visitor", lambda d: d.used_up, 410),
    Visit("revoke-confirm", "member", at("/invitations"), then=ask_to_revoke,
          shots=(("revoke-confirm", "main"),)),
    Visit("wrong-method", "visitor", at("/invites/invite"), 405),
    # The staff console.
    Visit("console-401", "visitor", at(f"{CONSOLE}/"), 401),
    Visit("console-403", "member", at(f"{CONSOLE}/"), 403),
    Visit("console-overview", "staff", at(f"{CONSOLE}/"), shots=(("console-overview", ""),)),
    Visit("console-members", "staff", at(f"{CONSOLE}/members")),
    Visit("console-member", "staff", lambda d: f"{CONSOLE}/members/{d.member_id}"),
    Visit("console-invitations", "staff", at(f"{CONSOLE}/invitations")),
    Visit("console-revoke-confirm", "staff", at(f"{CONSOLE}/invitations"),
          then=ask_to_revoke_in_bulk),
    Visit("console-accountability", "staff", at(f"{CONSOLE}/accountability")),
    Visit("console-audit", "staff", at(f"{CONSOLE}/audit")),
)
# fmt: on

NOT_PAGES = {
    # Files.
    "static": "the example's stylesheet and scripts",
    "kaleo.static": "kaleo.css and kaleo.js",
    # JSON for scripts and staff tools (docs/staff.md), never a page.
    "kaleo.staff_stat": "JSON",
    "kaleo.staff_members": "JSON",
    "kaleo.staff_invitations": "JSON",
    "kaleo.staff_tree": "JSON",
    "kaleo.staff_audit": "JSON",
    "kaleo.staff_accountability": "JSON",
    # A download.
    "kaleo.console_invitations_csv": "CSV",
}


@pytest.fixture(scope="module")
def data(live_server: LiveServer) -> Data:
    return make_data(live_server)


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_server: LiveServer, data: Data) -> dict[Who, t.Any]:
    """Each role's cookies, logged in once: a visit opens a context with them."""
    states: dict[Who, t.Any] = {"visitor": None}
    for who, (email, password) in (("member", (MEMBER, PASSWORD)), ("staff", STAFF)):
        context = browser.new_context()
        log_in(context.new_page(), live_server, email, password)
        states[t.cast(Who, who)] = context.storage_state()
        context.close()
    return states


def in_language(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.name)
def test_page(
    visit: Visit,
    width: int,
    lang: str,
    open_page: PageFactory,
    live_server: LiveServer,
    data: Data,
    signed_in: dict[Who, t.Any],
    axe: str,
) -> None:
    page = open_page(
        viewport={"width": width, "height": WIDTHS[width]}, storage_state=signed_in[visit.who]
    )
    page.goto(live_server(f"/?lang={lang}"))  # kept in the session, through redirects
    response = page.goto(live_server(in_language(visit.url(data), lang)))
    assert response is not None and response.status == visit.status, visit.name
    if visit.then is not None:
        visit.then(page, data)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    (ARTIFACTS / "sweep").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sweep" / f"{visit.name}-{lang}-{width}.png"),
                    full_page=True)  # fmt: skip
    for shot, selector in visit.shots:
        take(page, selector, picture_name(shot, lang, width))

    problems = [found for found in [overflow(page)] if found]
    problems += nameless_buttons(page)
    problems += violations(page, axe)
    assert problems == [], "\n".join(problems)


def test_every_page_is_in_the_table(live_server: LiveServer) -> None:
    """Each GET route of the example and of the kaleo blueprint is a page in PAGES, or
    in NOT_PAGES with the reason."""
    app = live_server.app
    routes = app.url_map.bind("127.0.0.1")
    accept, join = "/invites/accept/x", "/invites/join/x"
    placeholder = Data(accept, accept, accept, accept, accept, join, join, 1, 1)
    covered = set()
    for visit in PAGES:
        try:
            covered.add(routes.match(visit.url(placeholder))[0])
        except NotFound:  # a page no route serves: the example's 404
            pass
    pages = set()
    for rule in app.url_map.iter_rules():
        declared = getattr(app.view_functions[rule.endpoint], "kaleo_declaration", None)
        methods = declared.methods if declared is not None else rule.methods or ()
        if "GET" in methods:
            pages.add(rule.endpoint)
    assert set(NOT_PAGES) <= pages, "NOT_PAGES names a route that is gone"
    assert pages - covered - set(NOT_PAGES) == set()


def test_the_checks_find_what_they_should(page: Page) -> None:
    """A nameless button (also one that opens a menu, or is pressed or not), an element
    past the edge and a word too long for its box are reported, and named."""
    page.set_viewport_size({"width": 390, "height": 600})
    page.set_content(
        '<!doctype html><html lang="en"><title>t</title><body><main>'
        '<button class="nameless"></button><span role="button"></span>'
        '<button aria-haspopup="menu" aria-expanded="false"></button>'
        '<button aria-pressed="false"></button>'
        '<input type="submit" value="Named"><button aria-label="Named too"></button>'
        '<p class="wide" style="width: 700px">wide</p></main></body></html>'
    )
    found = nameless_buttons(page)
    assert len(found) == 4 and 'class="nameless"' in found[0], found
    message = overflow(page) or ""
    assert "700px wide" in message and "p.wide" in message, message
    page.set_content(
        '<!doctype html><html lang="en"><title>t</title><body><main><p class="fits">'
        f'<span class="word">{"x" * 120}@example.com</span></p></main></body></html>'
    )
    message = overflow(page) or ""
    assert 'the text of span.word "xxx' in message, message


def test_the_gallery_shows_what_the_sweep_takes() -> None:
    """docs/gallery.md names each picture in docs/_static/gallery/ once, each one a
    picture the sweep takes; no picture there is left unnamed."""
    named = named_pictures()
    taken = {
        picture_name(shot, lang, width)
        for visit in PAGES
        for shot, _ in visit.shots
        for lang in LANGS
        for width in WIDTHS
    }
    assert len(named) == len(set(named)), "a picture is named twice"
    assert set(named) <= taken, f"not taken by the sweep: {sorted(set(named) - taken)}"
    assert set(named) == published_pictures()
