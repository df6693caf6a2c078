"""Suspending and resuming a member's inviting.

A suspension is the stat row's ``inviting_suspended_at``: every spending UPDATE
requires it NULL, and a resend, an extension or a reminder reads it under the row's
lock (:mod:`.counters`), so a suspension and an invitation in flight are ordered by
that lock.

One transaction suspends a member (and, with ``subtree``, those they brought in),
revokes what they have pending (``revoke_pending``), gives it back, and writes one
audit entry per member. Rows are locked as every other writer locks them, the
invitations and links first, then the stat rows, so no signup, accept, revoke or
resend waits for it in a circle; what an invitation in flight committed between the
two is revoked once the stat rows are held, when nothing more can be spent.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..config import SUSPENSION_REASON_MAX_LENGTH
from ..config import current_config
from ..config import is_whole_number
from ..models import Status
from ..models import not_expired
from ..models import utcnow
from . import audit
from . import lineage
from .counters import insert_if_absent
from .hooks import Hooks
from .store import Store

U = t.TypeVar("U")
Actor: t.TypeAlias = object
"""Who acted: a user, a label (``"command line"``) or None (unknown)."""


@dataclasses.dataclass(frozen=True)
class SuspendReport:
    """What :meth:`Kaleo.suspend_inviting <flask_kaleo.Kaleo.suspend_inviting>` did."""

    suspended: int
    """Members newly suspended (the member, and with ``subtree`` those below)."""
    revoked_invitations: int
    """Pending invitations revoked (``revoke_pending``)."""
    revoked_links: int
    """Shareable links revoked (``revoke_pending``)."""


@dataclasses.dataclass
class _Revoked:
    """What ``revoke_pending`` took back, per member."""

    invitations: dict[int, object] = dataclasses.field(default_factory=dict)
    """Invitation id -> inviter id."""
    links: dict[int, object] = dataclasses.field(default_factory=dict)
    """Link id -> creator id."""
    spent: collections.Counter[object] = dataclasses.field(default_factory=collections.Counter)
    """Invitations and unused link uses to give back, per member."""
    forced: collections.Counter[object] = dataclasses.field(default_factory=collections.Counter)
    """Of those, forced invitations (their give-back lowers the allocation too)."""

    def count(self, user_id: object) -> tuple[int, int]:
        invitations = sum(1 for owner in self.invitations.values() if owner == user_id)
        return invitations, sum(1 for owner in self.links.values() if owner == user_id)


def check_reason(reason: object) -> str:
    """Staff's reason, stripped: required, at most
    :data:`~flask_kaleo.config.SUSPENSION_REASON_MAX_LENGTH` characters."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("a suspension needs a reason")
    reason = reason.strip()
    if len(reason) > SUSPENSION_REASON_MAX_LENGTH:
        raise ValueError(
            f"a suspension's reason holds at most {SUSPENSION_REASON_MAX_LENGTH:,} characters,"
            f" not {len(reason):,}"
        )
    return reason


