"""flask-kaleo: user-to-user join invitations for Flask."""

from __future__ import annotations

from . import actions as _actions  # noqa: F401  (registers resend/revoke on the blueprint)
from . import staff as _staff  # noqa: F401  (registers the staff endpoints)
from .exceptions import AlreadyInvited
from .exceptions import AlreadyMember
from .exceptions import CannotInviteSelf
from .exceptions import ConfigurationError
from .exceptions import DeliveryFailed
from .exceptions import InvalidEmail
from .exceptions import InvitationAlreadyUsed
from .exceptions import InvitationExpired
from .exceptions import InvitationNotPending
from .exceptions import InvitationRefused
from .exceptions import InvitationRevoked
from .exceptions import InvitingNotAllowed
from .exceptions import KaleoError
from .exceptions import MessageTooLong
from .exceptions import NotEnoughInvitations
from .exceptions import ResendTooSoon
from .extension import Kaleo
from .extension import get_kaleo
from .models import UNLIMITED
from .models import InvitationStatMixin
from .models import JoinInvitationMixin
from .models import Status
from .views import blueprint

__all__ = [
    "UNLIMITED",
    "AlreadyInvited",
    "AlreadyMember",
    "CannotInviteSelf",
    "ConfigurationError",
    "DeliveryFailed",
    "InvalidEmail",
    "InvitationAlreadyUsed",
    "InvitationExpired",
    "InvitationNotPending",
    "InvitationRefused",
    "InvitationRevoked",
    "InvitationStatMixin",
    "InvitingNotAllowed",
    "JoinInvitationMixin",
    "Kaleo",
    "KaleoError",
    "MessageTooLong",
    "NotEnoughInvitations",
    "ResendTooSoon",
    "Status",
    "blueprint",
    "get_kaleo",
]
