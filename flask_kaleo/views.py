"""The ``kaleo`` blueprint: the invite endpoint (JSON, the seed's AJAX contract) and
the accept link."""

from __future__ import annotations

import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import get_template_attribute
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as BaseResponse

from . import lifecycle
from .exceptions import ConfigurationError
from .exceptions import InvitationNotPending
from .exceptions import InvitationRefused
from .extension import get_kaleo
from .forms import InviteForm

ErrorList = dict[str, list[str]]
ViewResponse = BaseResponse | tuple[BaseResponse, int] | tuple[str, int]


def _template_folder() -> str:
    """The templates inside an installed wheel, or the top-level ``templates/`` of a
    source checkout (an editable install)."""
    here = Path(__file__).resolve().parent
    packaged = here / "templates"
    return str(packaged if packaged.is_dir() else here.parent / "templates")


blueprint = Blueprint(
    "kaleo",
    __name__,
    template_folder=_template_folder(),
    static_folder="static",
    static_url_path="/static",
)


def wants_json() -> bool:
    """AJAX and API callers get JSON; a browser posting the plain form gets HTML.

    The staff endpoints answer in JSON only."""
    if (request.endpoint or "").startswith("kaleo.staff_"):
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best != "text/html"


def error_response(errors: ErrorList, status: int = 200) -> tuple[Response, int]:
    """The contract's ERROR shape: ``errors`` is escaped HTML for the seed's ``.html()``,
    ``error_list`` the same messages by field."""
    items = "".join(
        f"<li>{escape(message)}</li>" for messages in errors.values() for message in messages
    )
    body = {
        "status": "ERROR",
        "errors": f'<ul class="errorlist">{items}</ul>',
        "error_list": errors,
    }
    return jsonify(body), status


def _back() -> BaseResponse:
    """Redirect a no-JavaScript form post back to the page it came from (same host only)."""
    referrer = request.referrer
    if referrer and urlsplit(referrer).netloc == request.host:
        return redirect(referrer, code=303)
    return redirect("/", code=303)


def refuse(errors: ErrorList, status: int = 200) -> ViewResponse:
    if wants_json():
        return error_response(errors, status)
    for messages in errors.values():
        for message in messages:
            flash(message, "error")
    return _back()


