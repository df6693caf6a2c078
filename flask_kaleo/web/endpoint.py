"""The web layer every kaleo endpoint shares.

An endpoint declares what it needs with :func:`endpoint`: its methods, whether it needs
a signed-in user and a CSRF token, and whether it answers JSON only. The declaration
answers 405 (with ``Allow``), 401 and 400 before the view runs, and tells the error
handlers how to answer: JSON callers always get the ERROR shape (whatever went wrong:
a malformed or oversized body, an unexpected error), browsers a page or a flash.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing as t
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import g
from flask import jsonify
from flask import redirect
from flask import request
from flask_wtf.csrf import CSRFError
from flask_wtf.csrf import validate_csrf
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import SecurityError
from werkzeug.wrappers import Response as BaseResponse
from wtforms.validators import ValidationError

from ..config import is_whole_number
from ..exceptions import InvitationNotPending
from ..exceptions import InvitationRefused
from ..i18n import N_
from ..i18n import gettext
from ..state import get_kaleo
from .pages import error_headers
from .pages import error_page

ErrorList = dict[str, list[str]]
CodeList = dict[str, list[str]]
"""The refusals' machine codes, by field, in the order of their messages."""
ViewResponse = BaseResponse | tuple[BaseResponse, int] | tuple[str, int]
V = t.TypeVar("V", bound=t.Callable[..., ViewResponse])

ROUTED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
"""Every endpoint is routed for all of these, so that a wrong method reaches the
declaration and gets its 405 in the shape the caller asked for."""

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


def endpoint(
    *,
    methods: tuple[str, ...] = ("POST",),
    sign_in: str | None = None,
    csrf: bool = True,
    json_only: bool = False,
) -> t.Callable[[V], V]:
    """Declare a view's methods, sign-in and CSRF needs, and whether it answers JSON
    only. The checks run before the view; a :class:`Refusal` it raises is answered, and
    so is a refused invitation or one no longer pending (200, as kaleo's contract says).
    The session's transaction ends before the answer leaves (see
    ``Store.finish``)."""
    declaration = Declaration(methods, sign_in, csrf, json_only)

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def checked(**kwargs: t.Any) -> ViewResponse:
            try:
                response = _answer(declaration, view, kwargs)
            except BaseException:
                get_kaleo().store.finish(commit=False)
                raise
            get_kaleo().store.finish(commit=True)
            return response

        checked.kaleo_declaration = declaration  # type: ignore[attr-defined]
        return t.cast(V, checked)

    return decorate


def _answer(declaration: Declaration, view: V, kwargs: dict[str, t.Any]) -> ViewResponse:
    """The view's answer, or its refusal's, once the declared checks pass."""
    allowed = declaration.methods + (("HEAD",) if "GET" in declaration.methods else ())
    if request.method not in allowed:
        raise MethodNotAllowed(valid_methods=list(declaration.methods))
    try:
        if declaration.sign_in is not None and signed_in_user() is None:
            return sign_in_required(declaration.sign_in)
        if declaration.csrf:
            check_csrf()
        return view(**kwargs)
    except Refusal as refusal:
        return refuse(refusal.errors, refusal.status, refusal.codes, refusal.fragment)
    except (InvitationRefused, InvitationNotPending) as error:
        return refuse({error.field: [str(error)]}, codes={error.field: [error.code]})


def _declaration() -> Declaration | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "kaleo_declaration", None)


def signed_in_user() -> t.Any:
    """The signed-in user, asked of the app's hook once per request."""
    return _once_per_request("kaleo.user", get_kaleo().hooks.current_user)


def wants_json() -> bool:
    """AJAX and API callers get JSON; a browser posting a plain form gets HTML."""
    declaration = _declaration()
    if declaration is not None and declaration.json_only:
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best != "text/html"


def fields() -> MultiDict[str, str]:
    """The request's fields, as text: a form body, or a JSON object of strings (and
    whole numbers). Any other body is a :class:`Refusal`, never a crash."""
    return t.cast(MultiDict[str, str], _once_per_request("kaleo.fields", _read_fields))


def _once_per_request(key: str, compute: t.Callable[[], t.Any]) -> t.Any:
    """``compute()``, kept in the request's environ: ``g`` lives as long as the app
    context, which may span several requests (a test client inside ``app_context()``)."""
    if key not in request.environ:
        request.environ[key] = compute()
    return request.environ[key]


def _read_fields() -> MultiDict[str, str]:
    if not request.is_json:
        return request.form
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        message = gettext("The request body is not valid JSON.")
        raise Refusal(message, 400, code="invalid_json") from None
    if not isinstance(body, dict):
        raise Refusal(gettext("Send the fields as one JSON object."), 400, code="invalid_json")
    items: list[tuple[str, str]] = []
    for name, value in body.items():
        if is_whole_number(value):
            value = str(value)
        if not isinstance(value, str):
            message = gettext("The field %(name)s must be a string.", name=repr(name))
            raise Refusal(message, 400, code="invalid_json")
        items.append((name, value))
    return MultiDict(items)


def check_csrf() -> None:
    """The CSRF token of a form field or header, unless CSRFProtect checked it already."""
    config = current_app.config
    if not config.get("WTF_CSRF_ENABLED", True) or g.get("csrf_valid", False):
        return
    token = fields().get(config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    for header in config.get("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"]):
        token = token or request.headers.get(header)
    try:
        validate_csrf(token)
    except ValidationError:
        raise Refusal(gettext(CSRF_MESSAGE), 400, code="csrf") from None


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


def succeed(message: str, body: dict[str, t.Any], fragment: str = "") -> ViewResponse:
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
    declaration = _declaration()
    if declaration is not None and request.method not in declaration.methods:
        return _http_error(MethodNotAllowed(valid_methods=list(declaration.methods)))
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
