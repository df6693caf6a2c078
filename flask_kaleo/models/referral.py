"""The referral table: who brought whom in, one row per member who joined through an
invitation or a shareable link."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column
from sqlalchemy.schema import SchemaItem

from .base import UTCDateTime
from .base import user_column


class ReferralMixin:
    """One edge of the invitation tree (table ``kaleo_referral``).

    ``parent_id`` is the edge by which the inviter joined (NULL for an inviter nobody
    invited), so the tree stays whole when an account in it is deleted: the user ids
    become NULL, the labels and the edges between them stay.
    """

    __kaleo_user_model__: t.ClassVar[type]

    if t.TYPE_CHECKING:  # the declarative constructor of the concrete model

        def __init__(self, **columns: object) -> None: ...

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    invitee_label: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    """The invitee's address when they joined: kept when the account goes."""
    inviter_label: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    """The inviter's label on what was accepted: kept when the account goes."""
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    invitation_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    """The invitation accepted (no foreign key: history outlives a purge), or NULL."""
    link_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    """The shareable link joined through, or NULL."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_referral"

    @declared_attr
    def invitee_id(cls) -> Mapped[t.Any]:
        """Who joined; NULL once their account is deleted."""
        return user_column(t.cast(type, cls), nullable=True, index=False)

    @declared_attr
    def inviter_id(cls) -> Mapped[t.Any]:
        """Who brought them in; NULL once that account is deleted."""
        return user_column(t.cast(type, cls), nullable=True, index=False)

    @declared_attr
    def parent_id(cls) -> Mapped[int | None]:
        table = cls.__tablename__
        return mapped_column(
            sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="SET NULL"), nullable=True
        )

    @declared_attr.directive
    def __table_args__(cls) -> tuple[SchemaItem, ...]:
        name = cls.__tablename__
        return (
            sa.UniqueConstraint("invitee_id", name=f"uq_{name}_invitee"),
            # A node's invitees oldest first, the first few read off the index's start.
            sa.Index(f"ix_{name}_inviter", "inviter_id", "joined_at", "id"),
            sa.Index(f"ix_{name}_parent", "parent_id", "joined_at", "id"),
            # The overview's acceptances per day, read from the index alone.
            sa.Index(f"ix_{name}_joined", "joined_at", "invitation_id"),
        )

    def __repr__(self) -> str:
        return f"<Referral {self.inviter_label!r} -> {self.invitee_label!r}>"
