"""The tables of the daily sending limits: the log of sends and the per-address lock."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column
from sqlalchemy.schema import SchemaItem

from .base import ADDRESS_KEY
from .base import UTCDateTime
from .base import user_column


class InvitationSendMixin:
    """One email an invitation caused (its first sending or a resend): an append-only
    log, counted by the daily sending limits (``KALEO_DAILY_SEND_LIMIT``,
    ``KALEO_ADDRESS_DAILY_LIMIT``).

    The invitations table cannot count them: a resend overwrites ``resent_at``, so
    several resends of one invitation leave one trace. The rows outlive what they count:
    deleting the invitation (purge) or the inviter sets the reference NULL, and the
    day's sends still count; ``flask kaleo purge-expired`` deletes those older than
    two days.
    """

    __kaleo_user_model__: t.ClassVar[type]
    __kaleo_invitation_table__: t.ClassVar[str]

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    email_key: Mapped[str] = mapped_column(ADDRESS_KEY, nullable=False)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_invitation_send"

    @declared_attr
    def invitation_id(cls) -> Mapped[int | None]:
        table = cls.__kaleo_invitation_table__
        return mapped_column(
            sa.Integer,
            sa.ForeignKey(f"{table}.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        )

    @declared_attr
    def from_user_id(cls) -> Mapped[t.Any]:
        """Who caused it; NULL once the account is deleted. Indexed with ``sent_at``."""
        return user_column(t.cast(type, cls), nullable=True, index=False)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[SchemaItem, ...]:
        name = cls.__tablename__
        return (
            sa.Index(f"ix_{name}_from_user_sent", "from_user_id", "sent_at"),
            sa.Index(f"ix_{name}_email_key_sent", "email_key", "sent_at"),
        )

    def __repr__(self) -> str:
        return f"<InvitationSend {self.id} of {self.invitation_id} at {self.sent_at}>"


class AddressLockMixin:
    """One row per invited address (its comparison key), locked by every transaction
    that sends to it, so that two inviters of one address count its day's sends one
    after the other (``KALEO_ADDRESS_DAILY_LIMIT``). Nothing else is stored."""

    __kaleo_user_model__: t.ClassVar[type]

    email_key: Mapped[str] = mapped_column(ADDRESS_KEY, primary_key=True)

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_address_lock"

    def __repr__(self) -> str:
        return f"<AddressLock {self.email_key!r}>"
