"""The audit log: staff actions, written in the action's own transaction.

An entry is one INSERT in the transaction of what it records, so it commits with the
action or rolls back with it: the log never claims what did not happen, and nothing
staff did goes unrecorded. Written for every allocation change, grant, suspension and
resume, for revokes, resends and extensions that name who acted (``by=``, or
``actor=`` for an extension), and for every extension past the expiry bounds (only
managers may). Accounts may be deleted later: each entry keeps the actor's and the
target's addresses as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..constants import AUDIT_ACTIONS as ACTIONS
from ..constants import AuditAction
from ..models import AuditEntryMixin
from ..models import table_of
from ..models import utcnow
from .store import Store

U = t.TypeVar("U")
Action: t.TypeAlias = AuditAction
LABEL_LENGTH = 254
"""The label columns' size: a longer label is cut to it."""


def record(
    store: Store[U],
    session: Session,
    action: Action,
    *,
    by: object,
    target: object | None = None,
    target_label: str | None = None,
    invitation_id: int | None = None,
    link_id: int | None = None,
    reason: str | None = None,
    detail: t.Mapping[str, object] | None = None,
) -> None:
    """Add one entry to the open transaction of ``session`` (``by``: a user, a label
    or None; ``target``: a user, a user id with its ``target_label``, or None for
    everyone)."""
    row = entry(
        store,
        action,
        by=by,
        target=target,
        target_label=target_label,
        invitation_id=invitation_id,
        link_id=link_id,
        reason=reason,
        detail=detail,
    )
    write(store, session, [row])


def entry(
    store: Store[U],
    action: Action,
    *,
    by: object,
    target: object | None = None,
    target_label: str | None = None,
    invitation_id: int | None = None,
    link_id: int | None = None,
    reason: str | None = None,
    detail: t.Mapping[str, object] | None = None,
    at: dt.datetime | None = None,
) -> dict[str, object]:
    """The columns of one entry, for :func:`write` (several at once: a subtree)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    actor_id, actor_label = _who(store, by)
    if target is None or isinstance(target, store.user_model):
        target_id, label = _who(store, target)
    else:
        target_id, label = target, ""
    return {
        "at": at or utcnow(),
        "action": action,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "target_id": target_id,
        "target_label": (target_label if target_label is not None else label)[:LABEL_LENGTH],
        "invitation_id": invitation_id,
        "link_id": link_id,
        "reason": reason,
        "detail": None if detail is None else json.dumps(detail, sort_keys=True),
    }


def write(store: Store[U], session: Session, rows: t.Sequence[dict[str, object]]) -> None:
    """Insert ``rows`` (from :func:`entry`) in one statement (an executemany for
    several)."""
    if rows:
        table = table_of(store.AuditEntry)
        session.execute(sa.insert(table), list(rows) if len(rows) > 1 else rows[0])


def _who(store: Store[U], who: object) -> tuple[object | None, str]:
    """A user's id and address, a label alone, or nobody."""
    if who is None:
        return None, ""
    if isinstance(who, str):
        return None, " ".join(who.split())[:LABEL_LENGTH]
    if isinstance(who, store.user_model):
        return store.user_id(who), store.user_email(who)[:LABEL_LENGTH]
    raise TypeError(f"an actor is a user, a label or None, not {who!r}")


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
    """Entries newest first (``id`` descending), filtered; ``before`` is the id of the
    last entry of the previous page (a keyset: each page costs the same)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit!r}")
    model = store.AuditEntry
    statement = sa.select(model)
    if actor is not None:
        statement = statement.where(model.actor_id == store.user_id(actor))
    if target is not None:
        statement = statement.where(model.target_id == store.user_id(target))
    if action is not None:
        statement = statement.where(model.action == action)
    if since is not None:
        statement = statement.where(model.at >= since)
    if until is not None:
        statement = statement.where(model.at < until)
    if before is not None:
        statement = statement.where(model.id < before)
    statement = statement.order_by(model.id.desc()).limit(limit)
    return list(store.session.scalars(statement))
