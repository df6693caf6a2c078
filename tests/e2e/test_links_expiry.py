"""The invite form's "Create link" with its copy button (the clipboard, and the
fallback that selects the link), and the sent list's extend form, in Chromium."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.live import LiveServer
from tests.e2e.live import PageFactory
from tests.e2e.menu import open_menu
from tests.e2e.story import log_in
from tests.e2e.story import mark_page
from tests.e2e.story import page_was_kept
from tests.e2e.story import remaining

COPIED = "Link copied."
SELECTED = "The link is selected: copy it with Ctrl+C (or Cmd+C)."


CREATE_LINK = (
    '<button type="submit" name="send" value="0"'
    ' class="kaleo-button kaleo-secondary kaleo-create-link">Create link</button>'
)


def create_link(page: Page, address: str) -> None:
    """A link for one address, not mailed: the example's invite form sends email only,
    so the button a site gets with ``invite_form(user, link_button=True)`` is added."""
    page.locator(".invites form .kaleo-actions").evaluate(
        f"(actions) => actions.insertAdjacentHTML('beforeend', {CREATE_LINK!r})"
    )
    page.locator(".invites form").get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Create link").click()


def test_create_link_and_copy_it_to_the_clipboard(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    live_server.make_member("lena@example.com", "lena-password", 2)
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(page, live_server, "lena@example.com", "lena-password")
    mark_page(page)
    create_link(page, "mo@example.com")
    messages = page.locator("#invitation-form-messages")
    expect(messages).to_have_text(
        "Invitation link for mo@example.com created. Copy it and share it."
    )
    item = page.locator(".invite-list li", has_text="mo@example.com")
    expect(item).to_have_class("sent link")
    expect(item.locator(".kaleo-status")).to_have_text("link created")
    field = item.get_by_label("Invitation link for mo@example.com")
    link = field.input_value()
    assert link.startswith(live_server("/invites/accept/"))
    remaining(page).to_have_text("(1)")

    item.get_by_role("button", name="Copy link").click()
    expect(messages).to_have_text(COPIED)
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page_was_kept(page)

    # Reloaded, the list no longer shows the link (only its digest is stored).
    page.reload()
    expect(item.locator(".kaleo-status")).to_have_text("link created")
    expect(item.get_by_role("button", name="Copy link")).to_have_count(0)
    expect(open_menu(item).get_by_role("button", name="Send by email")).to_be_visible()

    # The shared link leads a visitor to the signup page.
    visitor = open_page()
    visitor.goto(link)
    expect(visitor).to_have_url(live_server("/signup"))


def test_without_the_clipboard_the_link_is_selected(
    open_page: PageFactory, live_server: LiveServer
) -> None:
    live_server.make_member("nina@example.com", "nina-password", 2)
    page = open_page()
    # A browser with neither the clipboard API nor a working copy command.
    page.add_init_script(
        "Object.defineProperty(navigator, 'clipboard', {value: undefined});"
        " document.execCommand = () => false;"
    )
    log_in(page, live_server, "nina@example.com", "nina-password")
    create_link(page, "olga@example.com")
    item = page.locator(".invite-list li", has_text="olga@example.com")
    item.get_by_role("button", name="Copy link").click()
    messages = page.locator("#invitation-form-messages")
    expect(messages).to_have_text(SELECTED)
    field = item.get_by_label("Invitation link for olga@example.com")
    expect(field).to_be_focused()
    selected = page.evaluate(
        "(() => { const f = document.activeElement;"
        " return f.value.substring(f.selectionStart, f.selectionEnd); })()"
    )
    assert selected == field.input_value() and "/invites/accept/" in selected


def test_extend_an_expired_invitation_in_place(page: Page, live_server: LiveServer) -> None:
    from example_app.extensions import db
    from example_app.models import kaleo

    live_server.make_member("pia@example.com", "pia-password", 2)
    log_in(page, live_server, "pia@example.com", "pia-password")
    page.locator(".invites form").get_by_label("Email address").fill("quinn@example.com")
    page.get_by_role("button", name="Send invitation").click()
    item = page.locator(".invite-list li", has_text="quinn@example.com")
    expect(item).to_have_class("sent")
    with live_server.app.app_context():
        model = kaleo.JoinInvitation
        past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
        db.session.execute(
            sa.update(model).where(model.email == "quinn@example.com").values(expires_at=past)
        )
        db.session.commit()
    page.reload()
    expect(item).to_have_class("sent expired")
    mark_page(page)

    open_menu(item).get_by_label("Extend by").select_option("3d")
    item.get_by_role("button", name="Extend").click()
    expect(item.locator(".kaleo-outcome")).to_have_text("Invitation to quinn@example.com extended.")
    expect(item).to_have_class("sent")
    when = dt.datetime.fromisoformat(
        item.locator(".kaleo-expires time").get_attribute("datetime") or ""
    )
    expected = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    assert abs(when - expected) < dt.timedelta(minutes=5)
    assert page_was_kept(page)
