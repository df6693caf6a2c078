"""The tables of shareable links: the link and one row per use."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column
from sqlalchemy.schema import SchemaItem

from .. import signals
from ..exceptions import AddressOutsideDomain
from ..exceptions import InvitationAlreadyUsed
from ..exceptions import InvitationExpired
from ..exceptions import InvitationForAnotherAddress
from ..exceptions import InvitationNotPending
from ..exceptions import InvitationRevoked
from ..i18n import N_
from ..i18n import gettext
from .base import UTCDateTime
from .base import not_expired
from .base import user_column
from .base import utcnow
from .pending import RedeemableMixin


class InvitationLinkMixin(RedeemableMixin):
    """Columns of a shareable link (table ``kaleo_invitation_link``)."""

    __kaleo_user_model__: t.ClassVar[type]

    if t.TYPE_CHECKING:  # the declarative constructor of the concrete model

        def __init__(self, **columns: object) -> None: ...

    __kaleo_use_model__: t.ClassVar[type[LinkUseMixin]]
    """The model of its uses (set by :class:`~flask_kaleo.core.store.Store`)."""
    SESSION_PREFIX = "link:"
    GONE = N_("This link no longer exists.")
    token: str | None = None
    """The clear token; only set on a link just created."""
    url: str | None = None
    """The absolute link to share; only set on a link just created (only the token's
    digest is stored, so it can never be shown again)."""
    inviter_remaining: int | None = None
    """Invitations the creator had left once the link was paid for (-1: unlimited);
    only set on a link just created."""
    joiners: t.Sequence[LinkUseMixin] = ()
    """Who joined through it (``LinkUse`` rows, oldest first); filled by
    :meth:`~flask_kaleo.Kaleo.sent_links`."""

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    inviter_label: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    """Who created it (their address then): kept when the account goes."""
    max_uses: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    """How many people may join through it: what its creation took from the allocation."""
    uses: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    """How many have joined through it."""
    domain: Mapped[str | None] = mapped_column(sa.String(253), nullable=True)
    """Only addresses at this domain (ASCII, lower-case) may join; NULL: any."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When it stops working; NULL: never (staff only, see :doc:`expiry`)."""
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    given_back: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    """NULL while the link may be used; once revoked or settled after its expiry, the
    unused uses it gave back to the allocation (``max_uses - uses``)."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_invitation_link"

    @declared_attr
    def from_user_id(cls) -> Mapped[t.Any]:
        """The creator; NULL once their account is deleted."""
        return user_column(t.cast(type, cls), nullable=True)

    @declared_attr
    def from_user(cls) -> Mapped[t.Any]:
        return orm.relationship(cls.__kaleo_user_model__, foreign_keys=lambda: [cls.from_user_id])

    @declared_attr.directive
    def __table_args__(cls) -> tuple[SchemaItem, ...]:
        name = cls.__tablename__
        return (
            sa.CheckConstraint("max_uses >= 1", name=f"ck_{name}_max_uses"),
            sa.CheckConstraint("uses >= 0 AND uses <= max_uses", name=f"ck_{name}_uses"),
            sa.CheckConstraint(
                "given_back IS NULL OR given_back = max_uses - uses",
                name=f"ck_{name}_given_back",
            ),
            sa.CheckConstraint(
                "revoked_at IS NULL OR given_back IS NOT NULL", name=f"ck_{name}_revoked"
            ),
        )

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()

    @property
    def is_pending(self) -> bool:
        """Whether someone may still join through it."""
        return (
            self.revoked_at is None
            and self.given_back is None
            and self.uses < self.max_uses
            and not self.is_expired
        )

    @property
    def display_status(self) -> str:
        """``active``, ``used`` (every use taken), ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.uses >= self.max_uses:
            return "used"
        if self.is_expired or self.given_back is not None:
            return "expired"
        return "active"

    # -- as :class:`~flask_kaleo.models.Pending` ------------------------------------

    @property
    def invited_address(self) -> str | None:
        return None  # a link names nobody

    @property
    def allowed_domain(self) -> str | None:
        return self.domain

    @property
    def emailed_address(self) -> str | None:
        return None  # proves nothing about the address of whoever follows it

    def why_not_pending(self) -> InvitationNotPending:
        """The exception that says why nobody can join through it any more."""
        if self.revoked_at is not None:
            return InvitationRevoked(gettext("This link has been withdrawn."))
        if self.uses >= self.max_uses:
            return InvitationAlreadyUsed(
                gettext("This link has been used by as many people as it allows.")
            )
        return InvitationExpired(gettext("This link has expired."))

    def another_address(self) -> InvitationForAnotherAddress:
        domain = self.domain or ""
        return AddressOutsideDomain(
            gettext("This link is only for addresses at %(domain)s.", domain=domain), domain
        )

    def pending_where(self, now: dt.datetime) -> tuple[sa.ColumnElement[bool], ...]:
        model = type(self)
        return (
            self.this_row(),
            model.uses < model.max_uses,
            model.revoked_at.is_(None),
            model.given_back.is_(None),
            not_expired(model.expires_at, now),
        )

    def accepted_values(self, user_id: object) -> dict[str, object]:
        return {"uses": type(self).uses + 1}

    def record_use(self, session: Session, user_id: object, email: str, now: dt.datetime) -> None:
        """One row of who joined, and when."""
        session.execute(
            sa.insert(self.__kaleo_use_model__).values(
                link_id=self.id, user_id=user_id, email=email, joined_at=now
            )
        )

    def announce_accepted(self, inviter: object, invitee: object) -> None:
        signals.send(signals.link_joined, link=self, inviter=inviter, invitee=invitee)

    def __repr__(self) -> str:
        return f"<InvitationLink {self.id} {self.uses}/{self.max_uses} {self.display_status}>"


class LinkUseMixin:
    """One signup through a shareable link (table ``kaleo_link_use``): who joined, and
    when. A link's ``uses`` always equals its number of rows here; the account may be
    deleted later (``user_id`` NULL), its address stays."""

    __kaleo_user_model__: t.ClassVar[type]

    if t.TYPE_CHECKING:  # the declarative constructor of the concrete model

        def __init__(self, **columns: object) -> None: ...

    __kaleo_link_table__: t.ClassVar[str]

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_link_use"

    @declared_attr
    def link_id(cls) -> Mapped[int]:
        table = cls.__kaleo_link_table__
        return mapped_column(
            sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False
        )

    @declared_attr
    def user_id(cls) -> Mapped[t.Any]:
        return user_column(t.cast(type, cls), nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[SchemaItem, ...]:
        # One account joins through one link once; the unique index serves link_id too.
        name = cls.__tablename__
        return (sa.UniqueConstraint("link_id", "user_id", name=f"uq_{name}_link_user"),)

    def __repr__(self) -> str:
        return f"<LinkUse {self.email!r} through {self.link_id}>"
