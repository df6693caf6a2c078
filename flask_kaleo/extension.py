"""The :class:`Kaleo` extension: the one public object, over the service modules.

Each method delegates to the module of ``core`` (or ``web``, for the visitor's
session) that owns its concern; the operations after sending, delivery and the
allocations come from :class:`~flask_kaleo.maintenance.Maintenance`. The app's hooks
are held in one :class:`~flask_kaleo.core.hooks.Hooks`, ``kaleo.hooks``, which also
answers who is signed in, who may invite or manage, and which member an address or id
names. None of them imports this module.
"""

from __future__ import annotations

import functools
import typing as t

from flask import Flask
from flask import current_app
from flask_sqlalchemy import SQLAlchemy

from . import i18n
from .cli import kaleo_cli
from .config import configure
from .constants import ExpiresIn
from .contrib.alembic import register_with_flask_migrate
from .core import accepting
from .core import inviting
from .core import lifecycle
from .core import links
from .core import sent
from .core.hooks import HookDecorators
from .core.hooks import Hooks
from .core.lifecycle import InvitationReport
from .core.sending import Delivery
from .core.sent import SentPage
from .core.store import Store
from .core.store import key_fits
from .exceptions import ConfigurationError
from .maintenance import Maintenance
from .models import InvitationLinkMixin
from .models import InvitationStatMixin
from .models import JoinInvitationMixin
from .models import Pending
from .models.mapped import ModelError
from .models.mapped import map_models
from .oversight import Oversight
from .web import session as visitor
from .web.setup import setup_web

U = t.TypeVar("U")
F = t.TypeVar("F", bound=t.Callable[..., object])
M = t.TypeVar("M", JoinInvitationMixin, InvitationLinkMixin)
P = t.TypeVar("P", bound=Pending)


