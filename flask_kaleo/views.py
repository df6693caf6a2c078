"""The member's endpoints: invite (kaleo's AJAX contract), accept, resend and revoke.

Each is declared with :func:`~flask_kaleo.web.endpoint` and registered on the blueprint
by :mod:`flask_kaleo.blueprint`.
"""

from __future__ import annotations

import typing as t

from flask import current_app
from flask import get_template_attribute
from flask import redirect
from flask import render_template
from flask import request
from werkzeug.wrappers import Response as BaseResponse

from .accepting import check_pending
from .accepting import remember
from .exceptions import InvitationNotPending
from .expiry import NEVER
from .i18n import N_
from .i18n import gettext
from .links_form import expiry_field
from .links_form import link_message
from .links_form import link_requested
from .models import JoinInvitationMixin
from .pages import login_url
from .pages import page_url
from .state import get_kaleo
from .tokens import MAX_TOKEN_LENGTH
from .web import Refusal
from .web import ViewResponse
from .web import endpoint
from .web import fields
from .web import signed_in_user
from .web import succeed

NOT_FOUND = N_("There is no such invitation among those you sent.")
REPLACED_MESSAGE = N_(
    "This invitation was sent again with a new link, so this one no longer works."
    " Use the link in the most recent invitation email."
)


@endpoint(sign_in=N_("Please sign in to send invitations."))
def invite() -> ViewResponse:
    """Send an invitation from the signed-in user (the address and message are checked
    once, by :meth:`Kaleo.invite <flask_kaleo.Kaleo.invite>`)."""
    data = fields()
    send = link_requested(data)
    invitation = get_kaleo().invite(
        signed_in_user(),
        data.get("email_address", ""),
        data.get("message"),
        send=send,
        expires_in=expiry_field(data, "expires_in_days"),
    )
    actions = request.headers.get("X-Kaleo-Actions") == "1"
    if not send:
        return _answer(invitation, link_message(invitation), actions=actions)
    message = gettext("Invitation sent to %(email)s.", email=invitation.email)
    return _answer(invitation, message, actions=actions)


@endpoint(sign_in=N_("Please sign in to manage your invitations."))
def resend(invitation_id: str) -> ViewResponse:
    """Email one of your pending invitations again, under a new link."""
    invitation = _own_invitation(invitation_id)
    get_kaleo().resend(invitation)
    message = gettext("Invitation sent again to %(email)s.", email=invitation.email)
    return _answer(invitation, message, actions=True)


@endpoint(sign_in=N_("Please sign in to manage your invitations."))
def revoke(invitation_id: str) -> ViewResponse:
    """Withdraw one of your unaccepted invitations; it goes back to your allocation."""
    invitation = _own_invitation(invitation_id)
    get_kaleo().revoke(invitation)
    message = gettext("Invitation to %(email)s revoked.", email=invitation.email)
    return _answer(invitation, message, actions=True)


@endpoint(sign_in="Please sign in to manage your invitations.")
def extend(invitation_id: str) -> ViewResponse:
    """Move the expiry of one of your unanswered invitations by ``days`` (or to
    ``never``, for staff), keeping its link."""
    invitation = _own_invitation(invitation_id)
    wanted = expiry_field(fields(), "days")
    if wanted is None:
        raise Refusal("Say how many days to extend the invitation by.", 400, "days")
    if wanted == NEVER:
        get_kaleo().extend(invitation, to=NEVER)
    else:
        get_kaleo().extend(invitation, by=wanted)
    return _answer(invitation, f"Invitation to {invitation.email} extended.", actions=True)


def _own_invitation(invitation_id: str) -> JoinInvitationMixin:
    """The signed-in user's invitation; someone else's is as unknown as a missing one."""
    kaleo = get_kaleo()
    invitation = None
    if invitation_id.isascii() and invitation_id.isdigit() and len(invitation_id) < 19:
        invitation = kaleo.store.invitation(int(invitation_id))
    if invitation is None or invitation.from_user_id != kaleo.store.user_id(signed_in_user()):
        raise Refusal(gettext(NOT_FOUND), 404, code="no_such_invitation")
    return invitation


def _answer(invitation: JoinInvitationMixin, message: str, *, actions: bool) -> ViewResponse:
    """The OK answer about ``invitation``, with its list item rendered once."""
    remaining = invitation.inviter_remaining
    if remaining is None:
        remaining = get_kaleo().invitations_remaining(signed_in_user())
    item = get_template_attribute("kaleo/macros.html", "invitation_item")
    return succeed(
        message,
        {
            "email": invitation.email,
            "invitations_remaining": remaining,
            "invitation": {
                "id": invitation.id,
                "email": invitation.email,
                "status": invitation.display_status,
                "sent_at": invitation.sent_at.isoformat(),
                "expires_at": None
                if invitation.expires_at is None
                else invitation.expires_at.isoformat(),
            },
            "html": str(item(invitation, actions=actions)),
            **({"link": invitation.accept_url} if invitation.accept_url else {}),
        },
    )


@endpoint(methods=("GET",), csrf=False)
def accept(token: str) -> ViewResponse:
    """Remember a valid invitation in the session and send the visitor to sign up.

    Never consumes the invitation (mail scanners follow links); signup does.
    """
    kaleo = get_kaleo()
    plausible = len(token) <= MAX_TOKEN_LENGTH
    invitation = kaleo.store.invitation_by_token(token) if plausible else None
    if invitation is not None and invitation.to_member:
        invitation = None  # never mailed, never acceptable: as unknown as a wrong token
    if invitation is None:
        if plausible and kaleo.store.was_replaced(token):
            page = render_template(
                "kaleo/accept_invalid.html",
                state="replaced",
                reason=gettext(REPLACED_MESSAGE),
                login_url=login_url(),
            )
            return _private(page, 410)
        return _private(render_template("kaleo/accept_unknown.html"), 404)
    try:
        check_pending(invitation)
    except InvitationNotPending as error:
        page = render_template(
            "kaleo/accept_invalid.html",
            state=invitation.display_status,
            reason=str(error),
            login_url=login_url(),
        )
        return _private(page, 410)
    remember(invitation)
    return _keep_token_private(redirect(signup_url(), code=303))


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
    return t.cast(str, page_url("KALEO_SIGNUP_URL"))
