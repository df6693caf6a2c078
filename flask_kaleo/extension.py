"""The :class:`Kaleo` extension: settings, models, and the Python API."""

from __future__ import annotations

import datetime as dt
import functools
import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask import has_request_context
from flask import render_template
from flask import session as flask_session
from sqlalchemy.exc import IntegrityError

from . import lifecycle
from . import signals
from .allocation import MAX_AMOUNT
from .allocation import Counters
from .exceptions import AlreadyInvited
from .exceptions import AlreadyMember
from .exceptions import CannotInviteSelf
from .exceptions import ConfigurationError
from .exceptions import InvitationAlreadyUsed
from .exceptions import InvitationExpired
from .exceptions import InvitationNotPending
from .exceptions import InvitationRevoked
from .exceptions import InvitingNotAllowed
from .exceptions import MessageTooLong
from .exceptions import NotEnoughInvitations
from .forms import InviteForm
from .forms import clean_address
from .mail import send_invitation
from .models import InvitationStatMixin
from .models import JoinInvitationMixin
from .models import Status
from .models import build_model
from .models import leave_room_for_hot_updates
from .models import new_token
from .models import normalise_email
from .models import token_digest
from .models import utcnow
from .settings import DEFAULT_SETTINGS
from .settings import check_settings
from .settings import is_whole_number

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
UserHook = t.Callable[[t.Any], bool]

SESSION_KEY = "kaleo_invitation"
"""Where the accept link remembers the invitation's token digest in the session."""


def _signed_in(user: t.Any) -> bool:
    """False for None and for Flask-Login's anonymous user."""
    return user is not None and getattr(user, "is_authenticated", True) is not False


def _flask_login_user() -> t.Any:
    from flask_login import current_user

    # The user itself, not the proxy: signal receivers may keep it past the request.
    user = current_user._get_current_object()
    return user if user.is_authenticated else None


