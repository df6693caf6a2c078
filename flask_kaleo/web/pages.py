"""The pages kaleo points people to (signup, log in, where a signed-in member goes),
the one-time check of their settings, what a URL holding a token answers, and kaleo's
own error pages."""

from __future__ import annotations

import importlib.util
import typing as t

from flask import Flask
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from ..config import PAGE_TARGETS
from ..config import config_of
from ..config import current_config
from ..exceptions import ConfigurationError
from ..i18n import N_
from ..i18n import gettext

ERROR_PAGE = "kaleo/error.html"
ERROR_TEXTS = {
    401: N_("Please log in to see this page."),
    403: N_("You are not allowed to do this."),
    404: N_("There is nothing here."),
    405: N_("This address takes a form, not a visit. Go back to the page with the form."),
    410: N_("This is no longer available."),
    413: N_("The request is too large."),
}
ERROR_TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    410: N_("Gone"),
    413: N_("Request Entity Too Large"),
}
"""The titles of kaleo's error pages (Werkzeug's names, translated)."""


def page_url(setting: str) -> str | None:
    """The URL a page setting names: a path as it is, an endpoint through url_for;
    None when the setting is None."""
    target = current_config().page_target(setting)
    if target is None or "/" in target:
        return target
    try:
        return url_for(target)
    except BuildError:
        raise _not_a_page(setting, target) from None


def _not_a_page(setting: str, target: str) -> ConfigurationError:
    return ConfigurationError(
        f"{setting} is {target!r}, which is neither a path (starting with '/') nor an"
        " endpoint of this app: name the view's endpoint, or its path"
    )


def login_url() -> str | None:
    """Where people log in: ``KALEO_LOGIN_URL``, else Flask-Login's ``login_view``."""
    url = page_url("KALEO_LOGIN_URL")
    if url is not None:
        return url
    manager = getattr(current_app, "login_manager", None)
    view = getattr(manager, "login_view", None)
    if not view or importlib.util.find_spec("flask_login") is None:
        return None
    from flask_login import login_url as flask_login_url

    try:
        return str(flask_login_url(view))
    except BuildError:
        return None


def check_page_targets(app: Flask) -> None:
    """Every page setting that names an endpoint names one of ``app``'s."""
    for setting in PAGE_TARGETS:
        target = config_of(app).page_target(setting)
        if target is not None and "/" not in target and target not in app.view_functions:
            raise _not_a_page(setting, target)


def check_page_targets_once(app: Flask) -> None:
    """Check the page settings when ``app`` serves its first request (its blueprints
    are all registered by then), so that a mistyped endpoint fails at once, naming the
    setting, rather than when an invitee first clicks. Until it passes, every request
    fails the same way."""
    checked = False

    def check() -> None:
        nonlocal checked
        if not checked:
            check_page_targets(app)
            checked = True

    app.before_request(check)


def error_page(error: HTTPException) -> tuple[str, int]:
    """``error`` as a kaleo page (``kaleo/error.html``, on ``kaleo/base.html``); a 401
    or 403 links to the log-in page when the site has one."""
    status = error.code or 500
    text = gettext(ERROR_TEXTS[status]) if status in ERROR_TEXTS else error.description or ""
    title = gettext(ERROR_TITLES[status]) if status in ERROR_TITLES else error.name
    page = render_template(
        ERROR_PAGE,
        status=status,
        title=title,
        text=text,
        login_url=login_url() if status in (401, 403) else None,
        kaleo_stylesheet_url=stylesheet_path(),
    )
    return page, status


def stylesheet_path() -> str:
    """The path of kaleo.css, built without the request's host: a request for a Host
    outside ``TRUSTED_HOSTS`` has no URL adapter (``url_for`` cannot build), and its
    400 page is styled all the same."""
    adapter = current_app.url_map.bind("localhost", script_name=request.script_root or "/")
    return adapter.build("kaleo.static", {"filename": "kaleo.css"})


def error_headers(error: HTTPException) -> t.Mapping[str, str]:
    """The headers an error page keeps (a 405's ``Allow``)."""
    return {k: v for k, v in error.get_headers() if k.lower() == "allow"}


# -- what an accept URL or a link's join URL answers ------------------------------------


def signup_url() -> str:
    """``KALEO_SIGNUP_URL`` as a URL: a path as it is, an endpoint name through url_for."""
    return t.cast(str, page_url("KALEO_SIGNUP_URL"))


def keep_token_private(response: Response) -> Response:
    """A response to a URL holding a token: never cached, and the token never leaks as
    a Referer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def go_sign_up() -> Response:
    """On to the signup page, once the session remembers what the token named."""
    return keep_token_private(redirect(signup_url(), code=303))


def unknown_token_page() -> tuple[Response, int]:
    """404: the token names nothing (and says nothing about any invitation)."""
    return _token_page(render_template("kaleo/accept_unknown.html"), 404)


def not_pending_page(state: str, reason: object) -> tuple[Response, int]:
    """410: what the token named can no longer be redeemed; the page says why
    (``reason``) and links to log in."""
    page = render_template(
        "kaleo/accept_invalid.html", state=state, reason=str(reason), login_url=login_url()
    )
    return _token_page(page, 410)


def _token_page(page: str, status: int) -> tuple[Response, int]:
    return keep_token_private(current_app.make_response(page)), status
