"""The application's hooks, held in one place: ``kaleo.hooks``.

Each is set once, by its decorator on :class:`~flask_kaleo.Kaleo` (as Flask-Login's
``user_loader`` is), and read here by every layer that needs it: who is signed in,
who may invite, who may manage, how a member is found by address, how an inviter is
named, how an email leaves and how a delivery is queued. The same object answers the
questions the hooks settle: ``kaleo.hooks.current_user()``,
``kaleo.hooks.has_invite_permission(user)``, ``kaleo.hooks.member("alice@example.com")``.
"""

from __future__ import annotations

import dataclasses
import typing as t

import sqlalchemy as sa

from ..delivery.transport import Transport
from ..delivery.transport import flask_mail_transport

U = t.TypeVar("U")
T = t.TypeVar("T")
UserHook = t.Callable[[U], bool]
"""The type of a permission hook: ``hook(user) -> bool``."""
Enqueue = t.Callable[[int], None]
"""The type of a delivery queue hook: ``enqueue(invitation_id) -> None``."""


class Users(t.Protocol[T]):
    """How the hooks read the app's users (the store provides it)."""

    def find_user(self, email: str) -> T | None: ...
    def user_by_email_or_id(self, value: str) -> T | None: ...
    def user_id(self, user: T) -> object: ...
    def user_email(self, user: T) -> str: ...


def flask_login_user() -> t.Any:
    """Flask-Login's signed-in user (the object, not the proxy: signal receivers may
    keep it past the request), or None."""
    from flask_login import current_user

    user = current_user._get_current_object()
    return user if user.is_authenticated else None


def signed_in(user: object) -> bool:
    """False for None and for Flask-Login's anonymous user."""
    return user is not None and getattr(user, "is_authenticated", True) is not False


def _anyone(user: object) -> bool:
    return True


def _nobody(user: object) -> bool:
    return False


@dataclasses.dataclass
class Hooks(t.Generic[U]):
    """The hooks with their defaults: Flask-Login's user; anyone signed in may invite;
    nobody may manage; members found by kaleo's own query (None); inviters named by
    their address (None); Flask-Mail's SMTP; no queue (None); nobody in trouble but
    the suspended (None)."""

    current_user: t.Callable[[], U | None] = flask_login_user
    invite_permission: UserHook[U] = _anyone
    manage_permission: UserHook[U] = _nobody
    find_member: t.Callable[[str], U | None] | None = None
    inviter_name: t.Callable[[U], str | None] | None = None
    transport: Transport = flask_mail_transport
    delivery_queue: Enqueue | None = None
    in_trouble: t.Callable[[], sa.ColumnElement[bool]] | None = None
    _users: Users[U] | None = dataclasses.field(default=None, repr=False)

    def has_invite_permission(self, user: U | None) -> bool:
        """Whether the invite permission lets ``user`` invite at all (never None or
        Flask-Login's anonymous user)."""
        return signed_in(user) and bool(self.invite_permission(t.cast(U, user)))

    def has_manage_permission(self, user: U | None) -> bool:
        """Whether ``user`` may use the staff endpoints and choose any expiry."""
        return signed_in(user) and bool(self.manage_permission(t.cast(U, user)))

    def member(self, value: str, *, or_id: bool = False) -> U | None:
        """The user with this email address (any case, found as the
        :meth:`~flask_kaleo.Kaleo.member_loader` hook says), or None; with ``or_id``
        (for staff tools), a primary key names a user too. A login form leaves it off,
        so that ``1`` is nobody's address."""
        users = self._read()
        return users.user_by_email_or_id(value) if or_id else users.find_user(value)

    def user_id(self, user: U) -> object:
        """``user``'s primary key."""
        return self._read().user_id(user)

    def email(self, user: U) -> str:
        """``user``'s address (its ``KALEO_USER_EMAIL_ATTRIBUTE``)."""
        return self._read().user_email(user)

    def _read(self) -> Users[U]:
        if self._users is None:
            raise RuntimeError("these hooks belong to no Kaleo object")
        return self._users


class HookDecorators(t.Generic[U]):
    """The decorators that set the hooks, each once; :class:`~flask_kaleo.Kaleo`
    inherits them."""

    hooks: Hooks[U]

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

    def members_in_trouble(
        self, hook: t.Callable[[], sa.ColumnElement[bool]]
    ) -> t.Callable[[], sa.ColumnElement[bool]]:
        """Decorator that sets which members are in trouble (the app's own notion:
        banned, flagged...) for :meth:`~flask_kaleo.Kaleo.accountability`: ``hook()``
        returns a SQL condition on the user model, such as
        ``User.banned_at.is_not(None)``. Members whose inviting is suspended always
        count."""
        self.hooks.in_trouble = hook
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
        :meth:`~flask_kaleo.Kaleo.deliver` with it (and retries while that raises)."""
        self.hooks.delivery_queue = enqueue
        return enqueue
