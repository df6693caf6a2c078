"""The exception family of flask-kaleo.

Every refusal the extension can give derives from :class:`KaleoError`; its ``str()``
is a sentence that can be shown to the user as it is.
"""

from __future__ import annotations


class KaleoError(Exception):
    """Base class of every error raised by flask-kaleo."""

    #: The form field the error is about, for the structured error list.
    field = "__all__"


class ConfigurationError(KaleoError, ValueError):
    """The extension is set up wrongly; the message names the setting and the fix."""


class InvitationRefused(KaleoError):
    """An invitation could not be sent. Nothing was spent."""


class InvalidEmail(InvitationRefused):
    field = "email_address"


class CannotInviteSelf(InvitationRefused):
    field = "email_address"


class AlreadyMember(InvitationRefused):
    field = "email_address"


class AlreadyInvited(InvitationRefused):
    field = "email_address"


class MessageTooLong(InvitationRefused):
    field = "message"


class NotEnoughInvitations(InvitationRefused):
    pass


class SendingLimitReached(InvitationRefused):
    """A daily sending limit was reached: the member's (``KALEO_DAILY_SEND_LIMIT``) or
    the address's (``KALEO_ADDRESS_DAILY_LIMIT``). The message says which, without
    saying who else invited the address."""


class InvitingNotAllowed(InvitationRefused):
    """The ``can_invite`` hook said no."""


class DeliveryFailed(InvitationRefused):
    """The email could not be handed to the mail relay; the invitation was given back."""


class DeliveryError(KaleoError):
    """A transport could not deliver an email.

    ``permanent`` says that trying again cannot help (the relay refused with a 5xx);
    otherwise (a timeout, a refused connection, a 4xx) a queued delivery tries again.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ResendTooSoon(InvitationRefused):
    """The invitation was sent a moment ago; ``KALEO_RESEND_INTERVAL`` has not passed."""


class ExpiryOutOfBounds(InvitationRefused):
    """The lifetime asked for an invitation (or its extension) is outside
    ``KALEO_MIN_EXPIRATION`` .. ``KALEO_MAX_EXPIRATION``, or "never", which only members
    with the manage permission may choose. Nothing was spent or changed."""

    field = "expires_in"


class LinksNotAllowed(InvitationRefused):
    """A link without an email was asked for, and ``KALEO_ALLOW_LINKS`` is off."""


class InvitationNotPending(KaleoError):
    """The invitation can no longer be accepted."""


class InvitationExpired(InvitationNotPending):
    pass


class InvitationAlreadyUsed(InvitationNotPending):
    pass


class InvitationRevoked(InvitationNotPending):
    pass


class InvitationForAnotherAddress(InvitationNotPending):
    """With ``KALEO_REQUIRE_INVITED_EMAIL``, the signup used another address than the
    one invited. The invitation is still pending and nothing changed; it derives from
    :class:`InvitationNotPending` so that a signup view that already refuses an
    invitation it cannot accept refuses this one too."""

    field = "email"


class InvalidLinkOption(InvitationRefused):
    """A shareable link's number of uses or domain is not acceptable; ``field`` says
    which (``uses`` or ``domain``). Nothing was spent."""

    def __init__(self, message: str, field: str = "__all__") -> None:
        super().__init__(message)
        self.field = field
