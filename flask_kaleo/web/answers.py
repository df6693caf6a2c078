"""How kaleo's endpoints answer: the ERROR shape for JSON callers (whatever went wrong:
a refusal, a malformed or oversized body, an unexpected error), the OK shape, and for
browsers a flash and a redirect back, or a kaleo error page."""

from __future__ import annotations

import dataclasses
import typing as t
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import SecurityError
from werkzeug.wrappers import Response as BaseResponse

from ..i18n import N_
from ..i18n import gettext
from .pages import error_headers
from .pages import error_page

ErrorList = dict[str, list[str]]
CodeList = dict[str, list[str]]
"""The refusals' machine codes, by field, in the order of their messages."""
ViewResponse = BaseResponse | tuple[BaseResponse, int] | tuple[str, int]

CSRF_MESSAGE = N_(
    "The form has expired or was not sent from this site. Reload the page and try again."
)
SERVER_ERROR_MESSAGE = N_(
    "Something went wrong on our side, and nothing was sent. Please try again later."
)
_HTTP_MESSAGES = {
    400: N_("The request could not be understood."),
    404: N_("There is nothing here."),
    413: N_("The request is too large."),
    500: SERVER_ERROR_MESSAGE,
}
STATUS_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    410: "gone",
    413: "too_large",
    500: "server_error",
}
"""The machine code of a refusal that names none, by HTTP status (``refused`` for any
other)."""


def status_code(status: int) -> str:
    return STATUS_CODES.get(status, "server_error" if status >= 500 else "refused")


@dataclasses.dataclass(frozen=True)
class Declaration:
    methods: tuple[str, ...]
    sign_in: str | None
    """The message for a caller who is not signed in; None: no sign-in needed."""
    csrf: bool
    json_only: bool
    html_only: bool = False
    """A page for people (the staff console): refusals are pages with their status,
    never JSON, whatever the caller accepts."""


class Refusal(Exception):
    """A request answered with the ERROR shape (or a flash, for a browser)."""

    def __init__(
        self,
        message: str,
        status: int = 200,
        field: str = "__all__",
        code: str | None = None,
        fragment: str = "",
    ) -> None:
        super().__init__(message)
        self.errors: ErrorList = {field: [message]}
        self.codes: CodeList = {field: [code or status_code(status)]}
        self.status = status
        self.fragment = fragment
        """Where on the page a browser without JavaScript goes back to (``#row``)."""


def current_declaration() -> Declaration | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "kaleo_declaration", None)


def wants_json() -> bool:
    """AJAX and API callers get JSON; a browser posting a plain form gets HTML."""
    declaration = current_declaration()
    if declaration is not None and declaration.html_only:
        return False
    if declaration is not None and declaration.json_only:
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best != "text/html"


def error_response(
    errors: ErrorList, status: int = 200, codes: CodeList | None = None
) -> tuple[Response, int]:
    """The ERROR shape: ``errors`` is escaped HTML for jQuery's ``.html()``,
    ``error_list`` the same messages by field, ``error_codes`` their machine codes by
    field and ``code`` the first of them (the codes default to the status's)."""
    items = "".join(
        f"<li>{escape(message)}</li>" for messages in errors.values() for message in messages
    )
    if codes is None:
        codes = {field: [status_code(status)] * len(messages) for field, messages in errors.items()}
    first = next((code for field_codes in codes.values() for code in field_codes), None)
    body = {
        "status": "ERROR",
        "errors": f'<ul class="errorlist">{items}</ul>',
        "error_list": errors,
        "code": first or status_code(status),
        "error_codes": codes,
    }
    return jsonify(body), status


def back(fragment: str = "") -> BaseResponse:
    """Redirect a no-JavaScript form post back to the page it came from (same host only):
    the posted ``next`` field (a page that posts on the user's behalf, such as the
    Revoke confirmation, names it) or the Referer; ``fragment`` names a place on it."""
    for target in (request.form.get("next"), request.referrer):
        if target and same_site(target):
            return redirect(target.split("#")[0] + fragment, code=303)
    return redirect("/" + fragment, code=303)


def same_site(url: str) -> bool:
    """Whether ``url`` stays on this host: an absolute URL to it, or a local path (and
    nothing a ``Location`` header cannot carry, such as a line break)."""
    if not url.isprintable():
        return False
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return parts.scheme in ("http", "https") and parts.netloc == request.host
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


def refuse(
    errors: ErrorList, status: int = 200, codes: CodeList | None = None, fragment: str = ""
) -> ViewResponse:
    """The ERROR shape for JSON callers; a flash and a redirect back for a browser."""
    if wants_json():
        return error_response(errors, status, codes)
    for messages in errors.values():
        for message in messages:
            flash(message, "error")
    return back(fragment)


def succeed(message: str, body: dict[str, object], fragment: str = "") -> ViewResponse:
    """``{"status": "OK", "message": ..., **body}`` for JSON callers; a flash and a
    redirect back for a browser."""
    if not wants_json():
        flash(message, "success")
        return back(fragment)
    return jsonify({"status": "OK", "message": message, **body})


def sign_in_required(message: str) -> ViewResponse:
    """401 in the ERROR shape for JSON callers; a browser goes to the login page."""
    login_manager = getattr(current_app, "login_manager", None)
    if not wants_json() and login_manager is not None:
        return t.cast(BaseResponse, login_manager.unauthorized())
    return error_response({"__all__": [gettext(message)]}, 401, {"__all__": ["not_signed_in"]})


def _csrf_failed(error: CSRFError) -> ViewResponse | HTTPException:
    """CSRFProtect checks PUT/PATCH/DELETE before the view can say 405: say it here."""
    declaration = current_declaration()
    if declaration is not None and request.method not in declaration.methods:
        return _http_error(MethodNotAllowed(valid_methods=list(declaration.methods)))
    if declaration is not None and declaration.html_only:
        return _http_error(BadRequest(gettext(CSRF_MESSAGE)))
    return refuse({"__all__": [gettext(CSRF_MESSAGE)]}, 400, {"__all__": ["csrf"]})


def _http_error(error: HTTPException) -> ViewResponse | HTTPException:
    """Any HTTP error, 500 included, as the ERROR shape for a JSON caller; for a
    browser, a kaleo page on ``kaleo/base.html`` (a server error stays the app's)."""
    if not wants_json():
        if (error.code or 500) >= 500:
            return error
        page, status = error_page(error)
        return current_app.response_class(page, status, headers=error_headers(error))
    status = error.code or 500
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(error.valid_methods or ["POST"])
        message = gettext("Use %(methods)s here.", methods=allowed)
        response, status = error_response({"__all__": [message]}, 405)
        response.headers["Allow"] = allowed
        return response, status
    message = _HTTP_MESSAGES.get(status, _HTTP_MESSAGES[400 if status < 500 else 500])
    return error_response({"__all__": [gettext(message)]}, status)


def _untrusted_host(error: SecurityError) -> ViewResponse | HTTPException:
    """A Host outside Flask's ``TRUSTED_HOSTS`` is refused before routing, so the
    blueprint's handlers never see it: answer it here for kaleo's endpoints (in the
    ERROR shape for a JSON caller), and leave any other page's answer as it was."""
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(request.path)
    except HTTPException:
        return error
    if not hasattr(current_app.view_functions.get(endpoint), "kaleo_declaration"):
        return error
    return _http_error(error)


def register_error_handlers(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(CSRFError, _csrf_failed)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.app_errorhandler(SecurityError)(_untrusted_host)
