"""The staff console's frame: the guard every console view is declared with, its pages
on ``kaleo/staff/layout.html``, and how a form's post is answered.

Every console page is behind the manage permission: a visitor who is not signed in
gets a 401 page (with a link to log in, when the site has one), a member a 403 page.
A post also needs the CSRF token (400 without it), and is answered with a flash and a
303 to a page (Post/Redirect/Get), so reloading never posts twice. Pages only: the
console never answers JSON.
"""

from __future__ import annotations

import functools
import json
import typing as t

from flask import flash
from flask import get_flashed_messages
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.globals import request_ctx
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from ..i18n import N_
from ..i18n import gettext
from ..state import get_kaleo
from .answers import Refusal
from .answers import ViewResponse
from .endpoint import check_csrf
from .endpoint import endpoint
from .endpoint import signed_in_user
from .pages import ERROR_TITLES
from .pages import login_url

V = t.TypeVar("V", bound=t.Callable[..., ViewResponse])
Section = t.Literal["overview", "members", "invitations", "accountability", "audit"]

LAYOUT = "kaleo/staff/layout.html"
REFUSALS = {
    400: N_("The request could not be understood."),
    401: N_("Please log in to see the staff console."),
    403: N_("The staff console is for the site's staff only."),
    404: N_("There is nothing here."),
}


ACTION_LABELS = {
    # TRANSLATORS: the staff actions the audit log records.
    "set_allocation": N_("allocation set"),
    "grant": N_("invitations granted"),
    "suspend": N_("inviting suspended"),
    "resume": N_("inviting resumed"),
    "revoke": N_("invitation revoked"),
    "resend": N_("invitation resent"),
    "extend": N_("invitation extended"),
    "revoke_link": N_("link revoked"),
}
LINK_STATE_LABELS = {
    "active": N_("active"),
    "used": N_("used up"),
    "expired": N_("expired"),
    "revoked": N_("revoked"),
}


class ConsoleRefusal(Exception):
    """A console request answered with a page of this status (a bad id or cursor)."""

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def console_view(methods: tuple[str, ...] = ("GET",)) -> t.Callable[[V], V]:
    """Declare a console view: only staff reach it, and its posts need the CSRF token
    (CSRFProtect checks it first when the app uses it)."""
    declare = endpoint(methods=methods, csrf=False, html_only=True)

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def guarded(**kwargs: object) -> ViewResponse:
            user = signed_in_user()
            if not get_kaleo().hooks.has_manage_permission(t.cast(t.Any, user)):
                return refusal_page(403 if user is not None else 401)
            if request.method == "POST":
                try:
                    check_csrf()
                except Refusal as refusal:
                    raise BadRequest(str(refusal)) from None
            try:
                return view(**kwargs)
            except ConsoleRefusal as refusal:
                return refusal_page(refusal.status, refusal.message)

        return declare(t.cast(V, guarded))

    return decorate


def refusal_page(status: int, message: str | None = None) -> tuple[str, int]:
    """A refusal as a console page: its title, why, and for 401 the log-in link."""
    title = gettext(ERROR_TITLES[status])
    text = message or gettext(REFUSALS[status])
    link = login_url() if status == 401 else None
    staff = status not in (401, 403)
    page = render_template(
        LAYOUT,
        refusal={"status": status, "title": title, "text": text, "login_url": link},
        console_section=None,
        console_nav=staff,
        console_messages=unread_flashes,
    )
    return page, status


def render_console(template: str, section: Section | None, **context: object) -> str:
    """A console page on the layout, with ``section`` marked current in its nav."""
    return render_template(
        template,
        console_section=section,
        console_nav=True,
        console_messages=unread_flashes,
        console_action_label=action_label,
        console_audit_detail=audit_detail,
        console_link_state=link_state,
        **context,
    )


def action_label(action: str) -> str:
    """An audit entry's action, for people (an unknown one as it is stored)."""
    label = ACTION_LABELS.get(action)
    return action if label is None else gettext(label)


def link_state(state: str) -> str:
    """A shareable link's ``display_status``, for people."""
    label = LINK_STATE_LABELS.get(state)
    return state if label is None else gettext(label)


def audit_detail(entry: t.Any) -> str:
    """An audit entry's ``detail`` (what changed, as JSON) as ``name: value`` pairs,
    leaving out what is empty or off."""
    try:
        detail = json.loads(entry.detail) if entry.detail else {}
    except ValueError:
        return str(entry.detail)
    if not isinstance(detail, dict):
        return str(detail)
    shown = [(name, value) for name, value in detail.items() if value not in (None, "")]
    return ", ".join(_pair(name, value) for name, value in shown if value is not False)


def _pair(name: str, value: object) -> str:
    """One changed value of an audit entry: ``name: value``, or the name alone for a
    flag that is on."""
    name = name.replace("_", " ")
    return name if value is True else f"{name}: {value}"


def unread_flashes() -> list[tuple[str, str]]:
    """The flashed messages, unless the site's layout (around kaleo/base.html) showed
    them already in this request: each message is shown once."""
    if request_ctx.flashes is not None:
        return []
    return t.cast(list[tuple[str, str]], get_flashed_messages(with_categories=True))


def staff_member() -> t.Any:
    """The signed-in staff member (a console view runs only for one)."""
    return signed_in_user()


def done(message: str, to: str, **values: t.Any) -> Response:
    """A post's success: flashed, and a 303 to the page ``to`` (an endpoint) names."""
    flash(message, "success")
    return redirect(url_for(to, **values), code=303)


def refused(message: str, to: str, **values: t.Any) -> Response:
    """A post refused for its input: the reason flashed, a 303 back to the form's page."""
    flash(message, "error")
    return redirect(url_for(to, **values), code=303)


def whole_number(value: str | None, low: int, high: int) -> int | None:
    """``value`` as a whole number from ``low`` to ``high``, or None."""
    text = (value or "").strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 12:
        return None
    number = int(text)
    return number if low <= number <= high else None


def member_by_id(user_id: str) -> t.Any:
    """The member whose primary key the URL names; anything else is a 404 page."""
    found = None if "@" in user_id else get_kaleo().hooks.member(user_id, or_id=True)
    if found is None:
        raise ConsoleRefusal(404, gettext("There is no member with this id."))
    return found
