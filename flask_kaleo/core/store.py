"""The database side of flask-kaleo: the session, the models and every read.

:class:`Store` is built once by :class:`~flask_kaleo.Kaleo` and handed to the service
modules; it never calls back into the extension.
"""

from __future__ import annotations

import contextlib
import logging
import re
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import current_config
from ..models import AuditEntryMixin
from ..models import InvitationLinkMixin
from ..models import InvitationStatMixin
from ..models import JoinInvitationMixin
from ..models import LinkUseMixin
from ..models import ReferralMixin
from ..models import exact
from .addresses import Address
from .addresses import member_spellings
from .allocations import Allocations
from .counters import Counters
from .hooks import Hooks
from .hooks import signed_in
from .limits import SendingLimits
from .tokens import token_digest

U = t.TypeVar("U")
logger = logging.getLogger(__name__)

_INTEGER_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))
"""The width of each integer column type, the narrower subclasses first."""
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
"""Unicode's embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a
display name, a right-to-left override would reverse the rest of the subject line
("... has invited you to join <site>") in the invitee's mail client."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""A NUL or other control character: in no member's address or id (and PostgreSQL
refuses NUL in a query's text, so such a value never reaches the database)."""


def _commit_keeping_loaded(session: Session) -> None:
    """Commit ``session`` without expiring the objects it loaded: what they hold is
    what was read or written, so reading them again costs no query."""
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


def key_fits(column: t.Any, value: object) -> bool:
    """Whether ``value`` fits ``column``'s integer type (anything else fits): a larger
    id is nobody's, and PostgreSQL refuses to compare it, the parameter being cast to
    the column's type."""
    if not isinstance(value, int):
        return True
    bits = next((size for kind, size in _INTEGER_BITS if isinstance(column.type, kind)), 64)
    return -(1 << (bits - 1)) <= value < 1 << (bits - 1)


