"""The staff JSON endpoints: top off or add to every allocation or one user's, and read
one user's figures. Guarded by the manage permission, which denies by default
(:meth:`Kaleo.manage_permission <flask_kaleo.Kaleo.manage_permission>`).

They always answer JSON: ``{"status": "OK", ...}`` or the contract's ERROR shape with
401 (not signed in), 403 (not allowed), 400 (bad CSRF token or bad input), 404
(unknown user) or 405 (wrong method).
"""

from __future__ import annotations

import re
import typing as t

from flask import Response
from flask import current_app
from flask import jsonify
from flask import request
from werkzeug.exceptions import MethodNotAllowed

from .extension import Kaleo
from .extension import get_kaleo
from .forms import ActionForm
from .views import CSRF_MESSAGE
from .views import blueprint
from .views import error_response

JSONResponse = Response | tuple[Response, int]
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")


class _Refused(Exception):
    """A request the staff endpoints answer with the ERROR shape."""

    def __init__(self, message: str, status: int, field: str = "__all__") -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def _staff(kaleo: Kaleo) -> t.Any:
    """The signed-in user, once the manage permission lets them in."""
    user = kaleo.current_user()
    if user is None:
        raise _Refused("Please sign in.", 401)
    if not kaleo.can_manage(user):
        raise _Refused("You are not allowed to manage invitations.", 403)
    return user


def _amount() -> int:
    """``amount``: a whole number from 0 to ``KALEO_MAX_BULK_AMOUNT``."""
    limit: int = current_app.config["KALEO_MAX_BULK_AMOUNT"]
    raw = (request.form.get("amount") or "").strip()
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) > limit:
        raise _Refused(f"amount must be a whole number from 0 to {limit}.", 400, "amount")
    return int(raw)


def _user(kaleo: Kaleo, value: str | None) -> t.Any:
    user = kaleo.lookup_user(value) if value else None
    if user is None:
        raise _Refused(f"There is no user with the email address or id {value!r}.", 404, "user")
    return user


def _figures(kaleo: Kaleo, user: t.Any) -> dict[str, t.Any]:
    """One user's allocation and invitations, in two queries."""
    stat = kaleo.stat_for(user)
    invitations = kaleo.stats(user)
    return {
        "id": kaleo.user_id(user),
        "email": kaleo.user_email(user),
        "allocated": stat.invites_allocated,
        "sent": stat.invites_sent,
        "accepted": stat.invites_accepted,
        "remaining": stat.invites_remaining,
        "pending": invitations.pending,
        "expired": invitations.expired,
    }


def _bulk(action: t.Literal["topoff", "add"]) -> JSONResponse:
    if request.method != "POST":
        raise MethodNotAllowed(valid_methods=["POST"])
    kaleo = get_kaleo()
    try:
        _staff(kaleo)
        if not ActionForm().validate():
            raise _Refused(CSRF_MESSAGE, 400)
        amount = _amount()
        target = request.form.get("user", "").strip()
        user = _user(kaleo, target) if target else None
    except _Refused as refusal:
        return error_response({refusal.field: [str(refusal)]}, refusal.status)
    if action == "topoff":
        changed = kaleo.topoff_invites(amount, user=user)
    else:
        changed = kaleo.add_invites(amount, everyone=True, user=user)
    body: dict[str, t.Any] = {
        "status": "OK",
        "action": action,
        "amount": amount,
        "users_changed": changed,
    }
    if user is not None:
        body["user"] = _figures(kaleo, user)
    return jsonify(body)


@blueprint.route("/staff/topoff", methods=ANY_METHOD)
def staff_topoff() -> JSONResponse:
    """Every user (or ``user``) ends with at least ``amount`` invitations left."""
    return _bulk("topoff")


@blueprint.route("/staff/add", methods=ANY_METHOD)
def staff_add() -> JSONResponse:
    """Add ``amount`` to every finite allocation (or to ``user``'s)."""
    return _bulk("add")


@blueprint.route("/staff/stat/<user>", methods=ANY_METHOD)
def staff_stat(user: str) -> JSONResponse:
    """One user's allocated, sent, accepted, remaining, pending and expired counts."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(valid_methods=["GET"])
    kaleo = get_kaleo()
    try:
        _staff(kaleo)
        target = _user(kaleo, user)
    except _Refused as refusal:
        return error_response({refusal.field: [str(refusal)]}, refusal.status)
    return jsonify({"status": "OK", **_figures(kaleo, target)})