def suspend_inviting(
    store: Store[U],
    hooks: Hooks[U],
    user: U,
    reason: str,
    *,
    by: Actor,
    revoke_pending: bool,
    subtree: int,
) -> SuspendReport:
    """Suspend ``user`` (and ``subtree`` levels of those they brought in) and commit;
    see the module's docstring for the order of the locks."""
    reason = check_reason(reason)
    if not is_whole_number(subtree) or subtree < 0:
        raise ValueError(f"subtree must be a whole number of levels >= 0, not {subtree!r}")
    root = store.user_id(user)
    below = lineage.descendant_ids(store, root, subtree) if subtree else []
    below = [uid for uid in below if uid != root]
    ids = [root, *dict.fromkeys(below)]
    labels = {root: store.user_email(user), **_labels(store, below)}
    store.fresh_snapshot()
    revoked = _Revoked()
    with store.transaction() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
        if sqlite:  # its one write lock first: the locking reads below lock nothing there
            _ensure_rows(store, session, ids)
        if revoke_pending:
            _revoke_pending(store, session, ids, revoked)
        if not sqlite:  # MariaDB's upsert locks the stat rows: after the others' rows
            _ensure_rows(store, session, ids)
        already = _lock_stats(store, session, ids)
        now = utcnow()  # once the rows are held: every spend before it has committed
        newly = [uid for uid in ids if uid not in already]
        _suspend(store, session, newly, reason, now)
        if revoke_pending:  # what an invitation in flight added before the lock
            _revoke_pending(store, session, ids, revoked)
            _give_back(store, session, revoked)
        rows = []
        for uid in ids:
            invitations, links = revoked.count(uid)
            if uid != root and uid in already and not (invitations or links):
                continue  # nothing happened to them
            detail: dict[str, object] = {
                "already_suspended": uid in already,
                "revoked_invitations": invitations,
                "revoked_links": links,
            }
            if uid == root:
                detail.update(subtree=subtree, members_below=len(ids) - 1)
            else:
                detail["subtree_of"] = labels[root]
            rows.append(
                audit.entry(
                    store,
                    "suspend",
                    by=by,
                    target=user if uid == root else uid,
                    target_label=labels.get(uid, ""),
                    reason=reason,
                    detail=detail,
                    at=now,
                )
            )
        audit.write(store, session, rows)
    _announce(store, revoked)
    return SuspendReport(len(newly), len(revoked.invitations), len(revoked.links))


def resume_inviting(store: Store[U], hooks: Hooks[U], user: U, *, by: Actor) -> bool:
    """Lift ``user``'s suspension and commit; False (nothing written) if there was none."""
    user_id = store.user_id(user)
    stat = store.counters.stat
    with store.transaction() as session:
        row = session.execute(
            sa.select(stat.c.inviting_suspended_at, stat.c.suspension_reason)
            .where(stat.c.user_id == user_id)
            .with_for_update()
        ).first()
        if row is None or row.inviting_suspended_at is None:
            return False
        session.execute(
            sa.update(stat)
            .where(stat.c.user_id == user_id)
            .values(inviting_suspended_at=None, suspension_reason=None)
        )
        detail = {
            "suspended_at": row.inviting_suspended_at.isoformat(),
            "suspension_reason": row.suspension_reason,
        }
        audit.record(store, session, "resume", by=by, target=user, detail=detail)
    return True


def _labels(store: Store[U], user_ids: list[object]) -> dict[object, str]:
    """The addresses of ``user_ids``, in one query (none for none)."""
    if not user_ids:
        return {}
    mapper = sa.inspect(store.user_model).mapper
    key = mapper.primary_key[0]
    email = mapper.columns[current_config().user_email_attribute]
    rows = store.session.execute(sa.select(key, email).where(key.in_(user_ids)))
    return {user_id: str(address or "") for user_id, address in rows}


def _ensure_rows(store: Store[U], session: Session, ids: list[object]) -> None:
    """A stat row for each of ``ids`` (with the default allocation), in one statement."""
    dialect = session.get_bind().dialect.name
    default = store.default_allocation()
    values = [
        {"user_id": uid, "invites_allocated": default, "invites_sent": 0, "invites_accepted": 0}
        for uid in sorted(t.cast(list[t.Any], ids))  # one order for every locker
    ]
    session.execute(insert_if_absent(store.counters.stat, dialect), values)


def _lock_stats(store: Store[U], session: Session, ids: list[object]) -> set[object]:
    """Lock the stat rows of ``ids`` in key order; the ids already suspended."""
    stat = store.counters.stat
    rows = session.execute(
        sa.select(stat.c.user_id, stat.c.inviting_suspended_at)
        .where(stat.c.user_id.in_(ids))
        .order_by(stat.c.user_id)
        .with_for_update()
    )
    return {user_id for user_id, since in rows if since is not None}


