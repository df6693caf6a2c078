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

import datetime as dt
import typing as t
from enum import Enum

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column

from .settings import UNLIMITED


class Status(str, Enum):
    """What became of an invitation. The value is stored, and used as the CSS class."""

    SENT = "sent"
    ACCEPTED = "accepted"
    JOINED_INDEPENDENTLY = "joined"
    REVOKED = "revoked"
    UNDELIVERABLE = "undeliverable"
    """The email could not be delivered; the invitation went back to the allocation."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def rowcount(result: t.Any) -> int:
    """The rows a statement's result says it matched (a conditional UPDATE's verdict)."""
    return int(result.rowcount)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps the zone; SQLite and MariaDB store naive values, so they are
    stored as UTC and handed back with ``tzinfo=UTC``. MariaDB/MySQL ``DATETIME``
    drops fractions of a second unless asked for them, so it gets ``DATETIME(6)``
    and keeps the same instant as the other backends.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[t.Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> t.Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("flask-kaleo stores timezone-aware datetimes only")
        value = value.astimezone(dt.timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: t.Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return t.cast(dt.datetime, value.replace(tzinfo=dt.timezone.utc))
        return t.cast(dt.datetime, value.astimezone(dt.timezone.utc))


ADDRESS_KEY = sa.String(254).with_variant(
    mysql.VARCHAR(254, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
"""The type of the comparison keys: compared byte for byte on every backend (SQLite and
PostgreSQL compare text that way; MariaDB/MySQL need a binary collation, or ``rene``
and ``rené`` would be one key). See :func:`flask_kaleo.addresses.address_key`."""


def _user_key(cls: type) -> tuple[str, sa.types.TypeEngine[t.Any]]:
    """``"table.column"`` and the type of the user model's single-column primary key."""
    user_model = getattr(cls, "__kaleo_user_model__", None)
    if user_model is None:
        raise TypeError(
            f"{cls.__name__} must set __kaleo_user_model__ to the application's user model"
        )
    primary_key = sa.inspect(user_model).mapper.primary_key
    if len(primary_key) != 1:
        raise TypeError("flask-kaleo needs a user model with a single-column primary key")
    column = primary_key[0]
    return f"{column.table.name}.{column.name}", column.type


def user_column(
    cls: type, *, nullable: bool, primary_key: bool = False, index: bool = True
) -> t.Any:
    target, type_ = _user_key(cls)
    return mapped_column(
        type_,
        sa.ForeignKey(target, ondelete="CASCADE" if not nullable else "SET NULL"),
        nullable=nullable,
        primary_key=primary_key,
        index=index and not primary_key,
    )


