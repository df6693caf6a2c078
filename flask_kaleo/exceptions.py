"""The exception family of flask-kaleo.

Every refusal the extension can give derives from :class:`KaleoError`; its ``str()``
is a sentence that can be shown to the user as it is (translated into the request's
language when the app uses Flask-Babel), and its ``code`` a stable name for programs
(the ERROR answer's ``code``; see :doc:`i18n`).
"""

from __future__ import annotations


class KaleoError(Exception):
    """Base class of every error raised by flask-kaleo."""

    #: The form field the error is about, for the structured error list.
    field = "__all__"
    #: A stable machine name for the refusal, the same in every language.
    code = "error"


class ConfigurationError(KaleoError, ValueError):
    """The extension is set up wrongly; the message names the setting and the fix."""

    code = "configuration"


class InvitationRefused(KaleoError):
    """An invitation could not be sent. Nothing was spent."""

    code = "refused"


class InvalidEmail(InvitationRefused):
    field = "email_address"
    code = "invalid_email"


class CannotInviteSelf(InvitationRefused):
    field = "email_address"
    code = "cannot_invite_self"


class AlreadyMember(InvitationRefused):
    field = "email_address"
    code = "already_member"


class AlreadyInvited(InvitationRefused):
    field = "email_address"
    code = "already_invited"


class MessageTooLong(InvitationRefused):
    field = "message"
    code = "message_too_long"


class NotEnoughInvitations(InvitationRefused):
    code = "no_invitations_left"


class SendingLimitReached(InvitationRefused):
    """A daily sending limit was reached: the member's (``KALEO_RATE_LIMITS["member"]``,
    raised as :class:`MemberLimitReached`) or the address's
    (``KALEO_RATE_LIMITS["address"]``, raised as :class:`AddressLimitReached`). The message
    and the code say which, without saying who else invited the address."""

    code = "sending_limit_reached"


class MemberLimitReached(SendingLimitReached):
    """The member has caused ``KALEO_RATE_LIMITS["member"]`` emails in the last 24 hours."""

    code = "member_limit_reached"


class AddressLimitReached(SendingLimitReached):
    """The address has received ``KALEO_RATE_LIMITS["address"]`` emails from the site in the
    last 24 hours, whoever invited it."""

    code = "address_limit_reached"


class InvitingNotAllowed(InvitationRefused):
    """The ``can_invite`` hook said no."""

    code = "not_allowed"


class InvitingSuspended(InvitationRefused):
    """Staff suspended the member's inviting (:meth:`~flask_kaleo.Kaleo.suspend_inviting`).
    The message says so without staff's reason unless ``KALEO_SHOW_SUSPENSION_REASON``
    is on; ``reason`` holds it for the app's own pages."""

    code = "inviting_suspended"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class DeliveryFailed(InvitationRefused):
    """The email could not be handed to the mail relay; the invitation was given back."""

    code = "delivery_failed"


class DeliveryError(KaleoError):
    """A transport could not deliver an email.

    ``permanent`` says that trying again cannot help (the relay refused with a 5xx);
    otherwise (a timeout, a refused connection, a 4xx) a queued delivery tries again.
    """

    code = "delivery_error"

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ResendTooSoon(InvitationRefused):
    """The invitation was sent a moment ago; ``KALEO_RESEND_INTERVAL`` has not passed."""

    code = "resend_too_soon"


class ExpiryOutOfBounds(InvitationRefused):
    """The lifetime asked for an invitation (or its extension) is outside
    ``KALEO_EXPIRATION_BOUNDS``, or "never", which only members
    with the manage permission may choose. Nothing was spent or changed."""

    field = "expires_in"
    code = "expiry_out_of_bounds"


class LinksNotAllowed(InvitationRefused):
    """A link without an email was asked for, and ``KALEO_ALLOW_LINKS`` is off."""

    code = "links_not_allowed"


class InvitationNotPending(KaleoError):
    """The invitation can no longer be accepted."""

    code = "invitation_not_pending"


class InvitationExpired(InvitationNotPending):
    code = "invitation_expired"


class InvitationAlreadyUsed(InvitationNotPending):
    code = "invitation_used"


class InvitationRevoked(InvitationNotPending):
    code = "invitation_revoked"


class InvitationReplaced(InvitationNotPending):
    """The accept URL is one a resend replaced: the invitation's latest email holds
    the working one."""

    code = "invitation_replaced"


class InvitationForAnotherAddress(InvitationNotPending):
    """With ``KALEO_REQUIRE_INVITED_EMAIL``, the signup used another address than the
    one invited (or, as :class:`AddressOutsideDomain`, an address outside a shareable
    link's domain). The invitation is still pending and nothing changed; it derives
    from :class:`InvitationNotPending` so that a signup view that refuses an invitation
    it cannot accept refuses this one too, but a view should catch it first and show
    its message at the address field, with the form, rather than a 410."""

    field = "email"
    code = "invitation_for_another_address"


class AddressOutsideDomain(InvitationForAnotherAddress):
    """A shareable link limited to a domain (``domain``) was used with an address
    elsewhere. The link is still valid and nothing changed: answer it at the signup
    form's address field, never as a used-up link (410)."""

    code = "address_outside_domain"

    def __init__(self, message: str, domain: str) -> None:
        super().__init__(message)
        self.domain = domain


class InvalidLinkOption(InvitationRefused):
    """A shareable link's number of uses or domain is not acceptable; ``field`` says
    which (``uses`` or ``domain``). Nothing was spent."""

    code = "invalid_link_option"

    def __init__(self, message: str, field: str = "__all__") -> None:
        super().__init__(message)
        self.field = field
