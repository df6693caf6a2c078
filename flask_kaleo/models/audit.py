"""The audit table: one row per staff action, written in the action's transaction."""

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


class AuditEntryMixin:
    """Who did what to whom, when and why (table ``kaleo_audit_entry``). Newest first
    is ``id`` descending. Accounts may go; their labels stay."""

    __kaleo_user_model__: t.ClassVar[type]

    if t.TYPE_CHECKING:  # the declarative constructor of the concrete model

        def __init__(self, **columns: object) -> None: ...

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    action: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    """``set_allocation``, ``grant``, ``suspend``, ``resume``, ``revoke``, ``resend``,
    ``extend``, ``revoke_link``."""
    actor_label: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    """The actor's address, or what acted (``command line``); empty: unknown."""
    target_label: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    """The member acted on (their address then), or empty for everyone."""
    invitation_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    link_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    detail: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    """What changed, as JSON (``{"amount": 3, "users_changed": 12}``)."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_audit_entry"

    @declared_attr
    def actor_id(cls) -> Mapped[t.Any]:
        return user_column(t.cast(type, cls), nullable=True, index=False)

    @declared_attr
    def target_id(cls) -> Mapped[t.Any]:
        return user_column(t.cast(type, cls), nullable=True, index=False)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[SchemaItem, ...]:
        name = cls.__tablename__
        return (
            sa.Index(f"ix_{name}_target", "target_id", "id"),
            sa.Index(f"ix_{name}_actor", "actor_id", "id"),
            sa.Index(f"ix_{name}_action", "action", "id"),
        )

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.target_label!r}>"
