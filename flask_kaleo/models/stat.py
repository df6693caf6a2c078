"""The stat table: one row of invitation counters per user."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column
from sqlalchemy.schema import SchemaItem

from .base import UTCDateTime
from .base import invitations_remaining
from .base import user_column


class InvitationStatMixin:
    """A user's invitation counters: one row per user, created lazily.

    ``invites_allocated`` is -1 for unlimited. The check constraints keep the
    counters non-negative and never let ``invites_sent`` pass a finite allocation.
    The counters are 64-bit: an unlimited member's links reserve up to a million uses
    each, which a 32-bit ``invites_sent`` would overflow after 2,148 of them.
    """

    __kaleo_user_model__: t.ClassVar[type]

    if t.TYPE_CHECKING:  # the declarative constructor of the concrete model

        def __init__(self, **columns: object) -> None: ...

    invites_allocated: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    invites_sent: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    invites_accepted: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    inviting_suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Since when staff have suspended the member's inviting (NULL: they may invite).
    The spending UPDATE's condition reads it, so a suspension and an invitation in
    flight are ordered by the row's lock."""
    suspension_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    """Why, in staff's words; never shown to the member unless the app shows it."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_invitation_stat"

    @declared_attr
    def user_id(cls) -> Mapped[t.Any]:
        return user_column(t.cast(type, cls), nullable=False, primary_key=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[SchemaItem, ...]:
        name = cls.__tablename__
        return (
            sa.CheckConstraint("invites_allocated >= -1", name=f"ck_{name}_allocated"),
            sa.CheckConstraint("invites_sent >= 0", name=f"ck_{name}_sent"),
            sa.CheckConstraint("invites_accepted >= 0", name=f"ck_{name}_accepted"),
            sa.CheckConstraint(
                "invites_allocated = -1 OR invites_sent <= invites_allocated",
                name=f"ck_{name}_within_allocation",
            ),
            # The accountability report's busiest inviters, read off the end.
            sa.Index(f"ix_{name}_sent", "invites_sent", "user_id"),
        )

    @property
    def inviting_suspended(self) -> bool:
        return self.inviting_suspended_at is not None

    @property
    def invites_remaining(self) -> int:
        return invitations_remaining(self.invites_allocated, self.invites_sent)

    def __repr__(self) -> str:
        return (
            f"<InvitationStat user={self.user_id} allocated={self.invites_allocated}"
            f" sent={self.invites_sent} accepted={self.invites_accepted}>"
        )
