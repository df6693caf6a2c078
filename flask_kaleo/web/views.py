"""The member's endpoints: invite (kaleo's AJAX contract), accept, resend and revoke.

Each is declared with :func:`~flask_kaleo.web.endpoint.endpoint` and registered on the blueprint
by :mod:`flask_kaleo.web.blueprint`.
"""

from __future__ import annotations

import contextlib
import functools
import typing as t

from flask import get_template_attribute
from flask import render_template
from flask import request

from ..constants import NEVER
from ..exceptions import InvitationNotPending
from ..exceptions import InvitationRefused
from ..exceptions import InvitationReplaced
from ..i18n import N_
from ..i18n import gettext
from ..models import JoinInvitationMixin
from ..models import Status
from ..state import get_kaleo
from .answers import Refusal
from .answers import ViewResponse
from .answers import back
from .answers import same_site
from .answers import succeed
from .answers import wants_json
from .badge import badge_html
from .endpoint import endpoint
from .endpoint import fields
from .endpoint import owned
from .endpoint import signed_in_user
from .forms import keep_outcome
from .forms import keep_typed
from .links_form import expiry_field
from .links_form import link_message
from .links_form import link_requested
from .pages import go_sign_up
from .pages import not_pending_page
from .pages import unknown_token_page
from .session import remember

NOT_FOUND = N_("There is no such invitation among those you sent.")


class _RefusedInRow(Exception):
    """A refused Resend/Revoke/Extend from a browser without JavaScript, kept for its
    row: the view answers by going back to it."""


@contextlib.contextmanager
def _outcome_in_row(invitation: JoinInvitationMixin) -> t.Iterator[None]:
    """A refused Resend/Revoke/Extend from a browser without JavaScript: the error goes
    back to the row it is about, and only there (no flash: shown once)."""
    try:
        yield
    except (InvitationRefused, InvitationNotPending) as error:
        if wants_json():
            raise
        keep_outcome(invitation.id, str(error), refused=True)
        raise _RefusedInRow from None


def _in_row(view: t.Callable[..., ViewResponse]) -> t.Callable[..., ViewResponse]:
    """Answer a refusal kept for its row by going back to the row, the transaction
    rolled back as for any refusal."""

    @functools.wraps(view)
    def answered(**kwargs: object) -> ViewResponse:
        try:
            return view(**kwargs)
        except _RefusedInRow:
            get_kaleo().store.finish(commit=False)
            return back(_row_fragment(kwargs.get("invitation_id", "")))

    return answered


@endpoint(sign_in=N_("Please sign in to send invitations."))
def invite() -> ViewResponse:
    """Send an invitation from the signed-in user (the address and message are checked
    once, by :meth:`Kaleo.invite <flask_kaleo.Kaleo.invite>`)."""
    data = fields()
    send = link_requested(data)
    try:
        invitation = get_kaleo().invite(
            signed_in_user(),
            data.get("email_address", ""),
            data.get("message"),
            send=send,
            expires_in=expiry_field(data, "expires_in"),
        )
    except InvitationRefused as error:
        if wants_json():
            raise
        # The page it goes back to shows what was typed, and the error once: at its
        # field, or as the form's error (so no flash saying it again above).
        keep_typed(data, {error.field: [str(error)]})
        return back()
    actions = request.headers.get("X-Kaleo-Actions") == "1"
    if not send:
        return _answer(invitation, link_message(invitation), actions=actions)
    message = gettext("Invitation sent to %(email)s.", email=invitation.email)
    return _answer(invitation, message, actions=actions)


@endpoint(sign_in=N_("Please sign in to manage your invitations."))
@_in_row
def resend(invitation_id: str) -> ViewResponse:
    """Email one of your pending invitations again, under a new link."""
    invitation = _own_invitation(invitation_id)
    with _outcome_in_row(invitation):
        get_kaleo().resend(invitation)
    message = gettext("Invitation sent again to %(email)s.", email=invitation.email)
    return _row_answer(invitation, message)


@endpoint(sign_in=N_("Please sign in to manage your invitations."))
@_in_row
def revoke(invitation_id: str) -> ViewResponse:
    """Withdraw one of your unaccepted invitations; it goes back to your allocation."""
    invitation = _own_invitation(invitation_id)
    asked = fields().get("confirm") == "yes" or invitation.status != Status.SENT.value
    if not wants_json() and not asked:  # nothing to ask about one no longer pending
        return _confirm_revoke(invitation)
    with _outcome_in_row(invitation):
        get_kaleo().revoke(invitation)
    message = gettext("Invitation to %(email)s revoked.", email=invitation.email)
    return _row_answer(invitation, message)


@endpoint(sign_in=N_("Please sign in to manage your invitations."))
@_in_row
def extend(invitation_id: str) -> ViewResponse:
    """Move the expiry of one of your unanswered invitations ``by`` a duration (or to
    ``never``, for staff), keeping its link."""
    invitation = _own_invitation(invitation_id)
    wanted = expiry_field(fields(), "by")
    if wanted is None:
        raise Refusal(gettext("Say how long to extend the invitation by."), 400, "by")
    with _outcome_in_row(invitation):
        if wanted == NEVER:
            get_kaleo().extend(invitation, to=NEVER)
        else:
            get_kaleo().extend(invitation, by=wanted)
    message = gettext("Invitation to %(email)s extended.", email=invitation.email)
    return _row_answer(invitation, message)


def _confirm_revoke(invitation: JoinInvitationMixin) -> ViewResponse:
    """A browser without JavaScript asks before revoking: a page whose form posts again
    with ``confirm=yes``, and a way back that keeps the invitation."""
    referrer = request.referrer or ""
    back_to = referrer if referrer and same_site(referrer) else "/"
    page = render_template("kaleo/revoke_confirm.html", invitation=invitation, back_to=back_to)
    return page, 200


def _row_fragment(invitation_id: object) -> str:
    return f"#kaleo-invitation-{invitation_id}"


def _row_answer(invitation: JoinInvitationMixin, message: str) -> ViewResponse:
    """The answer to Resend/Revoke/Extend; a browser without JavaScript goes back to
    the row, which shows ``message`` (and nothing else does)."""
    if not wants_json():  # kept after rendering the answer's row, which would show it
        keep_outcome(invitation.id, message)
        return back(_row_fragment(invitation.id))
    return _answer(invitation, message, actions=True)


def _own_invitation(invitation_id: str) -> JoinInvitationMixin:
    """The signed-in user's invitation; someone else's is as unknown as a missing one."""
    model = get_kaleo().JoinInvitation
    return owned(model, invitation_id, 18, NOT_FOUND, "no_such_invitation")


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
            "invitations_badge": badge_html(remaining),
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
    try:
        invitation = get_kaleo().invitation_by_token(token)
    except InvitationReplaced as error:
        return not_pending_page("replaced", error)
    if invitation is None:
        return unknown_token_page()
    if not invitation.is_pending:
        return not_pending_page(invitation.display_status, invitation.why_not_pending())
    remember(invitation)
    return go_sign_up()