class JoinInvitationMixin:
    """Columns of a join invitation.

    ``pending_email_key`` equals ``email_key`` while the invitation may still be
    accepted and is NULL afterwards; the unique constraint on it with the inviter is
    the portable form of "one pending invitation per inviter and address" (MariaDB has
    no partial indexes, and NULLs never collide in a unique index on any backend).
    """

    __kaleo_user_model__: t.ClassVar[type]
    token: str | None = None
    """The clear accept token; only set on an invitation just created or reissued."""
    inviter_remaining: int | None = None
    """Invitations the inviter had left once this one was spent (-1: unlimited); only
    set on an invitation just created, so the answer needs no second query."""
    accept_url: str | None = None
    """The absolute accept link of an invitation just created with ``send=False``:
    handed to the caller once, never stored (only its digest is)."""

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    email_key: Mapped[str] = mapped_column(ADDRESS_KEY, nullable=False, index=True)
    pending_email_key: Mapped[str | None] = mapped_column(ADDRESS_KEY, nullable=True)
    message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When it stops being acceptable; NULL: never (chosen by a member with the manage
    permission)."""
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=Status.SENT.value)
    token_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    resent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the email was last sent again (NULL if never); resending is rate-limited."""
    replaced_token_digest: Mapped[str | None] = mapped_column(
        sa.String(64), nullable=True, index=True
    )
    """The digest of the token a resend replaced, so its dead link gets a clear page."""
    inviter_label: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    """Who sent it (the inviter's address when it was sent): kept when the account goes."""
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the mail relay took the latest email (NULL while it is on its way)."""
    delivery_attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    """How many times its latest email was handed to a transport."""
    delivery_lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Until when the delivery that claimed its email may still be talking to the relay
    (NULL: none is): set by the UPDATE that claims it, cleared with the outcome. No
    other delivery, resend or reminder claims it before then, so one claim mails at
    most one email."""
    undo_sending: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    """While a resend or reminder is on its way: the columns as they were before it
    (JSON), put back if its email cannot go, so the earlier link works again. NULL for
    a first sending (whose failure gives the invitation back) and once delivered."""
    forced: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    """Sent with ``force`` when none was left: its spend raised the inviter's allocation
    by one, which giving it back (revoke, undeliverable) lowers again."""
    to_member: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    """Sent, with ``KALEO_PRIVATE_REFUSALS``, to an address that already belonged to a
    member: answered and listed like any invitation, but no invitation email is sent
    and it can never be accepted (it stays pending until it expires)."""
    link_only: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    """Created with ``send=False``: its link was handed to the inviter and no email was
    sent (``delivered_at`` is set at creation, so no sweep picks it up). Mailing it
    (resend) clears the mark."""
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When ``flask kaleo remind`` sent its one reminder (NULL: never); set by the same
    conditional UPDATE that claims it, so it is reminded at most once."""
    locale: Mapped[str | None] = mapped_column(sa.String(35), nullable=True)
    """The locale its email is written in (``fr``, ``pt_BR``): the inviter's choice, else
    the request's as Flask-Babel chose it; NULL: the app's default language."""

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_join_invitation"

    @declared_attr
    def from_user_id(cls) -> Mapped[t.Any]:
        """The inviter; NULL once the inviter's account is deleted (the invitation and
        ``inviter_label`` stay, the trail a moderator needs)."""
        # Indexed by ix_<table>_from_user_sent (from_user_id, sent_at): the sent list's
        # index serves lookups by inviter too, so a second index would only cost writes.
        return t.cast(Mapped[t.Any], user_column(t.cast(type, cls), nullable=True, index=False))

    @declared_attr
    def to_user_id(cls) -> Mapped[t.Any]:
        """The user who joined through this invitation, or independently."""
        return t.cast(Mapped[t.Any], user_column(t.cast(type, cls), nullable=True))

    @declared_attr
    def from_user(cls) -> Mapped[t.Any]:
        return orm.relationship(cls.__kaleo_user_model__, foreign_keys=lambda: [cls.from_user_id])

    @declared_attr
    def to_user(cls) -> Mapped[t.Any]:
        return orm.relationship(cls.__kaleo_user_model__, foreign_keys=lambda: [cls.to_user_id])

    @declared_attr.directive
    def __table_args__(cls) -> tuple[t.Any, ...]:
        name = cls.__tablename__
        statuses = ", ".join(f"'{s.value}'" for s in Status)
        return (
            sa.UniqueConstraint("from_user_id", "pending_email_key", name=f"uq_{name}_pending"),
            sa.CheckConstraint(f"status IN ({statuses})", name=f"ck_{name}_status"),
            sa.CheckConstraint(
                "pending_email_key IS NULL OR (status = 'sent' AND pending_email_key = email_key)",
                name=f"ck_{name}_pending",
            ),
            sa.Index(f"ix_{name}_from_user_sent", "from_user_id", "sent_at"),
        )

    @property
    def is_expired(self) -> bool:
        return (
            self.status == Status.SENT.value
            and self.expires_at is not None
            and self.expires_at <= utcnow()
        )

    @property
    def is_pending(self) -> bool:
        return self.status == Status.SENT.value and not self.is_expired

    @property
    def display_status(self) -> str:
        """``sent``, ``sending`` (its email is on its way), ``link`` (created without
        an email), ``accepted``, ``joined``, ``revoked``, ``undeliverable`` or
        ``expired``."""
        if self.is_expired:
            return "expired"
        if self.status == Status.SENT.value and self.link_only:
            return "link"
        if self.status == Status.SENT.value and self.delivered_at is None:
            return "sending"
        return self.status

    @property
    def is_reminder(self) -> bool:
        """Whether its latest sending is its reminder (a later resend is not)."""
        return self.reminded_at is not None and self.reminded_at == self.resent_at

    def __repr__(self) -> str:
        return f"<JoinInvitation {self.id} to {self.email!r} {self.status}>"


class InvitationStatMixin:
    """A user's invitation counters: one row per user, created lazily.

    ``invites_allocated`` is -1 for unlimited. The check constraints keep the
    counters non-negative and never let ``invites_sent`` pass a finite allocation.
    The counters are 64-bit: an unlimited member's links reserve up to a million uses
    each, which a 32-bit ``invites_sent`` would overflow after 2,148 of them.
    """

    __kaleo_user_model__: t.ClassVar[type]

    invites_allocated: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    invites_sent: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    invites_accepted: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "kaleo_invitation_stat"

    @declared_attr
    def user_id(cls) -> Mapped[t.Any]:
        return t.cast(
            Mapped[t.Any], user_column(t.cast(type, cls), nullable=False, primary_key=True)
        )

    @declared_attr.directive
    def __table_args__(cls) -> tuple[t.Any, ...]:
        name = cls.__tablename__
        return (
            sa.CheckConstraint("invites_allocated >= -1", name=f"ck_{name}_allocated"),
            sa.CheckConstraint("invites_sent >= 0", name=f"ck_{name}_sent"),
            sa.CheckConstraint("invites_accepted >= 0", name=f"ck_{name}_accepted"),
            sa.CheckConstraint(
                "invites_allocated = -1 OR invites_sent <= invites_allocated",
                name=f"ck_{name}_within_allocation",
            ),
        )

    @property
    def invites_remaining(self) -> int:
        return invitations_remaining(self.invites_allocated, self.invites_sent)

    def __repr__(self) -> str:
        return (
            f"<InvitationStat user={self.user_id} allocated={self.invites_allocated}"
            f" sent={self.invites_sent} accepted={self.invites_accepted}>"
        )


def invitations_remaining(allocated: int, sent: int) -> int:
    """What an allocation leaves to send: -1 when unlimited, never below 0."""
    return UNLIMITED if allocated == UNLIMITED else max(allocated - sent, 0)


def build_model(mixin: type, base: type, user_model: type, name: str, **attributes: t.Any) -> type:
    """The concrete model ``name`` from ``mixin`` on the application's ``db.Model``."""
    return type(
        name,
        (mixin, base),
        {
            "__kaleo_user_model__": user_model,
            "__module__": __name__,
            "__qualname__": name,
            **attributes,
        },
    )


def shared_model(mixin: type, base: type, user_model: type, name: str, **attributes: t.Any) -> type:
    """The model of ``mixin`` already built on ``base`` for ``user_model`` (several
    Kaleo objects may share one database), or a new one from :func:`build_model`."""
    registry = t.cast(t.Any, base).registry
    for mapper in registry.mappers:
        model = mapper.class_
        if issubclass(model, mixin) and getattr(model, "__kaleo_user_model__", None) is user_model:
            return t.cast(type, model)
    return build_model(mixin, base, user_model, name, **attributes)
