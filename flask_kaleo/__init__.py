"""flask-kaleo: user-to-user join invitations for Flask."""

from __future__ import annotations

from .config import UNLIMITED
from .constants import NEVER
from .core.lifecycle import InvitationReport
from .core.reminders import RemindReport
from .core.sweep import SweepReport
from .delivery.transport import OutgoingEmail
from .exceptions import AddressLimitReached
from .exceptions import AddressOutsideDomain
from .exceptions import AlreadyInvited
from .exceptions import AlreadyMember
from .exceptions import CannotInviteSelf
from .exceptions import ConfigurationError
from .exceptions import DeliveryError
from .exceptions import DeliveryFailed
from .exceptions import ExpiryOutOfBounds
from .exceptions import InvalidEmail
from .exceptions import InvalidLinkOption
from .exceptions import InvitationAlreadyUsed
from .exceptions import InvitationExpired
from .exceptions import InvitationForAnotherAddress
from .exceptions import InvitationNotPending
from .exceptions import InvitationRefused
from .exceptions import InvitationReplaced
from .exceptions import InvitationRevoked
from .exceptions import InvitingNotAllowed
from .exceptions import InvitingSuspended
from .exceptions import KaleoError
from .exceptions import LinksNotAllowed
from .exceptions import MemberLimitReached
from .exceptions import MessageTooLong
from .exceptions import NotEnoughInvitations
from .exceptions import ResendTooSoon
from .exceptions import SendingLimitReached
from .extension import Kaleo
from .maintenance import PurgeReport
from .models import InvitationLinkMixin
from .models import InvitationStatMixin
from .models import JoinInvitationMixin
from .models import LinkUseMixin
from .models import Status
from .state import get_kaleo
from .web.blueprint import blueprint

__all__ = [
    "NEVER",
    "UNLIMITED",
    "AddressLimitReached",
    "AlreadyInvited",
    "AlreadyMember",
    "CannotInviteSelf",
    "ConfigurationError",
    "DeliveryError",
    "DeliveryFailed",
    "ExpiryOutOfBounds",
    "InvalidEmail",
    "InvalidLinkOption",
    "InvitationLinkMixin",
    "LinkUseMixin",
    "InvitationAlreadyUsed",
    "InvitationExpired",
    "InvitationForAnotherAddress",
    "AddressOutsideDomain",
    "InvitationNotPending",
    "InvitationRefused",
    "InvitationReport",
    "InvitationReplaced",
    "InvitationRevoked",
    "InvitationStatMixin",
    "InvitingNotAllowed",
    "InvitingSuspended",
    "SendingLimitReached",
    "JoinInvitationMixin",
    "Kaleo",
    "KaleoError",
    "LinksNotAllowed",
    "MemberLimitReached",
    "MessageTooLong",
    "NotEnoughInvitations",
    "OutgoingEmail",
    "PurgeReport",
    "RemindReport",
    "ResendTooSoon",
    "Status",
    "SweepReport",
    "blueprint",
    "get_kaleo",
]
