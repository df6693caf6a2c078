"""Resend and revoke: what an inviter may do with the invitations they sent.

Both are ``POST`` with the CSRF token, for the signed-in inviter's own invitations
only, and answer like the invite endpoint: the OK shape (with
``invitations_remaining``) or the ERROR shape as JSON, or a flash and a redirect back
for a browser posting the sent list's small forms.
"""

from __future__ import annotations

import typing as t

from flask import request
from werkzeug.exceptions import MethodNotAllowed

from .exceptions import InvitationNotPending
from .exceptions import InvitationRefused
from .extension import get_kaleo
from .forms import ActionForm
from .views import CSRF_MESSAGE
from .views import ViewResponse
from .views import blueprint
from .views import done
from .views import refuse
from .views import sign_in_required

ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]
NOT_FOUND = "There is no such invitation among those you sent."


@blueprint.route("/resend/<invitation_id>", methods=ANY_METHOD)
def resend(invitation_id: str) -> ViewResponse:
    """Email one of your pending invitations again, under a new link."""
    return _act(invitation_id, "resend")


@blueprint.route("/revoke/<invitation_id>", methods=ANY_METHOD)
def revoke(invitation_id: str) -> ViewResponse:
    """Withdraw one of your unaccepted invitations; it goes back to your allocation."""
    return _act(invitation_id, "revoke")


def _act(invitation_id: str, action: t.Literal["resend", "revoke"]) -> ViewResponse:
    if request.method != "POST":
        raise MethodNotAllowed(valid_methods=["POST"])
    kaleo = get_kaleo()
    user = kaleo.current_user()
    if user is None:
        return sign_in_required("Please sign in to manage your invitations.")
    if not ActionForm().validate():
        return refuse({"__all__": [CSRF_MESSAGE]}, 400)
    invitation = None
    if invitation_id.isascii() and invitation_id.isdigit() and len(invitation_id) < 19:
        invitation = kaleo.db.session.get(kaleo.JoinInvitation, int(invitation_id))
    # Someone else's invitation is as unknown as a missing one: nothing leaks.
    if invitation is None or invitation.from_user_id != kaleo.user_id(user):
        return refuse({"__all__": [NOT_FOUND]}, 404)
    try:
        if action == "resend":
            kaleo.resend(invitation)
            message = f"Invitation sent again to {invitation.email}."
        else:
            kaleo.revoke(invitation)
            message = f"Invitation to {invitation.email} revoked."
    except (InvitationRefused, InvitationNotPending) as error:
        return refuse({"__all__": [str(error)]})
    return done(invitation, message)
