"""The shareable links' endpoints: create and revoke (members, with
``KALEO_ALLOW_LINKS``), and the join page the link itself opens (always)."""

from __future__ import annotations

import typing as t

from flask import get_template_attribute

from ..config import current_config
from ..exceptions import LinksNotAllowed
from ..i18n import N_
from ..i18n import gettext
from ..i18n import ngettext
from ..models import InvitationLinkMixin
from ..state import get_kaleo
from .answers import ViewResponse
from .answers import succeed
from .badge import badge_html
from .endpoint import endpoint
from .endpoint import fields
from .endpoint import owned
from .endpoint import signed_in_user
from .links_form import expiry_field
from .pages import go_sign_up
from .pages import not_pending_page
from .pages import unknown_token_page
from .session import keep_new_link
from .session import remember

LINK_NOT_FOUND = N_("There is no such link among those you created.")
NEW_LINK_FRAGMENT = "#kaleo-new-link"
"""Where a browser lands after creating a link: the panel that shows it to copy."""
LINKS_OFF = N_("Shareable links are not enabled on this site.")


def _allowed() -> None:
    if not current_config().allow_links:
        raise LinksNotAllowed(gettext(LINKS_OFF))


def _uses_field(value: str) -> int:
    """The form's number of people; 0 (refused by create_link, with the message) when
    it is not a whole number."""
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0


@endpoint(sign_in=N_("Please sign in to create links."))
def create_link() -> ViewResponse:
    """Create a shareable link for ``uses`` people (optional ``expires_in`` and ``domain``).
    The answer holds its URL; the member's session keeps it too, so the page shows it
    (``new_link``) while it is their newest link and still active."""
    _allowed()
    data = fields()
    uses = _uses_field(data.get("uses", ""))
    user = signed_in_user()
    link = get_kaleo().create_link(
        user,
        uses,
        expires_in=expiry_field(data, "expires_in"),
        domain=data.get("domain"),
    )
    keep_new_link(link, user)
    message = ngettext(
        "Link created for %(num)d person.", "Link created for %(num)d people.", link.max_uses
    )
    return _answer(link, message, fragment=NEW_LINK_FRAGMENT)


@endpoint(sign_in=N_("Please sign in to manage your links."))
def revoke_link(link_id: str) -> ViewResponse:
    """Withdraw one of your links; its unused uses go back to your allocation."""
    link = _own_link(link_id)
    get_kaleo().revoke(link)
    message = ngettext(
        "Link withdrawn; %(num)d unused invitation given back.",
        "Link withdrawn; %(num)d unused invitations given back.",
        link.given_back or 0,
    )
    return _answer(link, message)


def _own_link(link_id: str) -> InvitationLinkMixin:
    """The signed-in user's link; someone else's is as unknown as a missing one."""
    model = get_kaleo().InvitationLink
    return owned(model, link_id, 9, LINK_NOT_FOUND, "no_such_link")


def _answer(link: InvitationLinkMixin, message: str, fragment: str = "") -> ViewResponse:
    """The OK answer about ``link``; a browser without JavaScript goes back to the page
    (at ``fragment``), which shows the flashed ``message``."""
    remaining = link.inviter_remaining
    if remaining is None:
        remaining = get_kaleo().invitations_remaining(signed_in_user())
    item = get_template_attribute("kaleo/links.html", "link_item")
    body: dict[str, t.Any] = {
        "invitations_remaining": remaining,
        "invitations_badge": badge_html(remaining),
        "url": link.url,
        "link": {
            "id": link.id,
            "url": link.url,
            "uses": link.uses,
            "max_uses": link.max_uses,
            "domain": link.domain,
            "status": link.display_status,
            "expires_at": None if link.expires_at is None else link.expires_at.isoformat(),
        },
        "html": str(item(link, actions=True)),
    }
    return succeed(message, body, fragment)


@endpoint(methods=("GET",), csrf=False)
def join(token: str) -> ViewResponse:
    """Remember a usable link in the session and send the visitor to sign up. Never
    takes a use (link previews and scanners follow links); the signup does."""
    link = get_kaleo().link_by_token(token)
    if link is None:
        return unknown_token_page()
    if not link.is_pending:
        return not_pending_page(link.display_status, link.why_not_pending())
    remember(link)
    return go_sign_up()
