"""Model mixins for the kaleo tables, and the builder of the default models.

The mixins hold every column except those that point at the application's user
model: those are declared from ``__kaleo_user_model__``, which the concrete class
sets, so the user table's name and primary-key type are read from the user model and
never hard-coded. An application that wants extra columns subclasses a mixin::

    class Invitation(JoinInvitationMixin, db.Model):
        __kaleo_user_model__ = User
        campaign = db.Column(db.String(40))

    kaleo = Kaleo(db=db, user_model=User, join_invitation_model=Invitation)
"""

from __future__ import annotations

from .audit import AuditEntryMixin
from .base import ADDRESS_KEY
from .base import Status
from .base import UTCDateTime
from .base import build_model
from .base import exact
from .base import expired
from .base import invitations_remaining
from .base import not_expired
from .base import rowcount
from .base import shared_model
from .base import table_of
from .base import user_column
from .base import utcnow
from .invitation import JoinInvitationMixin
from .invitation import for_dialect
from .link import InvitationLinkMixin
from .link import LinkUseMixin
from .pending import Pending
from .pending import RedeemableMixin
from .referral import ReferralMixin
from .sending import AddressLockMixin
from .sending import InvitationSendMixin
from .stat import InvitationStatMixin

__all__ = [
    "for_dialect",
    "ADDRESS_KEY",
    "AddressLockMixin",
    "AuditEntryMixin",
    "InvitationLinkMixin",
    "InvitationSendMixin",
    "InvitationStatMixin",
    "JoinInvitationMixin",
    "LinkUseMixin",
    "Pending",
    "RedeemableMixin",
    "ReferralMixin",
    "Status",
    "UTCDateTime",
    "build_model",
    "exact",
    "expired",
    "invitations_remaining",
    "not_expired",
    "rowcount",
    "shared_model",
    "table_of",
    "user_column",
    "utcnow",
]