class Store(t.Generic[U]):
    """The app's ``db``, the user model, the kaleo models and their queries."""

    def __init__(
        self,
        db: t.Any,
        user_model: type[U],
        invitation_model: type[JoinInvitationMixin],
        stat_model: type[InvitationStatMixin],
        hooks: Hooks[U],
        send_model: type,
        lock_model: type,
        *,
        link_model: type[InvitationLinkMixin],
        link_use_model: type[LinkUseMixin],
        referral_model: type[ReferralMixin],
        audit_model: type[AuditEntryMixin],
    ) -> None:
        self.db = db
        self.user_model = user_model
        self.JoinInvitation = invitation_model
        self.InvitationStat = stat_model
        self.InvitationLink = link_model
        self.LinkUse = link_use_model
        self.Referral = referral_model
        self.AuditEntry = audit_model
        link_model.__kaleo_use_model__ = link_use_model
        self.counters = Counters(stat_model)
        self.allocations = Allocations(stat_model, user_model)
        self.limits = SendingLimits(stat_model, send_model, lock_model)
        self.hooks = hooks
        self._member_checks: dict[str, sa.Select[t.Any]] = {}

    @property
    def session(self) -> Session:
        return t.cast(Session, self.db.session)

    @contextlib.contextmanager
    def transaction(self, *, keep_loaded: bool = False) -> t.Iterator[Session]:
        """Commit what the block did, or roll it all back if it raised anything.

        With ``keep_loaded`` the objects the block loaded or created stay loaded after
        the commit (they hold what was just written), so reading them again costs no
        query.
        """
        session = self.session
        scoped = self.db.session()  # the Session behind Flask-SQLAlchemy's scoped proxy
        expire_on_commit = scoped.expire_on_commit
        try:
            yield session
            scoped.expire_on_commit = expire_on_commit and not keep_loaded
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            scoped.expire_on_commit = expire_on_commit

    def finish(self, *, commit: bool) -> None:
        """End the session's open transaction before an endpoint answers: committed
        without expiring what it loaded (``commit``: kaleo's own work is committed
        already, what is left is reads and whatever the app had pending), else rolled
        back. Flask-SQLAlchemy's teardown then has nothing to roll back: it runs after
        the answer is built, and Flask turns no exception of a teardown into a
        response.

        A connection found lost here (SQLAlchemy invalidates it) is logged, and the
        answer stands: kaleo's work was committed before it, or rolled back with it."""
        scoped = self.db.session()  # the Session behind Flask-SQLAlchemy's scoped proxy
        if not scoped.in_transaction():
            return
        try:
            if commit:
                _commit_keeping_loaded(scoped)
            else:
                scoped.rollback()
        except sa.exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
            logger.warning("flask-kaleo: the database connection was lost: %s", error.orig)

    def fresh_snapshot(self) -> None:
        """On MariaDB/MySQL, end the transaction the request began with its reads (the
        signed-in user...), committing it without expiring anything: under REPEATABLE
        READ its snapshot would hide sends committed since, and the daily limits count
        them. The next statement begins anew, and takes its locks before it reads.

        Whatever the session held before is committed with it, even when the invitation
        is then refused: call ``kaleo.invite`` with nothing of your own pending (it
        commits its own work in any case)."""
        scoped = self.db.session()  # the Session behind Flask-SQLAlchemy's scoped proxy
        if scoped.get_bind().dialect.name not in ("mysql", "mariadb"):
            return
        if scoped.in_transaction():
            _commit_keeping_loaded(scoped)

    # -- settings read at use -------------------------------------------------

    @staticmethod
    def default_allocation() -> int:
        return current_config().default_invite_allocation

    # -- users ------------------------------------------------------------------

    def user_id(self, user: U) -> object:
        """``user``'s primary key; a user just added in this transaction (signup) is
        flushed first, so an app can add the user and accept in one commit."""
        state = sa.inspect(user)
        if state.pending:
            self.session.flush()
        if state.identity is None:
            raise ValueError(f"{user!r} is not saved: add it to the session first")
        return state.identity[0]

    def user_email(self, user: U) -> str:
        return str(getattr(user, current_config().user_email_attribute) or "")

    def inviter_label(self, user: U) -> str:
        """How ``user`` appears to the people they invite: the app's display name for
        them (on one line, without bidi controls, at most the column's 254 characters),
        else their address."""
        hook = self.hooks.inviter_name
        name = hook(user) if hook is not None else None
        label = " ".join(name.translate(_BIDI_CONTROLS).split()) if isinstance(name, str) else ""
        return (label or self.user_email(user))[:254]

    def get_user(self, user_id: object) -> U | None:
        """The user with this primary key; None for None (an inviter since deleted)."""
        return None if user_id is None else self.session.get(self.user_model, user_id)

    def find_user(self, email: str) -> U | None:
        """The member whose address is ``email`` (any case, either form of its domain),
        or None: ``lower(<email column>)`` is compared with the address's
        :func:`~flask_kaleo.core.addresses.member_spellings`. An address with a NUL or
        another control character is nobody's: None, without asking."""
        if _CONTROL.search(email):
            return None
        if self.hooks.find_member is not None:
            return self.hooks.find_member(email)
        column = getattr(self.user_model, current_config().user_email_attribute)
        spellings = member_spellings(email)
        lowered = exact(sa.func.lower(column))
        condition = lowered == spellings[0] if len(spellings) == 1 else lowered.in_(spellings)
        statement = sa.select(self.user_model).where(condition)
        return self.session.scalars(statement.limit(1)).first()

    def is_member(self, address: Address) -> bool:
        """Whether a member owns ``address`` (as :meth:`find_user` finds one), reading only
        their primary key, on the transaction's connection (nothing is flushed for it)."""
        if self.hooks.find_member is not None or _CONTROL.search(address.email):
            return self.find_user(address.email) is not None
        attribute = current_config().user_email_attribute
        if attribute not in self._member_checks:  # built once per email attribute
            mapper = sa.inspect(self.user_model).mapper
            column = mapper.columns.get(attribute, getattr(self.user_model, attribute))
            spellings = exact(sa.func.lower(column)).in_(sa.bindparam("spellings", expanding=True))
            check = sa.select(mapper.primary_key[0]).where(spellings).limit(1)
            self._member_checks[attribute] = check
        statement = self._member_checks[attribute]
        parameters = {"spellings": member_spellings(address)}
        return self.session.connection().execute(statement, parameters).first() is not None

    def user_by_email_or_id(self, value: str) -> U | None:
        """The user with this email address (any case) or primary key, or None (also
        for a value with a NUL or another control character)."""
        value = value.strip()
        if _CONTROL.search(value):
            return None
        if "@" in value:
            return self.find_user(value)
        column: t.Any = sa.inspect(self.user_model).mapper.primary_key[0]
        try:
            key = column.type.python_type(value)
        except NotImplementedError:  # a custom type: let the database compare
            key = value
        except (TypeError, ValueError):  # "abc" is nobody's integer id
            return None
        if not key_fits(column, key):
            return None
        return self.get_user(key)

    # -- invitations and stats ----------------------------------------------------

    def invitations_remaining(self, user: U) -> int:
        """How many invitations ``user`` may still send; -1 means unlimited."""
        if not signed_in(user):
            return 0
        return self.counters.remaining(self.session, self.user_id(user), self.default_allocation())

    def stat_for(self, user: U) -> InvitationStatMixin:
        """``user``'s stat row, or an unsaved one with the default allocation."""
        user_id = self.user_id(user)
        stat: InvitationStatMixin | None = self.session.get(self.InvitationStat, user_id)
        if stat is None:
            stat = self.InvitationStat(
                user_id=user_id,
                invites_allocated=self.default_allocation(),
                invites_sent=0,
                invites_accepted=0,
            )
        return stat

    def sent_invitations(self, user: U) -> list[JoinInvitationMixin]:
        """Everything ``user`` has sent, oldest first, in one query."""
        if not signed_in(user):
            return []
        model = self.JoinInvitation
        statement = (
            sa.select(model)
            .where(model.from_user_id == self.user_id(user))
            .order_by(model.sent_at, model.id)
        )
        return list(self.session.scalars(statement))

    def invitation(self, invitation_id: int) -> JoinInvitationMixin | None:
        return self.session.get(self.JoinInvitation, invitation_id)

    def invitation_by_digest(self, digest: str) -> JoinInvitationMixin | None:
        """The invitation whose current token has this digest, in any state."""
        model = self.JoinInvitation
        return self.session.scalars(sa.select(model).where(model.token_digest == digest)).first()

    def invitation_by_token(self, token: str) -> JoinInvitationMixin | None:
        return self.invitation_by_digest(token_digest(token))

    def was_replaced(self, token: str) -> bool:
        """Whether ``token`` is the old token of an invitation that was resent.

        Only the token the latest resend replaced is remembered; an older one is unknown.
        """
        model = self.JoinInvitation
        statement = sa.select(model.id).where(model.replaced_token_digest == token_digest(token))
        return self.session.execute(statement.limit(1)).first() is not None
