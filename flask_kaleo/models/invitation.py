"""The invitation table: one row per invitation sent to an address."""

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
from ..exceptions import InvitationAlreadyUsed
from ..exceptions import InvitationExpired
from ..exceptions import InvitationForAnotherAddress
from ..exceptions import InvitationNotPending
from ..exceptions import InvitationRevoked
from ..i18n import N_
from ..i18n import gettext
from .base import ADDRESS_KEY
from .base import Status
from .base import UTCDateTime
from .base import not_expired
from .base import user_column
from .base import utcnow
from .pending import RedeemableMixin

# ``ddl_if`` takes a tuple of names too, though typed as one name.
PARTIAL = t.cast(str, ("postgresql", "sqlite"))
"""The databases with partial indexes (MariaDB has none)."""
FULL = t.cast(str, ("mysql", "mariadb"))


def _state_indexes(name: str) -> tuple[sa.Index, ...]:
    """The staff's pages of the ``sending`` and ``link`` states (a few rows among
    millions), newest first. A partial index holds those rows alone, so the writes of
    every other invitation leave it alone; MariaDB gets full indexes that lead to the
    same rows. Each is created on its databases only (see :func:`for_dialect`)."""
    unsent = sa.text("status = 'sent' AND delivered_at IS NULL")
    link_only = sa.text("link_only")
    return (
        sa.Index(
            f"ix_{name}_unsent", "sent_at", "id", postgresql_where=unsent, sqlite_where=unsent
        ).ddl_if(dialect=PARTIAL),
        sa.Index(
            f"ix_{name}_link_only",
            "sent_at",
            "id",
            postgresql_where=link_only,
            sqlite_where=link_only,
        ).ddl_if(dialect=PARTIAL),
        sa.Index(f"ix_{name}_status_unsent", "status", "delivered_at", "sent_at", "id").ddl_if(
            dialect=FULL
        ),
        sa.Index(f"ix_{name}_link_only_sent", "link_only", "sent_at", "id").ddl_if(dialect=FULL),
    )


def for_dialect(dialect: str) -> t.Callable[..., bool]:
    """An Alembic ``include_object`` that leaves out the indexes made for other
    databases: autogenerate does not read ``Index.ddl_if``."""

    def include(item: object, name: str | None, kind: str, reflected: bool, *_: object) -> bool:
        condition = getattr(item, "_ddl_if", None) if kind == "index" and not reflected else None
        if condition is None or condition.dialect is None:
            return True
        wanted = condition.dialect
        return dialect in ((wanted,) if isinstance(wanted, str) else tuple(wanted))

    return include