def _suspend(
    store: Store[U], session: Session, ids: list[object], reason: str, now: dt.datetime
) -> None:
    if ids:
        stat = store.counters.stat
        session.execute(
            sa.update(stat)
            .where(stat.c.user_id.in_(ids), stat.c.inviting_suspended_at.is_(None))
            .values(inviting_suspended_at=now, suspension_reason=reason)
        )


def _revoke_pending(
    store: Store[U], session: Session, ids: list[object], revoked: _Revoked
) -> None:
    """Lock and revoke the pending invitations (sent, not answered; expired ones too:
    they are still spent) and the live links of ``ids``, adding them to ``revoked``."""
    model = store.JoinInvitation
    rows = session.execute(
        sa.select(model.id, model.from_user_id, model.forced)
        .where(model.from_user_id.in_(ids), model.status == Status.SENT.value)
        .order_by(model.id)
        .with_for_update()
    ).all()
    if rows:
        session.execute(
            sa.update(model)
            .where(model.id.in_([row.id for row in rows]), model.status == Status.SENT.value)
            .values(status=Status.REVOKED.value, pending_email_key=None)
            .execution_options(synchronize_session=False)
        )
    for invitation_id, owner, forced in rows:
        revoked.invitations[invitation_id] = owner
        revoked.spent[owner] += 1
        revoked.forced[owner] += int(bool(forced))
    link = store.InvitationLink
    now = utcnow()
    links = session.execute(
        sa.select(link.id, link.from_user_id, link.max_uses, link.uses)
        .where(
            link.from_user_id.in_(ids),
            link.revoked_at.is_(None),
            link.given_back.is_(None),
            not_expired(link.expires_at, now),
        )
        .order_by(link.id)
        .with_for_update()
    ).all()
    if links:  # revoked after every use that held the lock first
        session.execute(
            sa.update(link)
            .where(link.id.in_([row.id for row in links]))
            .values(revoked_at=utcnow(), given_back=link.max_uses - link.uses)
            .execution_options(synchronize_session=False)
        )
    for link_id, owner, max_uses, uses in links:
        revoked.links[link_id] = owner
        revoked.spent[owner] += max_uses - uses


def _give_back(store: Store[U], session: Session, revoked: _Revoked) -> None:
    """Give back what was revoked, one executemany over the members concerned (a forced
    invitation lowers the allocation it raised, as a revoke does)."""
    if not revoked.spent:
        return
    stat = store.counters.stat
    allocated = stat.c.invites_allocated
    statement = (
        sa.update(stat)
        .where(stat.c.user_id == sa.bindparam("member"))
        .values(
            invites_allocated=sa.case(
                (allocated == -1, allocated), else_=allocated - sa.bindparam("forced_back")
            ),
            invites_sent=stat.c.invites_sent - sa.bindparam("spent_back"),
        )
    )
    parameters = [
        {"member": uid, "spent_back": spent, "forced_back": revoked.forced[uid]}
        for uid, spent in revoked.spent.items()
    ]
    session.execute(statement, parameters)


def _announce(store: Store[U], revoked: _Revoked) -> None:
    """Send ``invite_revoked`` and ``link_revoked`` for what was revoked (committed),
    reading the rows only when someone listens."""
    if revoked.invitations and signals.invite_revoked.receivers:
        model = store.JoinInvitation
        for invitation in store.session.scalars(
            sa.select(model).where(model.id.in_(list(revoked.invitations)))
        ):
            inviter = store.get_user(invitation.from_user_id)
            signals.send(signals.invite_revoked, invitation=invitation, inviter=inviter)
    if revoked.links and signals.link_revoked.receivers:
        link = store.InvitationLink
        for row in store.session.scalars(sa.select(link).where(link.id.in_(list(revoked.links)))):
            inviter = store.get_user(row.from_user_id)
            signals.send(signals.link_revoked, link=row, inviter=inviter)
