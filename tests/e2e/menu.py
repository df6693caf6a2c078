"""The sent list's action menu, as the e2e tests open it."""

from __future__ import annotations

from playwright.sync_api import Locator
from playwright.sync_api import expect


def open_menu(item: Locator) -> Locator:
    """Open the row's action menu with the mouse; its list of forms."""
    button = item.locator(".kaleo-menu-button")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    listed = item.locator(".kaleo-menu-list")
    expect(listed).to_be_visible()
    return listed