class Kaleo:
    """User-to-user join invitations for a Flask app.

    :param app: the app, or None to call :meth:`init_app` later.
    :param db: the app's ``flask_sqlalchemy.SQLAlchemy``; the two models are defined on it.
    :param user_model: the app's user model; its table and primary-key type are used
        for the foreign keys.
    :param join_invitation_model: a subclass of
        :class:`~flask_kaleo.models.JoinInvitationMixin` to use instead of the default.
    :param invitation_stat_model: likewise, of
        :class:`~flask_kaleo.models.InvitationStatMixin`.
    :param current_user: a callable returning the signed-in user or None; by default
        Flask-Login's ``current_user``.
    :param can_invite: who may invite at all (besides having invitations left); by
        default anyone signed in. See :meth:`invite_permission`.
    :param can_manage: who may use the staff endpoints; by default nobody. See
        :meth:`manage_permission`.
    :param find_user: a callable ``(email) -> user or None`` finding a member by address
        in any case; by default ``lower(<email column>) = :address``. An app whose email
        column compares without case (a MariaDB ``_ci`` collation) can give a plain
        indexed equality instead.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        db: t.Any = None,
        user_model: type | None = None,
        join_invitation_model: type | None = None,
        invitation_stat_model: type | None = None,
        current_user: t.Callable[[], t.Any] | None = None,
        can_invite: UserHook | None = None,
        can_manage: UserHook | None = None,
        find_user: t.Callable[[str], t.Any] | None = None,
    ) -> None:
        if db is None:
            raise ConfigurationError(
                "Kaleo needs the app's Flask-SQLAlchemy object: Kaleo(db=db, user_model=User)"
            )
        if user_model is None:
            raise ConfigurationError(
                "Kaleo needs the app's user model: Kaleo(db=db, user_model=User)"
            )
        self.db = db
        self.user_model = user_model
        self.JoinInvitation: t.Any = join_invitation_model or build_model(
            JoinInvitationMixin, db.Model, user_model, "JoinInvitation"
        )
        self.InvitationStat: t.Any = invitation_stat_model or build_model(
            InvitationStatMixin, db.Model, user_model, "InvitationStat"
        )
        leave_room_for_hot_updates(t.cast(t.Any, self.InvitationStat).__table__)
        for model, mixin in (
            (self.JoinInvitation, JoinInvitationMixin),
            (self.InvitationStat, InvitationStatMixin),
        ):
            if not issubclass(model, mixin):
                raise ConfigurationError(f"{model.__name__} must subclass {mixin.__name__}")
        self.counters = Counters(self.InvitationStat, user_model)
        self._current_user = current_user or _flask_login_user
        self._can_invite: UserHook = can_invite or (lambda user: True)
        self._can_manage: UserHook = can_manage or (lambda user: False)
        self._find_user = find_user or self._find_user_by_lower_email
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Check the settings, then register the CLI and the template helpers."""
        if "kaleo" in app.extensions:
            raise RuntimeError("flask-kaleo is already set up on this app")
        for key, value in DEFAULT_SETTINGS.items():
            app.config.setdefault(key, value)
        check_settings(app.config, self.user_model)
        app.extensions["kaleo"] = self
        app.jinja_env.globals["kaleo_extension"] = self
        cli_name = app.config["KALEO_CLI_NAME"]
        if cli_name:
            from .cli import kaleo_cli

            app.cli.add_command(kaleo_cli, name=cli_name)

    # -- hooks ---------------------------------------------------------------

    def current_user(self) -> t.Any:
        """The signed-in user, or None."""
        return self._current_user()

    def invite_permission(self, hook: UserHook) -> UserHook:
        """Decorator that sets who may invite at all (besides having invitations left)."""
        self._can_invite = hook
        return hook

    def may_invite(self, user: t.Any) -> bool:
        """Whether the invite permission hook lets ``user`` invite at all."""
        return _signed_in(user) and bool(self._can_invite(user))

    def can_invite(self, user: t.Any) -> bool:
        """Whether ``user`` may send an invitation now: the hook agrees and some are left."""
        if not self.may_invite(user):
            return False
        return self.invitations_remaining(user) != 0

    def manage_permission(self, hook: UserHook) -> UserHook:
        """Decorator that sets who may use the staff endpoints (by default nobody).

        Put ``@kaleo.manage_permission`` on a function that takes the user and returns
        True for those who may manage invitations.
        """
        self._can_manage = hook
        return hook

    def can_manage(self, user: t.Any) -> bool:
        """Whether ``user`` may use the staff endpoints."""
        return _signed_in(user) and bool(self._can_manage(user))

    def csrf_token(self) -> str:
        """A CSRF token for the small resend/revoke forms of the sent list."""
        from flask_wtf.csrf import generate_csrf

        return t.cast(str, generate_csrf())

    def new_invite_form(self) -> InviteForm:
        """An empty invite form (for the ``invite_form`` macro)."""
        return InviteForm(formdata=None)

    # -- reading -------------------------------------------------------------

    def user_id(self, user: t.Any) -> t.Any:
        """``user``'s primary key; a user just added in this transaction (signup) is
        flushed first, so an app can add the user and accept in one commit."""
        state = sa.inspect(user)
        if state.pending:
            self.db.session.flush()
        if state.identity is None:
            raise ValueError(f"{user!r} is not saved: add it to the session first")
        return state.identity[0]

    def user_email(self, user: t.Any) -> str:
        return str(getattr(user, current_app.config["KALEO_USER_EMAIL_ATTRIBUTE"]) or "")

    def invitations_remaining(self, user: t.Any) -> int:
        """How many invitations ``user`` may still send; -1 means unlimited."""
        if not _signed_in(user):
            return 0
        return self.counters.remaining(
            self.db.session, self.user_id(user), self._default_allocation()
        )

    def stat_for(self, user: t.Any) -> t.Any:
        """``user``'s stat row, or an unsaved one with the default allocation."""
        stat = self.db.session.get(self.InvitationStat, self.user_id(user))
        if stat is None:
            stat = self.InvitationStat(
                user_id=self.user_id(user),
                invites_allocated=self._default_allocation(),
                invites_sent=0,
                invites_accepted=0,
            )
        return stat

    def sent_invitations(self, user: t.Any) -> list[t.Any]:
        """Everything ``user`` has sent, oldest first, in one query."""
        if not _signed_in(user):
            return []
        model = self.JoinInvitation
        statement = (
            sa.select(model)
            .where(model.from_user_id == self.user_id(user))
            .order_by(model.sent_at, model.id)
        )
        return list(self.db.session.scalars(statement))

    def find_user(self, email: str) -> t.Any:
        """The member whose address is ``email`` (any case), or None."""
        return self._find_user(email)

    def _find_user_by_lower_email(self, email: str) -> t.Any:
        column = getattr(self.user_model, current_app.config["KALEO_USER_EMAIL_ATTRIBUTE"])
        statement: t.Any = sa.select(self.user_model).where(
            sa.func.lower(column) == normalise_email(email)
        )
        return self.db.session.scalars(statement.limit(1)).first()

    def lookup_user(self, value: str) -> t.Any:
        """The user with this email address (any case) or primary key, or None."""
        value = value.strip()
        if "@" in value:
            return self.find_user(value)
        column: t.Any = sa.inspect(self.user_model).mapper.primary_key[0]
        try:
            key = column.type.python_type(value)
        except NotImplementedError:  # a custom type: let the database compare
            key = value
        except (TypeError, ValueError):  # "abc" is nobody's integer id
            return None
        return self.db.session.get(self.user_model, key)

    def find_invitation(self, token: str) -> t.Any:
        """The invitation behind an accept token, in any state, or None."""
        model = self.JoinInvitation
        statement = sa.select(model).where(model.token_digest == token_digest(token))
        return self.db.session.scalars(statement).first()

    # -- inviting ------------------------------------------------------------

    def invite(
        self,
        from_user: t.Any,
        email: str,
        message: str | None = None,
        *,
        force: bool = False,
        **fields: t.Any,
    ) -> t.Any:
        """Send an invitation from ``from_user`` to ``email`` and commit it.

        ``fields`` fill the extra columns of an app's own ``join_invitation_model``.

        The allocation is spent and the invitation written in one transaction; the
        email is sent before it commits, and any failure (including the mail server's)
        rolls everything back, so a refused or undelivered invitation costs nothing.
        Raises an :class:`~flask_kaleo.exceptions.InvitationRefused` subclass.

        With ``force`` (staff sending on someone's behalf) it is sent even when no
        invitation is left: the allocation grows by the one it records.
        """
        address = clean_address(email)
        key = normalise_email(address)
        limit = current_app.config["KALEO_MESSAGE_MAX_LENGTH"]
        message = (message or "").strip() or None
        if message is not None and len(message) > limit:
            raise MessageTooLong(f"Keep the message under {limit} characters.")
        if not self.may_invite(from_user):
            raise InvitingNotAllowed("You are not allowed to send invitations.")
        if key == normalise_email(self.user_email(from_user)):
            raise CannotInviteSelf("You cannot invite yourself.")
        if self.find_user(address) is not None:
            raise AlreadyMember(f"{address} is already a member.")

        session = self.db.session
        inviter_id = self.user_id(from_user)
        already_invited = AlreadyInvited(f"You have already invited {address}.")
        try:
            self._release_expired_pending(inviter_id, key, already_invited)
            if force:
                self.counters.spend_beyond(session, inviter_id, self._default_allocation())
            elif not self.counters.spend(session, inviter_id, self._default_allocation()):
                raise NotEnoughInvitations("You have no invitations left.")
            invitation = self._new_invitation(inviter_id, address, key, message, fields)
            session.add(invitation)
            try:
                session.flush()
            except IntegrityError as error:
                if "pending" in str(error.orig):  # the one-pending-invitation constraint
                    raise already_invited from None
                raise
            send_invitation(invitation, inviter_name=self.user_email(from_user))
            session.commit()
        except BaseException:
            session.rollback()
            raise
        signals.invite_sent.send(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            invitation=invitation,
            inviter=from_user,
        )
        return invitation

    def _release_expired_pending(
        self, inviter_id: t.Any, key: str, already_invited: AlreadyInvited
    ) -> None:
        """Refuse a second pending invitation; free the slot of an expired one.

        A plain read, then an UPDATE by primary key only when needed: no range locks,
        so two inviters of one address cannot deadlock on MariaDB.
        """
        model = self.JoinInvitation
        current = self.db.session.execute(
            sa.select(model.id, model.expires_at).where(
                model.from_user_id == inviter_id, model.pending_email_key == key
            )
        ).first()
        if current is None:
            return
        if current.expires_at > utcnow():
            raise already_invited
        self.db.session.execute(
            sa.update(model)
            .where(model.id == current.id, model.pending_email_key.is_not(None))
            .values(pending_email_key=None)
        )

    def _new_invitation(
        self,
        inviter_id: t.Any,
        address: str,
        key: str,
        message: str | None,
        fields: dict[str, t.Any],
    ) -> t.Any:
        token, digest = new_token()
        now = utcnow()
        hours = current_app.config["KALEO_DEFAULT_EXPIRATION"]
        invitation = self.JoinInvitation(
            **fields,
            from_user_id=inviter_id,
            email=address,
            email_key=key,
            pending_email_key=key,
            message=message,
            sent_at=now,
            expires_at=now + dt.timedelta(hours=hours),
            status=Status.SENT.value,
            token_digest=digest,
        )
        invitation.token = token
        return invitation

    # -- accepting -----------------------------------------------------------

    def remember(self, invitation: t.Any) -> None:
        """Remember ``invitation`` in the visitor's session (the accept link does this)."""
        flask_session[SESSION_KEY] = invitation.token_digest

    def pending_invitation(self) -> t.Any:
        """The invitation the accept link remembered in this session, while it is still
        pending; otherwise None."""
        if not has_request_context():
            return None
        digest = flask_session.get(SESSION_KEY)
        if not isinstance(digest, str):
            return None
        model = self.JoinInvitation
        invitation = self.db.session.scalars(
            sa.select(model).where(model.token_digest == digest)
        ).first()
        if invitation is None or not invitation.is_pending:
            return None
        return invitation

    def accept(self, invitation: t.Any, user: t.Any) -> t.Any:
        """Mark ``invitation`` accepted by ``user``, in the caller's transaction.

        Single-use: of two concurrent calls, one wins and the other raises an
        :class:`~flask_kaleo.exceptions.InvitationNotPending`. Other inviters'
        invitations to the same address become "joined independently".
        """
        model = self.JoinInvitation
        session = self.db.session
        user_id = self.user_id(user)
        result = session.execute(
            sa.update(model)
            .where(
                model.id == invitation.id,
                model.status == Status.SENT.value,
                model.expires_at > utcnow(),
            )
            .values(status=Status.ACCEPTED.value, to_user_id=user_id, pending_email_key=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            # A locking read sees the winner's committed row; a plain one would see this
            # transaction's snapshot on MariaDB (REPEATABLE READ) and call it expired.
            session.refresh(invitation, with_for_update={"read": True})
            raise self._why_not_pending(invitation)
        session.refresh(invitation)
        self.counters.count_accepted(session, invitation.from_user_id, self._default_allocation())
        if has_request_context() and flask_session.get(SESSION_KEY) == invitation.token_digest:
            flask_session.pop(SESSION_KEY)
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        inviter = session.get(self.user_model, invitation.from_user_id)
        signals.invite_accepted.send(app, invitation=invitation, inviter=inviter, invitee=user)
        self._mark_joined(user, invitation.email_key, exclude_id=invitation.id)
        return invitation

    @staticmethod
    def _why_not_pending(invitation: t.Any) -> InvitationNotPending:
        if invitation.status == Status.REVOKED.value:
            return InvitationRevoked("This invitation has been withdrawn.")
        if invitation.status == Status.SENT.value:
            return InvitationExpired("This invitation has expired.")
        return InvitationAlreadyUsed("This invitation has already been used.")

    def check_pending(self, invitation: t.Any) -> None:
        """Raise the reason ``invitation`` can no longer be accepted, if any."""
        if not invitation.is_pending:
            raise self._why_not_pending(invitation)

    def process_independent_joins(self, user: t.Any, email: str) -> list[t.Any]:
        """``user`` proved ``email`` is theirs (they confirmed it): every unaccepted,
        unrevoked invitation to it, expired ones too, becomes "joined independently".

        Runs in the caller's transaction; returns the invitations it changed.
        """
        return self._mark_joined(user, normalise_email(email), exclude_id=None)

    def _mark_joined(self, user: t.Any, key: str, exclude_id: t.Any) -> list[t.Any]:
        model = self.JoinInvitation
        session = self.db.session
        statement = sa.select(model).where(
            model.email_key == key, model.status == Status.SENT.value
        )
        if exclude_id is not None:
            statement = statement.where(model.id != exclude_id)
        invitations = list(session.scalars(statement))
        if not invitations:
            return []
        session.execute(
            sa.update(model)
            .where(model.id.in_([i.id for i in invitations]), model.status == Status.SENT.value)
            .values(
                status=Status.JOINED_INDEPENDENTLY.value,
                to_user_id=self.user_id(user),
                pending_email_key=None,
            )
            .execution_options(synchronize_session=False)
        )
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        for invitation in invitations:
            session.refresh(invitation)
            inviter = session.get(self.user_model, invitation.from_user_id)
            signals.joined_independently.send(
                app, invitation=invitation, inviter=inviter, invitee=user
            )
        return invitations

    def invitation_required(self, view: F) -> F:
        """Guard an app's signup view: with ``KALEO_INVITE_ONLY`` on, only visitors who
        followed a valid invitation link get through; others see a 403 page."""

        @functools.wraps(view)
        def guarded(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if current_app.config["KALEO_INVITE_ONLY"] and self.pending_invitation() is None:
                return render_template("kaleo/invite_only.html"), 403
            return view(*args, **kwargs)

        return t.cast(F, guarded)

    # -- after sending (see flask_kaleo.lifecycle) ----------------------------

    def resend(self, invitation: t.Any) -> t.Any:
        """Email a pending invitation again under a new link; spends nothing."""
        return lifecycle.resend(self, invitation)

    def revoke(self, invitation: t.Any) -> t.Any:
        """Withdraw an unaccepted invitation and give it back to the inviter."""
        return lifecycle.revoke(self, invitation)

    def stats(self, user: t.Any = None) -> lifecycle.InvitationStats:
        """Sent, accepted, joined, pending, expired and revoked counts (all, or one
        inviter's), in one aggregate query."""
        return lifecycle.stats(self, None if user is None else self.user_id(user))

    def purge_expired(self, older_than: dt.timedelta, *, dry_run: bool = False) -> int:
        """Delete invitations that expired more than ``older_than`` ago."""
        return lifecycle.purge_expired(self, older_than, dry_run=dry_run)

    # -- staff operations (set-based; each commits) --------------------------

    def add_invites(self, amount: int, *, everyone: bool = False, user: t.Any = None) -> int:
        """Add ``amount`` invitations to each user with none left (with ``everyone``,
        to every user with a finite allocation). Returns the number of users changed."""
        return self._bulk(self.counters.add, amount, everyone=everyone, user=user)

    def topoff_invites(self, amount: int, *, user: t.Any = None) -> int:
        """Make sure every user (or one) has at least ``amount`` invitations left."""
        return self._bulk(self.counters.top_off, amount, user=user)

    def make_unlimited(self, *, user: t.Any = None) -> int:
        """Give every user (or one) unlimited invitations."""
        return self._bulk(self.counters.make_unlimited, None, user=user)

    def _bulk(self, operation: t.Callable[..., int], amount: int | None, **options: t.Any) -> int:
        user = options.pop("user")
        options["user_id"] = None if user is None else self.user_id(user)
        arguments: tuple[t.Any, ...] = ()
        if amount is not None:
            if not is_whole_number(amount) or not 0 <= amount <= MAX_AMOUNT:
                raise ValueError(
                    f"amount must be an integer from 0 to {MAX_AMOUNT:,}, not {amount!r}"
                )
            arguments = (amount, self._default_allocation())
        session = self.db.session
        try:
            changed = operation(session, *arguments, **options)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return changed

    def _default_allocation(self) -> int:
        return int(current_app.config["KALEO_DEFAULT_INVITE_ALLOCATION"])


def get_kaleo() -> Kaleo:
    """The :class:`Kaleo` set up on the current app."""
    try:
        return t.cast(Kaleo, current_app.extensions["kaleo"])
    except KeyError:
        raise RuntimeError(
            "flask-kaleo is not set up on this app: did you forget kaleo.init_app(app)?"
        ) from None