@blueprint.route("/invite", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def invite() -> ViewResponse:
    """Send an invitation from the signed-in user (DESIGN 4)."""
    if request.method != "POST":
        raise MethodNotAllowed(valid_methods=["POST"])
    kaleo = get_kaleo()
    user = kaleo.current_user()
    if user is None:
        return sign_in_required("Please sign in to send invitations.")

    form = InviteForm()
    if not form.validate():
        if "csrf_token" in form.errors:
            return refuse({"__all__": [CSRF_MESSAGE]}, 400)
        return refuse({name: list(messages) for name, messages in form.errors.items()})
    try:
        invitation = kaleo.invite(user, form.email_address.data, form.cleaned_message)
    except InvitationRefused as error:
        return refuse({error.field: [str(error)]})

    return done(invitation, f"Invitation sent to {invitation.email}.")


def done(invitation: t.Any, message: str) -> ViewResponse:
    """The OK answer about ``invitation``: the contract's JSON, or a flash and a redirect
    back for a browser."""
    if not wants_json():
        flash(message, "success")
        return _back()
    kaleo = get_kaleo()
    remaining = kaleo.invitations_remaining(kaleo.current_user())
    item = get_template_attribute("kaleo/macros.html", "invitation_item")
    return jsonify(
        status="OK",
        email=invitation.email,
        invitations_remaining=remaining,
        invitation={
            "id": invitation.id,
            "email": invitation.email,
            "status": invitation.display_status,
            "sent_at": invitation.sent_at.isoformat(),
            "expires_at": invitation.expires_at.isoformat(),
        },
        html=str(item(invitation)),
        # For a list rendered with invites_sent(user, actions=True).
        html_with_actions=str(item(invitation, actions=True)),
    )


def sign_in_required(message: str) -> ViewResponse:
    """401 in the ERROR shape for JSON callers; a browser goes to the login page."""
    login_manager = getattr(current_app, "login_manager", None)
    if not wants_json() and login_manager is not None:
        return t.cast(BaseResponse, login_manager.unauthorized())
    return error_response({"__all__": [message]}, 401)


CSRF_MESSAGE = "The form has expired or was not sent from this site. Reload the page and try again."


@blueprint.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> t.Any:
    # CSRFProtect checks PUT/PATCH/DELETE before the view can say 405.
    allowed = _METHODS.get(request.endpoint or "", ["POST"])
    if request.method not in allowed:
        return method_not_allowed(MethodNotAllowed(valid_methods=allowed))
    return refuse({"__all__": [CSRF_MESSAGE]}, 400)


_METHODS = {"kaleo.accept": ["GET"], "kaleo.staff_stat": ["GET"]}
"""The kaleo endpoints that take something other than POST only."""


@blueprint.errorhandler(MethodNotAllowed)
def method_not_allowed(error: MethodNotAllowed) -> t.Any:
    if not wants_json():
        return error
    allowed = ", ".join(error.valid_methods or ["POST"])
    response, status = error_response({"__all__": [f"Use {allowed} here."]}, 405)
    response.headers["Allow"] = allowed
    return response, status


@blueprint.errorhandler(InternalServerError)
def server_error(error: InternalServerError) -> t.Any:
    """An unexpected failure (logged by Flask): still the ERROR shape for JSON callers."""
    if not wants_json():
        return error
    message = "Something went wrong on our side, and nothing was sent. Please try again later."
    return error_response({"__all__": [message]}, 500)


@blueprint.route("/accept/<token>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def accept(token: str) -> ViewResponse:
    """Remember a valid invitation in the session and send the visitor to sign up.

    Never consumes the invitation (mail scanners follow links); signup does. Other
    methods are routed here too, so that they get the JSON 405 when JSON is asked for.
    """
    if request.method != "GET":
        raise MethodNotAllowed(valid_methods=["GET"])
    kaleo = get_kaleo()
    plausible = len(token) <= 128
    invitation = kaleo.find_invitation(token) if plausible else None
    if invitation is None:
        if plausible and lifecycle.was_replaced(kaleo, token):
            page = render_template(
                "kaleo/accept_invalid.html", state="replaced", reason=_REPLACED_MESSAGE
            )
            return _private(page, 410)
        return _private(render_template("kaleo/accept_unknown.html"), 404)
    try:
        kaleo.check_pending(invitation)
    except InvitationNotPending as error:
        page = render_template(
            "kaleo/accept_invalid.html", state=invitation.display_status, reason=str(error)
        )
        return _private(page, 410)
    kaleo.remember(invitation)
    return _keep_token_private(redirect(signup_url(), code=303))


_REPLACED_MESSAGE = (
    "This invitation was sent again with a new link, so this one no longer works."
    " Use the link in the most recent invitation email."
)


def _private(page: str, status: int) -> tuple[BaseResponse, int]:
    return _keep_token_private(current_app.make_response(page)), status


def _keep_token_private(response: BaseResponse) -> BaseResponse:
    """A response to a URL holding a token: never cached, and the token never leaks as
    a Referer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def signup_url() -> str:
    """``KALEO_SIGNUP_URL`` as a URL: a path as it is, an endpoint name through url_for."""
    target: str = current_app.config["KALEO_SIGNUP_URL"]
    if "/" in target:
        return target
    try:
        return url_for(target)
    except BuildError:
        raise ConfigurationError(
            f"KALEO_SIGNUP_URL is {target!r}, which is neither a path (starting with '/')"
            " nor an endpoint of this app: name the signup view's endpoint, or its path"
        ) from None
