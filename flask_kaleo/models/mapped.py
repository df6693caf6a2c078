"""The eight models one :class:`~flask_kaleo.Kaleo` maps on the app's ``db``: built from
the mixins for the app's user model (or the app's own subclasses of the two main
ones), and typed as mapped classes of their mixins."""

from __future__ import annotations

import typing as t

from .audit import AuditEntryMixin
from .base import shared_model
from .base import table_of
from .invitation import JoinInvitationMixin
from .link import InvitationLinkMixin
from .link import LinkUseMixin
from .referral import ReferralMixin
from .sending import AddressLockMixin
from .sending import InvitationSendMixin
from .stat import InvitationStatMixin

if t.TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase

    class _Mapped(DeclarativeBase):
        __table__: t.ClassVar[sa.Table]

    class JoinInvitation(JoinInvitationMixin, _Mapped):
        """The invitation model as mapped on the app's ``db.Model``."""

    class InvitationStat(InvitationStatMixin, _Mapped):
        """The stat model as mapped on the app's ``db.Model``."""

    class InvitationSend(InvitationSendMixin, _Mapped):
        """The send log's model as mapped on the app's ``db.Model``."""

    class AddressLock(AddressLockMixin, _Mapped):
        """The address lock's model as mapped on the app's ``db.Model``."""

    class InvitationLink(InvitationLinkMixin, _Mapped):
        """The shareable link model as mapped on the app's ``db.Model``."""

    class LinkUse(LinkUseMixin, _Mapped):
        """The link use model as mapped on the app's ``db.Model``."""

    class Referral(ReferralMixin, _Mapped):
        """The referral model as mapped on the app's ``db.Model``."""

    class AuditEntry(AuditEntryMixin, _Mapped):
        """The audit entry model as mapped on the app's ``db.Model``."""


class Models(t.NamedTuple):
    invitation: type[JoinInvitation]
    stat: type[InvitationStat]
    send: type[InvitationSend]
    lock: type[AddressLock]
    link: type[InvitationLink]
    link_use: type[LinkUse]
    referral: type[Referral]
    audit: type[AuditEntry]


class ModelError(TypeError):
    """An app's model that does not subclass the mixin it replaces."""


def map_models(
    base: type,
    user_model: type,
    invitation_model: type[JoinInvitationMixin] | None,
    stat_model: type[InvitationStatMixin] | None,
) -> Models:
    """The models on ``base`` (the app's ``db.Model``) for ``user_model``: the app's
    own invitation and stat models if given (each must subclass its mixin), else the
    defaults; each default is shared by every Kaleo on ``base``."""
    invitation = invitation_model or shared_model(
        JoinInvitationMixin, base, user_model, "JoinInvitation"
    )
    stat = stat_model or shared_model(InvitationStatMixin, base, user_model, "InvitationStat")
    for model, mixin in ((invitation, JoinInvitationMixin), (stat, InvitationStatMixin)):
        if not issubclass(model, mixin):
            raise ModelError(f"{model.__name__} must subclass {mixin.__name__}")
    send = shared_model(
        InvitationSendMixin,
        base,
        user_model,
        "InvitationSend",
        __kaleo_invitation_table__=_table_name(invitation),
    )
    lock = shared_model(AddressLockMixin, base, user_model, "AddressLock")
    link = shared_model(InvitationLinkMixin, base, user_model, "InvitationLink")
    link_use = shared_model(
        LinkUseMixin, base, user_model, "LinkUse", __kaleo_link_table__=_table_name(link)
    )
    referral = shared_model(ReferralMixin, base, user_model, "Referral")
    audit = shared_model(AuditEntryMixin, base, user_model, "AuditEntry")
    return Models(invitation, stat, send, lock, link, link_use, referral, audit)


def _table_name(model: type) -> str:
    return str(table_of(model).name)
