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
    their address (None); Flask-Mail's SMTP; no queue (None)."""

    current_user: t.Callable[[], U | None] = flask_login_user
    invite_permission: UserHook[U] = _anyone
    manage_permission: UserHook[U] = _nobody
    find_member: t.Callable[[str], U | None] | None = None
    inviter_name: t.Callable[[U], str | None] | None = None
    transport: Transport = flask_mail_transport
    delivery_queue: Enqueue | None = None
    _users: Users[U] | None = dataclasses.field(default=None, repr=False)

    def has_invite_permission(self, user: U | None) -> bool:
        """Whether the invite permission lets ``user`` invite at all (never None or
        Flask-Login's anonymous user)."""
        return signed_in(user) and bool(self.invite_permission(t.cast(U, user)))

    def has_manage_permission(self, user: U | None) -> bool:
        """Whether ``user`` may use the staff endpoints and choose any expiry."""
        return signed_in(user) and bool(self.manage_permission(t.cast(U, user)))

    def member(self, value: str) -> U | None:
        """The user with this email address (any case, found as the
        :meth:`~flask_kaleo.Kaleo.member_loader` hook says) or primary key, or None."""
        return self._read().user_by_email_or_id(value)

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
