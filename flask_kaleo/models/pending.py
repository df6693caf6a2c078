"""What a signup can redeem: the :class:`Pending` protocol, which an invitation and a
shareable link both implement, and the mixin holding what they share."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session

from ..exceptions import InvitationForAnotherAddress
from ..exceptions import InvitationNotPending
from ..i18n import gettext


@t.runtime_checkable
class Pending(t.Protocol):
    """An invitation or a shareable link, as a signup redeems it: the session remembers
    it, the signup form's address is checked against it, and accepting it records one
    use for the new user. :class:`~flask_kaleo.JoinInvitationMixin` and
    :class:`~flask_kaleo.InvitationLinkMixin` implement it."""

    @property
    def id(self) -> int: ...
    @property
    def from_user_id(self) -> object: ...
    @property
    def token_digest(self) -> str: ...
    @property
    def inviter_label(self) -> str:
        """Who it is from, as the invitee saw it (kept on the referral edge)."""

    @property
    def expires_at(self) -> dt.datetime | None: ...
    @property
    def is_pending(self) -> bool:
        """Whether a signup may still redeem it."""

    @property
    def display_status(self) -> str: ...
    @property
    def session_value(self) -> str:
        """What the visitor's session holds while it remembers it."""

    @property
    def invited_address(self) -> str | None:
        """The address it was sent to, to prefill a signup form; None for a link."""

    @property
    def allowed_domain(self) -> str | None:
        """The only domain a signup's address may be at; None: any."""

    @property
    def emailed_address(self) -> str | None:
        """The address its accept URL was emailed to, so following it proves that
        mailbox; None when it was not emailed (``send=False``, a link)."""

    def why_not_pending(self) -> InvitationNotPending:
        """The exception that says why it can no longer be redeemed."""

    def another_address(self) -> InvitationForAnotherAddress:
        """The refusal of a signup address it does not admit."""

    def reread(self, session: Session) -> None:
        """Read it again under a lock, as the winner of a race left it."""

    def pending_where(self, now: dt.datetime) -> tuple[sa.ColumnElement[bool], ...]:
        """SQL: this row, still redeemable at ``now`` (the accept's conditional UPDATE)."""

    def accepted_values(self, user_id: object) -> dict[str, object]:
        """The columns the accept's UPDATE writes for the user ``user_id``."""

    def record_use(self, session: Session, user_id: object, email: str, now: dt.datetime) -> None:
        """Record, after the UPDATE, who redeemed it (a link keeps one row per use)."""

    def announce_accepted(self, inviter: object, invitee: object) -> None:
        """Send the signal of its acceptance."""


class RedeemableMixin:
    """What an invitation and a shareable link share as :class:`Pending`: the session's
    value and the locking re-read (the models set ``SESSION_PREFIX`` and ``GONE``)."""

    SESSION_PREFIX: t.ClassVar[str] = ""
    """Before the token's digest in the session: one remembered thing per session,
    and the value says which table it is in."""
    GONE: t.ClassVar[str] = ""
    """The (untranslated) refusal once its row is gone (purged, its inviter deleted)."""

    if t.TYPE_CHECKING:
        id: Mapped[int]
        token_digest: Mapped[str]
        expires_at: Mapped[dt.datetime | None]

    @property
    def session_value(self) -> str:
        return self.SESSION_PREFIX + self.token_digest

    def reread(self, session: Session) -> None:
        """Read it again after a conditional UPDATE missed it, as the winner of a race
        left it: a locking read, since a plain one would see this transaction's
        snapshot on MariaDB (REPEATABLE READ) and give a stale reason. A row that is
        gone raises an :class:`~flask_kaleo.InvitationNotPending`."""
        model = type(self)
        found = session.scalars(
            sa.select(model)
            .where(model.id == self.id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)  # the loaded instance is refreshed
        ).first()
        if found is None:
            raise InvitationNotPending(gettext(self.GONE))

    def this_row(self) -> sa.ColumnElement[bool]:
        """SQL: this row, by its primary key."""
        return type(self).id == self.id

    @classmethod
    def by_session_value(cls, value: str) -> sa.ColumnElement[bool] | None:
        """SQL: the row a session's ``value`` names, if it names one of this table."""
        if not value.startswith(cls.SESSION_PREFIX):
            return None
        return cls.token_digest == value.removeprefix(cls.SESSION_PREFIX)
