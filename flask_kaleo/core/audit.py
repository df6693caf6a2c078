"""The audit log: staff actions, written in the action's own transaction."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy.orm import Session

from ..models import AuditEntryMixin
from .store import Store

U = t.TypeVar("U")
Action = t.Literal[
    "set_allocation", "grant", "suspend", "resume", "revoke", "resend", "extend", "revoke_link"
]


def record(
    store: Store[U],
    session: Session,
    action: Action,
    *,
    by: object,
    target: object | None = None,
    invitation_id: int | None = None,
    link_id: int | None = None,
    reason: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Add one entry to the open transaction of ``session`` (``by``: a user, a label
    or None; ``target``: a user, a user id, or None for everyone)."""
    raise NotImplementedError


def audit_log(
    store: Store[U],
    *,
    actor: U | None,
    target: U | None,
    action: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    before: int | None,
    limit: int,
) -> list[AuditEntryMixin]:
    raise NotImplementedError