class Kaleo(HookDecorators[U], Maintenance[U], Oversight[U]):
    """User-to-user join invitations for a Flask app.

    ``Kaleo(db=db, user_model=User)`` is a ``Kaleo[User]``: the users its methods take
    and return are typed as the app's own model.

    :param app: the app, or None to call :meth:`init_app` later.
    :param db: the app's ``flask_sqlalchemy.SQLAlchemy``; its models are defined on it.
    :param user_model: the app's user model; its table and primary-key type are used
        for the foreign keys.
    :param join_invitation_model: a subclass of
        :class:`~flask_kaleo.JoinInvitationMixin` to use instead of the default.
    :param invitation_stat_model: likewise, of
        :class:`~flask_kaleo.InvitationStatMixin`.

    The app's hooks are set with decorators, each once: :meth:`current_user_loader`,
    :meth:`invite_permission`, :meth:`manage_permission`, :meth:`member_loader`,
    :meth:`inviter_name`, :meth:`members_in_trouble`, :meth:`transport` and
    :meth:`delivery_queue`.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        db: SQLAlchemy,
        user_model: type[U],
        join_invitation_model: type[JoinInvitationMixin] | None = None,
        invitation_stat_model: type[InvitationStatMixin] | None = None,
    ) -> None:
        if not isinstance(db, SQLAlchemy):
            raise ConfigurationError(
                "Kaleo needs the app's Flask-SQLAlchemy object: Kaleo(db=db, user_model=User),"
                f" not {db!r}"
            )
        if user_model is None:
            raise ConfigurationError(
                "Kaleo needs the app's user model: Kaleo(db=db, user_model=User)"
            )
        try:
            models = map_models(db.Model, user_model, join_invitation_model, invitation_stat_model)
        except ModelError as error:
            raise ConfigurationError(str(error)) from None
        self.db = db
        self.user_model = user_model
        self.JoinInvitation = models.invitation
        self.InvitationStat = models.stat
        self.InvitationSend = models.send
        self.AddressLock = models.lock
        self.InvitationLink = models.link
        self.LinkUse = models.link_use
        self.Referral = models.referral
        self.AuditEntry = models.audit
        self.hooks: Hooks[U] = Hooks()
        self.store: Store[U] = Store(
            db,
            user_model,
            models.invitation,
            models.stat,
            self.hooks,
            models.send,
            models.lock,
            link_model=models.link,
            link_use_model=models.link_use,
            referral_model=models.referral,
            audit_model=models.audit,
        )
        self.hooks._users = self.store
        self.delivery = Delivery(self.store, self.hooks)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Check the settings, then register the CLI, the template helpers and (for
        Flask-Migrate) :func:`~flask_kaleo.contrib.alembic.render_item`."""
        if "kaleo" in app.extensions:
            raise RuntimeError("flask-kaleo is already set up on this app")
        config = configure(app, self.user_model)
        app.extensions["kaleo"] = self
        setup_web(app, self)
        if config.delivery == "log":
            app.before_request(_say_emails_are_logged)
        app.cli.add_command(kaleo_cli, name="kaleo")
        register_with_flask_migrate(app)

    # -- reading --------------------------------------------------------------

    def invitations_remaining(self, user: U | None) -> int:
        """How many invitations ``user`` may still send; -1 means unlimited."""
        return 0 if user is None else self.store.invitations_remaining(user)

    def sent_invitations(self, user: U | None) -> list[JoinInvitationMixin]:
        """Everything ``user`` has sent, oldest first, in one query."""
        return [] if user is None else self.store.sent_invitations(user)

    def sent_page(
        self,
        user: U | None,
        *,
        state: str | None = None,
        before: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> SentPage:
        """One page of ``user``'s sent list, in two statements whatever the history: the
        newest ``limit`` invitations (or those older than the cursor ``before``, or newer
        than ``after``) in ``state`` (None: all), oldest first, with the counts by
        state. A cursor or state that is not one reads the newest page."""
        page = sent.sent_page
        return page(self.store, user, state=state, before=before, after=after, limit=limit)

    def sent_links(self, user: U | None) -> list[InvitationLinkMixin]:
        """``user``'s links, oldest first, each with ``joiners`` (who joined, oldest
        first), in two queries."""
        return [] if user is None else links.sent_links(self.store, user)

    def invitation_by_token(self, token: str) -> JoinInvitationMixin | None:
        """The invitation whose accept URL ends in ``token``, in any state (its
        ``is_pending`` says whether it may still be accepted), or None; the token a
        resend replaced raises :class:`~flask_kaleo.InvitationReplaced`."""
        return accepting.invitation_by_token(self.store, token)

    def link_by_token(self, token: str) -> InvitationLinkMixin | None:
        """The link whose join URL ends in ``token``, in any state (see its
        :attr:`~flask_kaleo.InvitationLinkMixin.is_pending`), or None."""
        return links.link_by_token(self.store, token)

    def allocation(self, user: U) -> InvitationStatMixin:
        """``user``'s allocation: ``invites_allocated``, ``invites_sent``,
        ``invites_accepted`` and ``invites_remaining`` (an unsaved row with the default
        allocation for a user who has none yet)."""
        return self.store.stat_for(user)

    def get(self, model: type[M], item_id: int, *, sent_by: U | None = None) -> M | None:
        """The invitation (``kaleo.JoinInvitation``) or link (``kaleo.InvitationLink``)
        with this id, or None; with ``sent_by``, only if that user sent it. An id
        wider than the id column is nobody's (PostgreSQL refuses to look it up)."""
        if not key_fits(model.id, item_id):
            return None
        found = self.store.session.get(model, item_id)
        if found is None or sent_by is None:
            return found
        return found if found.from_user_id == self.store.user_id(sent_by) else None

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
        **fields: object,
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

    def pending_invitation(self) -> Pending | None:
        """The invitation whose accept URL this session followed, while it is still
        pending, or the shareable link whose join URL it followed, while someone may
        still join through it; otherwise None. Either can be given to :meth:`accept`."""
        return visitor.pending_once(functools.partial(accepting.still_pending, self.store))

    def signup_email(self) -> str | None:
        """The invited address, to prefill the signup form: the session's pending
        invitation's, or None (a shareable link has none). :meth:`signup` checks what
        the form sent against it (:doc:`accepting`)."""
        pending = self.pending_invitation()
        return None if pending is None else pending.invited_address

    def accept(self, invitation: P, user: U) -> P:
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
        followed a valid invitation's accept URL get through; others see a 403 page."""
        return visitor.invitation_required(view, self.pending_invitation, self.hooks.current_user)

    def signup(self, email: str, create_user: t.Callable[[str], U]) -> U:
        """Create the account a signup form asked for and accept the session's
        invitation with it, in one commit: ``create_user(address)`` builds the user
        for the checked address. Raises :class:`~flask_kaleo.InvitationNotPending`
        (answer it with 410) with nothing created (:doc:`accepting`)."""
        remembered = visitor.remembered()
        return accepting.signup(self.store, remembered, email, create_user, visitor.forget)

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
        :class:`~flask_kaleo.exceptions.InvitationRefused` subclass (:doc:`links`)."""
        return links.create_link(self.store, self.hooks, from_user, uses, expires_in, domain)


_SAID: set[str] = set()
"""The once-per-process notices already written to a log."""


def _say_emails_are_logged() -> None:
    """Warn once per process, when an app with ``KALEO_DELIVERY = "log"`` serves its
    first request, that no email leaves. Not when the app is built: every ``flask``
    command builds it, and there the warning is noise (a command that sends writes
    each email to the log under the same words, "this email was not sent")."""
    if "log delivery" in _SAID:
        return
    _SAID.add("log delivery")
    current_app.logger.warning(
        "KALEO_DELIVERY is 'log': invitation emails are written to this log, never"
        " sent. Turn it off in production."
    )
