"""Who is signed in, who may invite and who may manage: the app's three hooks."""

from __future__ import annotations

import typing as t

from .store import signed_in

U = t.TypeVar("U")
UserHook = t.Callable[[U], bool]


def flask_login_user() -> t.Any:
    """Flask-Login's signed-in user (the object, not the proxy: signal receivers may
    keep it past the request), or None."""
    from flask_login import current_user

    user = current_user._get_current_object()
    return user if user.is_authenticated else None


class Permissions(t.Generic[U]):
    """The hooks, with their defaults: anyone signed in may invite; nobody may manage."""

    def __init__(
        self,
        current_user: t.Callable[[], U | None] | None,
        invite_permission: UserHook[U] | None,
        manage_permission: UserHook[U] | None,
    ) -> None:
        self.current_user: t.Callable[[], U | None] = current_user or flask_login_user
        self.invite_hook: UserHook[U] = invite_permission or (lambda user: True)
        self.manage_hook: UserHook[U] = manage_permission or (lambda user: False)

    def has_invite_permission(self, user: U | None) -> bool:
        return user is not None and signed_in(user) and bool(self.invite_hook(user))

    def has_manage_permission(self, user: U | None) -> bool:
        return user is not None and signed_in(user) and bool(self.manage_hook(user))
