"""The declaration every kaleo endpoint makes.

An endpoint declares what it needs with :func:`endpoint`: its methods, whether it needs
a signed-in user and a CSRF token, and whether it answers JSON only. The declaration
answers 405 (with ``Allow``), 401 and 400 before the view runs, and tells the error
handlers of :mod:`~flask_kaleo.web.answers` how to answer.
"""

from __future__ import annotations

import functools
import json
import typing as t

from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed
from wtforms.validators import ValidationError

from ..config import is_whole_number
from ..exceptions import InvitationNotPending
from ..exceptions import InvitationRefused
from ..i18n import gettext
from ..models import InvitationLinkMixin
from ..models import JoinInvitationMixin
from ..state import get_kaleo
from .answers import CSRF_MESSAGE
from .answers import Declaration
from .answers import Refusal
from .answers import ViewResponse
from .answers import refuse
from .answers import sign_in_required

V = t.TypeVar("V", bound=t.Callable[..., ViewResponse])
T = t.TypeVar("T")
M = t.TypeVar("M", JoinInvitationMixin, InvitationLinkMixin)

ROUTED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
"""Every endpoint is routed for all of these, so that a wrong method reaches the
declaration and gets its 405 in the shape the caller asked for."""


def endpoint(
    *,
    methods: tuple[str, ...] = ("POST",),
    sign_in: str | None = None,
    csrf: bool = True,
    json_only: bool = False,
    html_only: bool = False,
) -> t.Callable[[V], V]:
    """Declare a view's methods, sign-in and CSRF needs, and whether it answers JSON
    only (or, ``html_only``, pages only). The checks run before the view; a
    :class:`Refusal` it raises is answered, and so is a refused invitation or one no
    longer pending (200, as kaleo's contract says). The session's transaction ends
    before the answer leaves (see ``Store.finish``)."""
    declaration = Declaration(methods, sign_in, csrf, json_only, html_only)

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def checked(**kwargs: object) -> ViewResponse:
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


def _answer(declaration: Declaration, view: V, kwargs: dict[str, object]) -> ViewResponse:
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


def signed_in_user() -> object:
    """The signed-in user, asked of the app's hook once per request."""
    return _once_per_request("kaleo.user", get_kaleo().hooks.current_user)


def signed_in_id() -> str | None:
    """Who is signed in at this browser, as text, or None (outside a request too): the
    owner of what the session keeps for the next page, which is shown to them only."""
    user = signed_in_user() if has_request_context() else None
    return None if user is None else str(get_kaleo().hooks.user_id(user))


def owned(model: type[M], item_id: str, max_digits: int, not_found: str, code: str) -> M:
    """The signed-in user's own invitation or link (``model``) that the URL's
    ``item_id`` names; a missing one, someone else's or an id of more than
    ``max_digits`` digits is the same 404 :class:`Refusal` (``not_found``, ``code``)."""
    kaleo = get_kaleo()
    found = None
    if item_id.isascii() and item_id.isdigit() and len(item_id) <= max_digits:
        found = kaleo.get(model, int(item_id), sent_by=signed_in_user())
    if found is None:
        raise Refusal(gettext(not_found), 404, code=code)
    return found


def fields() -> MultiDict[str, str]:
    """The request's fields, as text: a form body, or a JSON object of strings (and
    whole numbers). Any other body is a :class:`Refusal`, never a crash."""
    return _once_per_request("kaleo.fields", _read_fields)


def _once_per_request(key: str, compute: t.Callable[[], T]) -> T:
    """``compute()``, kept in the request's environ: ``g`` lives as long as the app
    context, which may span several requests (a test client inside ``app_context()``)."""
    if key not in request.environ:
        request.environ[key] = compute()
    return t.cast(T, request.environ[key])


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