class JoinInvitationMixin(RedeemableMixin):
    """Columns of a join invitation.

    ``pending_email_key`` equals ``email_key`` while the invitation may still be
    accepted and is NULL afterwards; the unique constraint on it with the inviter is
    the portable form of "one pending invitation per inviter and address" (MariaDB has
    no partial indexes, and NULLs never collide in a unique index on any backend).
    """

    __kaleo_user_model__: t.ClassVar[type]

    if t.TYPE_CHECKING:  # the declarative constructor of the concrete model

        def __init__(self, **columns: object) -> None: ...

    GONE = N_("This invitation no longer exists.")
    token: str | None = None
    """The clear accept token; only set on an invitation just created or reissued."""
    inviter_remaining: int | None = None
    """Invitations the inviter had left once this one was spent (-1: unlimited); only
    set on an invitation just created, so the answer needs no second query."""
    accept_url: str | None = None
    """The absolute accept URL of an invitation just created with ``send=False``:
    handed to the caller once, never stored (only its token's digest is)."""

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
    """The digest of the token a resend replaced, so its dead accept URL gets a clear page."""
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
    (JSON), put back if its email cannot go, so the earlier accept URL works again. NULL for
    a first sending (whose failure gives the invitation back) and once delivered."""
    forced: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    """Sent with ``force`` when none was left: its spend raised the inviter's allocation
    by one, which giving it back (revoke, undeliverable) lowers again."""
    to_member: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    """Sent, with ``KALEO_MEMBER_PRIVACY``, to an address that already belonged to a
    member: answered and listed like any invitation, but no invitation email is sent
    and it can never be accepted (it stays pending until it expires)."""
    link_only: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    """Created with ``send=False``: its accept URL was handed to the inviter and no
    email was sent (``delivered_at`` is set at creation, so no sweep picks it up). Mailing it
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
        return user_column(t.cast(type, cls), nullable=True, index=False)

    @declared_attr
    def to_user_id(cls) -> Mapped[t.Any]:
        """The user who joined through this invitation, or independently."""
        return user_column(t.cast(type, cls), nullable=True)

    @declared_attr
    def from_user(cls) -> Mapped[t.Any]:
        return orm.relationship(cls.__kaleo_user_model__, foreign_keys=lambda: [cls.from_user_id])

    @declared_attr
    def to_user(cls) -> Mapped[t.Any]:
        return orm.relationship(cls.__kaleo_user_model__, foreign_keys=lambda: [cls.to_user_id])

    @declared_attr.directive
    def __table_args__(cls) -> tuple[SchemaItem, ...]:
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
            # A member's counts by state (the sent list's summary), from the index alone.
            sa.Index(f"ix_{name}_from_user_status", "from_user_id", "status", "expires_at"),
            # The staff's pages, newest first: all invitations, one state's, and the
            # overview's deliveries per day, read from the index alone (and the emails
            # still on their way: NULL).
            sa.Index(f"ix_{name}_sent", "sent_at", "id"),
            sa.Index(f"ix_{name}_status_sent", "status", "sent_at", "id"),
            sa.Index(f"ix_{name}_delivered", "delivered_at", "link_only"),
            *_state_indexes(name),
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
        """``sent``, ``sending`` (its email is on its way), ``link`` (created with
        ``send=False``, without an email), ``accepted``, ``joined``, ``revoked``,
        ``undeliverable`` or ``expired``."""
        if self.is_expired:
            return "expired"
        if self.status == Status.SENT.value and self.link_only:
            return "link"
        if self.status == Status.SENT.value and self.delivered_at is None:
            return "sending"
        return self.status

    def resend_possible_at(self, interval: dt.timedelta) -> dt.datetime:
        """When a Resend may mail it again: ``interval`` (``KALEO_RESEND_INTERVAL``)
        after it was last sent."""
        return (self.resent_at or self.sent_at) + interval

    @property
    def is_reminder(self) -> bool:
        """Whether its latest sending is its reminder (a later resend is not)."""
        return self.reminded_at is not None and self.reminded_at == self.resent_at

    # -- as :class:`~flask_kaleo.models.Pending` ------------------------------------

    @property
    def invited_address(self) -> str | None:
        return self.email

    @property
    def allowed_domain(self) -> str | None:
        return None

    @property
    def emailed_address(self) -> str | None:
        return None if self.link_only else self.email

    def why_not_pending(self) -> InvitationNotPending:
        """The exception that says why it can no longer be accepted."""
        if self.to_member and self.is_pending:  # to a member: never acceptable
            return InvitationNotPending(gettext("This invitation can no longer be accepted."))
        if self.status == Status.REVOKED.value:
            return InvitationRevoked(gettext("This invitation has been withdrawn."))
        if self.status == Status.SENT.value:
            return InvitationExpired(gettext("This invitation has expired."))
        return InvitationAlreadyUsed(gettext("This invitation has already been used."))

    def another_address(self) -> InvitationForAnotherAddress:
        return InvitationForAnotherAddress(
            gettext(
                "This invitation was sent to %(email)s: sign up with that address.",
                email=self.email,
            )
        )

    def pending_where(self, now: dt.datetime) -> tuple[sa.ColumnElement[bool], ...]:
        model = type(self)
        return (
            self.this_row(),
            model.status == Status.SENT.value,
            not_expired(model.expires_at, now),
            model.to_member == sa.false(),
        )

    def accepted_values(self, user_id: object) -> dict[str, object]:
        return {"status": Status.ACCEPTED.value, "to_user_id": user_id, "pending_email_key": None}

    def record_use(self, session: Session, user_id: object, email: str, now: dt.datetime) -> None:
        """Nothing more: the invitation's own row says who accepted it."""

    def announce_accepted(self, inviter: object, invitee: object) -> None:
        signals.send(signals.invite_accepted, invitation=self, inviter=inviter, invitee=invitee)

    def __repr__(self) -> str:
        return f"<JoinInvitation {self.id} to {self.email!r} {self.status}>"
