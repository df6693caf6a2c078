"""The :class:`Kaleo` extension: the one public object, over the service modules.

Each method delegates to the module of ``core`` (or ``web``, for the visitor's
session) that owns its concern; the app's hooks are held in one
:class:`~flask_kaleo.core.hooks.Hooks`. None of them imports this module.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import typing as t

from flask import Flask

from . import i18n
from .cli import kaleo_cli
from .config import DEFAULT_SETTINGS
from .config import check_settings
from .contrib.alembic import register_with_flask_migrate
from .core import accepting
from .core import grants
from .core import inviting
from .core import lifecycle
from .core import links
from .core import reminders
from .core import resending
from .core.expiry import ExpiresIn
from .core.hooks import Enqueue
from .core.hooks import Hooks
from .core.hooks import UserHook
from .core.lifecycle import InvitationReport
from .core.reminders import RemindReport
from .core.sending import Delivery
from .core.store import Store
from .core.sweep import SweepReport
from .delivery.transport import Transport
from .exceptions import ConfigurationError
from .models import AddressLockMixin
from .models import InvitationLinkMixin
from .models import InvitationSendMixin
from .models import InvitationStatMixin
from .models import JoinInvitationMixin
from .models import LinkUseMixin
from .models import build_model
from .models import shared_model
from .web import session as visitor
from .web.forms import csrf_token
from .web.forms import forget_typed
from .web.forms import new_invite_form
from .web.forms import row_outcome
from .web.pages import check_page_targets_once
from .web.text import invitations_left
from .web.text import state_label

U = t.TypeVar("U")
F = t.TypeVar("F", bound=t.Callable[..., t.Any])


class Kaleo(t.Generic[U]):
    """User-to-user join invitations for a Flask app.

    ``Kaleo(db=db, user_model=User)`` is a ``Kaleo[User]``: the users its methods take
    and return are typed as the app's own model.

    :param app: the app, or None to call :meth:`init_app` later.
    :param db: the app's ``flask_sqlalchemy.SQLAlchemy``; the four models are defined on it.
    :param user_model: the app's user model; its table and primary-key type are used
        for the foreign keys.
    :param join_invitation_model: a subclass of
        :class:`~flask_kaleo.JoinInvitationMixin` to use instead of the default.
    :param invitation_stat_model: likewise, of
        :class:`~flask_kaleo.InvitationStatMixin`.

    The app's hooks are set with decorators, each once: :meth:`current_user_loader`,
    :meth:`invite_permission`, :meth:`manage_permission`, :meth:`member_loader`,
    :meth:`inviter_name`, :meth:`transport` and :meth:`delivery_queue`.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        db: t.Any = None,
        user_model: type[U] | None = None,
        join_invitation_model: type[JoinInvitationMixin] | None = None,
        invitation_stat_model: type[InvitationStatMixin] | None = None,
    ) -> None:
        if db is None:
            raise ConfigurationError(
                "Kaleo needs the app's Flask-SQLAlchemy object: Kaleo(db=db, user_model=User)"
            )
        if user_model is None:
            raise ConfigurationError(
                "Kaleo needs the app's user model: Kaleo(db=db, user_model=User)"
            )
        invitation_model = join_invitation_model or build_model(
            JoinInvitationMixin, db.Model, user_model, "JoinInvitation"
        )
        stat_model = invitation_stat_model or build_model(
            InvitationStatMixin, db.Model, user_model, "InvitationStat"
        )
        for model, mixin in (
            (invitation_model, JoinInvitationMixin),
            (stat_model, InvitationStatMixin),
        ):
            if not issubclass(model, mixin):
                raise ConfigurationError(f"{model.__name__} must subclass {mixin.__name__}")
        invitation_table = t.cast(t.Any, invitation_model).__table__.name
        send_model = shared_model(
            InvitationSendMixin,
            db.Model,
            user_model,
            "InvitationSend",
            __kaleo_invitation_table__=invitation_table,
        )
        lock_model = shared_model(AddressLockMixin, db.Model, user_model, "AddressLock")
        link_model = shared_model(InvitationLinkMixin, db.Model, user_model, "InvitationLink")
        link_use_model = shared_model(
            LinkUseMixin,
            db.Model,
            user_model,
            "LinkUse",
            __kaleo_link_table__=t.cast(t.Any, link_model).__table__.name,
        )
        self.db = db
        self.user_model = user_model
        self.JoinInvitation: t.Any = invitation_model
        self.InvitationStat: t.Any = stat_model
        self.InvitationSend: t.Any = send_model
        self.AddressLock: t.Any = lock_model
        self.InvitationLink: t.Any = link_model
        self.LinkUse: t.Any = link_use_model
        self.hooks: Hooks[U] = Hooks()
        self.store: Store[U] = Store(
            db,
            user_model,
            invitation_model,
            stat_model,
            self.hooks,
            send_model,
            lock_model,
            link_model=link_model,
            link_use_model=link_use_model,
        )
        self.delivery = Delivery(self.store, self.hooks)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Check the settings, then register the CLI, the template helpers and (for
        Flask-Migrate) :func:`~flask_kaleo.contrib.alembic.render_item`."""
        if "kaleo" in app.extensions:
            raise RuntimeError("flask-kaleo is already set up on this app")
        for key, value in DEFAULT_SETTINGS.items():
            app.config.setdefault(key, value)
        check_settings(app.config, self.user_model, trusts_request_host=app.debug or app.testing)
        app.extensions["kaleo"] = self
        app.jinja_env.globals.update(
            kaleo_extension=self, kaleo_invite_form=new_invite_form, kaleo_csrf_token=csrf_token
        )
        app.jinja_env.filters.update(
            invitations_left=invitations_left, kaleo_state_label=state_label
        )
        if app.config["KALEO_MAIL_DEBUG"]:
            app.logger.warning(
                "KALEO_MAIL_DEBUG is on: invitation emails are written to this log, never"
                " sent. Turn it off in production."
            )
        check_page_targets_once(app)
        i18n.setup_templates(app)
        app.jinja_env.globals.update(kaleo_row_outcome=row_outcome)
        if importlib.util.find_spec("flask_login") is not None:
            from flask_login import user_logged_out

            user_logged_out.connect(visitor.forget, app)
            user_logged_out.connect(forget_typed, app)
        cli_name = app.config["KALEO_CLI_NAME"]
        if cli_name:
            app.cli.add_command(kaleo_cli, name=cli_name)
        if app.config["KALEO_MIGRATE_RENDER_ITEM"]:
            register_with_flask_migrate(app)

    # -- the app's hooks (each set by its decorator, held in ``self.hooks``) -----

    def current_user_loader(self, hook: t.Callable[[], U | None]) -> t.Callable[[], U | None]:
        """Decorator that sets how to find the signed-in user: ``hook()`` returns the
        user or None. By default Flask-Login's ``current_user``."""
        self.hooks.current_user = hook
        return hook

    def invite_permission(self, hook: UserHook[U]) -> UserHook[U]:
        """Decorator that sets who may invite at all (besides having invitations left);
        by default anyone signed in."""
        self.hooks.invite_permission = hook
        return hook

    def manage_permission(self, hook: UserHook[U]) -> UserHook[U]:
        """Decorator that sets who may use the staff endpoints (by default nobody)."""
        self.hooks.manage_permission = hook
        return hook

    def member_loader(self, hook: t.Callable[[str], U | None]) -> t.Callable[[str], U | None]:
        """Decorator that sets how the member who owns an address is found:
        ``hook(canonical address)`` returns the user or None. By default
        ``lower(<email column>)`` is compared with the address's
        :func:`~flask_kaleo.core.addresses.member_spellings` (see :doc:`databases`)."""
        self.hooks.find_member = hook
        return hook

    def inviter_name(self, hook: t.Callable[[U], str | None]) -> t.Callable[[U], str | None]:
        """Decorator that sets how an inviter appears to the people they invite (the
        email's subject and text, the signup page): ``hook(user)`` returns a display
        name, or None for the address. Kept on the invitation as its ``inviter_label``."""
        self.hooks.inviter_name = hook
        return hook

    def transport(self, transport: Transport) -> Transport:
        """Decorator that sets how emails leave: ``transport(email, timeout)`` gets an
        :class:`~flask_kaleo.delivery.transport.OutgoingEmail` and must deliver it within
        ``timeout`` seconds per network operation, or raise
        :class:`~flask_kaleo.DeliveryError` (``permanent=True`` when retrying cannot
        help). By default Flask-Mail's SMTP settings, with that timeout."""
        self.hooks.transport = transport
        return transport

    def delivery_queue(self, enqueue: Enqueue) -> Enqueue:
        """Decorator that sets how ``KALEO_DELIVERY = "queue"`` queues a delivery:
        ``enqueue(invitation_id)`` hands the id to any queue, whose worker calls
        :meth:`deliver` with it (and retries while that raises)."""
        self.hooks.delivery_queue = enqueue
        return enqueue

    # -- who may do what --------------------------------------------------------

    def current_user(self) -> U | None:
        """The signed-in user, or None."""
        return self.hooks.current_user()

    def has_invite_permission(self, user: U | None) -> bool:
        """Whether the invite permission lets ``user`` invite at all."""
        return self.hooks.has_invite_permission(user)

    def can_invite_now(self, user: U | None) -> bool:
        """Whether ``user`` may send an invitation now: permitted, and some are left."""
        return self.has_invite_permission(user) and self.invitations_remaining(user) != 0

    def has_manage_permission(self, user: U | None) -> bool:
        """Whether ``user`` may use the staff endpoints."""
        return self.hooks.has_manage_permission(user)

    # -- reading --------------------------------------------------------------

    def invitations_remaining(self, user: U | None) -> int:
        """How many invitations ``user`` may still send; -1 means unlimited."""
        return 0 if user is None else self.store.invitations_remaining(user)

    def stat_for(self, user: U) -> InvitationStatMixin:
        """``user``'s stat row, or an unsaved one with the default allocation."""
        return self.store.stat_for(user)

    def sent_invitations(self, user: U | None) -> list[JoinInvitationMixin]:
        """Everything ``user`` has sent, oldest first, in one query."""
        return [] if user is None else self.store.sent_invitations(user)

    def find_user(self, email: str) -> U | None:
        """The member whose address is ``email`` (any case), or None."""
        return self.store.find_user(email)

    def user_by_email_or_id(self, value: str) -> U | None:
        """The user with this email address (any case) or primary key, or None."""
        return self.store.user_by_email_or_id(value)

    def report(self, user: U | None = None) -> InvitationReport:
        """How many invitations are sent, accepted, joined, pending, expired and
        revoked (all, or one inviter's), in one aggregate query."""
        return lifecycle.report(self.store, None if user is None else self.store.user_id(user))

    # -- inviting and accepting -----------------------------------------------

    def invite(
        self,
        from_user: U,
        email: str,
        message: str | None = None,
        *,
        force: bool = False,
        send: bool = True,
        expires_in: ExpiresIn = None,
        locale: str | None = None,
        **fields: t.Any,
    ) -> JoinInvitationMixin:
        """Send an invitation from ``from_user`` to ``email``: spent and stored in one
        commit, then delivered as ``KALEO_DELIVERY`` says (:doc:`delivery`). ``fields``
        fill an app model's extra columns; ``force`` sends even when none is left, but
        never beyond the daily limits. ``send=False`` mails nothing and returns the
        invitation with its ``accept_url``, once; ``expires_in`` (a ``timedelta``, or
        :data:`~flask_kaleo.NEVER`) replaces ``KALEO_DEFAULT_EXPIRATION`` within the
        bounds (:doc:`expiry`). ``locale`` (``"fr"``, ``"pt_BR"``) is the language of
        the email; by default the request's, with Flask-Babel (:doc:`i18n`). Raises an
        :class:`~flask_kaleo.exceptions.InvitationRefused` subclass. On MariaDB/MySQL
        whatever the session held before is committed first (see :doc:`security`)."""
        return inviting.invite(
            self.store,
            self.hooks,
            self.delivery,
            from_user,
            email,
            message,
            force=force,
            fields={**fields, "locale": i18n.clean_locale(locale) or i18n.request_locale()},
            send=send,
            expires_in=expires_in,
        )

    def pending_invitation(self) -> JoinInvitationMixin | InvitationLinkMixin | None:
        """The invitation the accept link remembered in this session, while it is still
        pending, or the shareable link the join link remembered, while someone may
        still join through it; otherwise None. Either can be given to :meth:`accept`."""
        return visitor.pending_invitation(self.store)

    @t.overload
    def signup_email(self, value: None = None) -> str | None: ...
    @t.overload
    def signup_email(self, value: str) -> str: ...
    def signup_email(self, value: str | None = None) -> str | None:
        """The invited address to prefill (no ``value``), or the address the form sent,
        checked against it with ``KALEO_REQUIRE_INVITED_EMAIL`` (:doc:`accepting`)."""
        if value is None:
            return visitor.signup_email(self.store)
        return visitor.signup_email(self.store, value)

    @t.overload
    def accept(self, invitation: JoinInvitationMixin, user: U) -> JoinInvitationMixin: ...
    @t.overload
    def accept(self, invitation: InvitationLinkMixin, user: U) -> InvitationLinkMixin: ...
    def accept(
        self, invitation: JoinInvitationMixin | InvitationLinkMixin, user: U
    ) -> JoinInvitationMixin | InvitationLinkMixin:
        """Mark ``invitation`` accepted by ``user``, in the caller's transaction:
        single-use, or an :class:`~flask_kaleo.exceptions.InvitationNotPending`
        (:doc:`accepting` says what else it settles). Given a shareable link, take one
        of its uses for ``user`` instead (:doc:`links`)."""
        accepted = accepting.accept(self.store, invitation, user)
        visitor.forget_if(accepted)
        return accepted

    def process_independent_joins(self, user: U, email: str) -> list[JoinInvitationMixin]:
        """``user`` confirmed ``email``: other people's open invitations to it (expired
        ones too) become "joined independently", in the caller's transaction."""
        return accepting.process_independent_joins(self.store, user, email)

    def invitation_required(self, view: F) -> F:
        """Guard an app's signup view: a signed-in member goes on to
        ``KALEO_SIGNED_IN_REDIRECT``; with ``KALEO_INVITE_ONLY`` on, only visitors who
        followed a valid invitation link get through; others see a 403 page."""
        return visitor.invitation_required(self.store, view, self.current_user)

    def signup(self, email: str, create_user: t.Callable[[str], U]) -> U:
        """Create the account a signup form asked for and accept the session's
        invitation with it, in one commit: ``create_user(address)`` builds the user
        for the checked address. Raises :class:`~flask_kaleo.InvitationNotPending`
        (answer it with 410) with nothing created (:doc:`accepting`)."""
        return visitor.signup(self.store, email, create_user)

    # -- after sending ----------------------------------------------------------

    def resend(self, invitation: JoinInvitationMixin) -> JoinInvitationMixin:
        """Email a pending invitation again under a new link; spends nothing."""
        return resending.resend(self.store, self.hooks, self.delivery, invitation)

    def extend(
        self,
        invitation: JoinInvitationMixin,
        *,
        by: dt.timedelta | None = None,
        to: dt.datetime | t.Literal["never"] | None = None,
    ) -> JoinInvitationMixin:
        """Move an unanswered invitation's expiry ``by`` a time (from its expiry, or
        from now if it has passed) or ``to`` a moment, keeping its link; an expired one
        comes back to life. Bounded by ``KALEO_MAX_EXPIRATION`` from now unless its
        inviter has the manage permission (:doc:`expiry`)."""
        return lifecycle.extend(self.store, self.hooks, invitation, by=by, to=to)

    def remind(self, after: dt.timedelta) -> RemindReport:
        """Mail one reminder, under a new link, to each pending invitation sent more
        than ``after`` ago and never reminded (``flask kaleo remind``; :doc:`expiry`)."""
        return reminders.remind(self.store, self.hooks, self.delivery, after)

    def revoke(self, invitation: JoinInvitationMixin) -> JoinInvitationMixin:
        """Withdraw an unaccepted invitation and give it back to the inviter."""
        return lifecycle.revoke(self.store, invitation)

    # -- shareable links (:doc:`links`) ----------------------------------------

    def create_link(
        self,
        from_user: U,
        uses: int,
        *,
        expires_in: ExpiresIn = None,
        domain: str | None = None,
    ) -> InvitationLinkMixin:
        """A link up to ``uses`` people can join through, paid for now with ``uses`` of
        ``from_user``'s invitations; committed. Its ``url`` is set on the returned link
        only (just its digest is stored). ``expires_in`` as for invitations
        (:doc:`expiry`); ``domain`` admits only addresses at that domain. Raises an
        :class:`~flask_kaleo.exceptions.InvitationRefused` subclass."""
        return links.create_link(self.store, self.hooks, from_user, uses, expires_in, domain)

    def revoke_link(self, link: InvitationLinkMixin) -> InvitationLinkMixin:
        """Withdraw ``link`` and give its unused uses back to its creator; commits."""
        return links.revoke_link(self.store, link)

    def settle_expired_links(self) -> int:
        """Give back the unused uses of every expired link (each once); returns how
        many went back. ``flask kaleo purge-expired`` runs it."""
        return links.settle_expired(self.store)

    def sent_links(self, user: U | None) -> list[InvitationLinkMixin]:
        """``user``'s links, oldest first, each with ``joiners`` (who joined, oldest
        first), in two queries."""
        return [] if user is None else links.sent_links(self.store, user)

    def link(self, link_id: int) -> InvitationLinkMixin | None:
        """The link with this id, or None."""
        return t.cast(
            InvitationLinkMixin | None, self.store.session.get(self.InvitationLink, link_id)
        )

    def deliver(self, invitation_id: int) -> str:
        """A queue worker's job (in an app context): mint a new link, send, record.
        Returns ``"delivered"``, ``"given back"``, ``"put back"`` or ``"nothing to do"``; raises
        :class:`~flask_kaleo.DeliveryError` for a failure to retry (:doc:`delivery`)."""
        return self.delivery.deliver(invitation_id)

    def deliver_stuck(self, older_than: dt.timedelta | None = None) -> SweepReport:
        """Finish deliveries waiting longer than ``older_than`` (a killed process, a
        lost job); ``flask kaleo deliver`` runs it."""
        return self.delivery.sweep(older_than)

    def purge_expired(self, older_than: dt.timedelta, *, dry_run: bool = False) -> int:
        """Delete invitations that expired more than ``older_than`` ago."""
        return lifecycle.purge_expired(self.store, older_than, dry_run=dry_run)

    # -- allocations (each commits) ---------------------------------------------

    def set_allocation(self, user: U, allocated: int) -> None:
        """Give ``user`` an allocation of ``allocated`` invitations in all (-1:
        unlimited). Raises ValueError for a finite value below what they sent."""
        grants.set_allocation(self.store, user, allocated)

    def add_invites(self, amount: int, *, everyone: bool = False, user: U | None = None) -> int:
        """Add ``amount`` invitations to each user with none left (with ``everyone``,
        to every finite allocation); only to ``user`` if given. Returns the users
        changed."""
        return grants.add_invites(self.store, amount, everyone=everyone, user=user)

    def topoff_invites(self, amount: int, *, user: U | None = None) -> int:
        """Make sure every user (or one) has at least ``amount`` invitations left."""
        return grants.topoff_invites(self.store, amount, user=user)

    def infinite_invites(self, *, user: U | None = None) -> int:
        """Give every user (or one) unlimited invitations."""
        return grants.infinite_invites(self.store, user=user)
