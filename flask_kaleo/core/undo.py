"""When an invitation's email cannot go: a first sending is given back (the invitation
becomes ``undeliverable`` and returns to the inviter's allocation, as a revoke does); a
resend or reminder is put back (the columns it changed, kept in ``undo_sending``, are
restored: its earlier accept URL works again, nothing is refunded)."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import sqlalchemy as sa

from .. import signals
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import UTCDateTime
from ..models import rowcount
from ..models import table_of
from ..models import utcnow
from .lease import lease_free
from .store import Store

U = t.TypeVar("U")
ColumnValue: t.TypeAlias = dt.datetime | str | int | bool | None
"""A column value kept in an ``undo_sending`` record (as JSON: a datetime in ISO form)."""

GIVEN_BACK: t.Final = "given back"
PUT_BACK: t.Final = "put back"
NOTHING_TO_DO: t.Final = "nothing to do"
"""What :meth:`~flask_kaleo.core.sending.Delivery.deliver` did, besides delivering."""


def undo_record(before: t.Mapping[str, ColumnValue]) -> str:
    """``before`` (column values) as the JSON of ``undo_sending``."""
    return json.dumps(
        {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in before.items()}
    )


def undo_values(model: type[JoinInvitationMixin], record: str) -> dict[str, ColumnValue]:
    """The column values an ``undo_sending`` record holds."""
    values: dict[str, ColumnValue] = json.loads(record)
    columns = table_of(model).c
    for name, value in values.items():
        if isinstance(value, str) and isinstance(columns[name].type, UTCDateTime):
            values[name] = dt.datetime.fromisoformat(value)
    return values


def give_back(store: Store[U], invitation_id: int, digest: str | None = None) -> bool:
    """Mark an undelivered invitation ``undeliverable`` and return it to the
    inviter's allocation, as a revoke does: the claim whose token's digest is ``digest``
    does, or (None) anyone while no delivery holds it. False when it was no longer
    waiting for its email (delivered, accepted, withdrawn or claimed meanwhile)."""
    model = store.JoinInvitation
    mine = lease_free(model, utcnow()) if digest is None else model.token_digest == digest
    with store.transaction() as session:
        result = session.execute(
            sa.update(model)
            .where(
                model.id == invitation_id,
                model.status == Status.SENT.value,
                model.delivered_at.is_(None),
                mine,
            )
            .values(
                status=Status.UNDELIVERABLE.value,
                pending_email_key=None,
                delivery_lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            return False
        inviter_id, forced = session.execute(
            sa.select(model.from_user_id, model.forced).where(model.id == invitation_id)
        ).one()
        store.counters.give_back(session, inviter_id, forced=forced)
    invitation = store.invitation(invitation_id)
    inviter = store.get_user(inviter_id)
    signals.send(signals.invite_undeliverable, invitation=invitation, inviter=inviter)
    return True


def undo(store: Store[U], invitation: JoinInvitationMixin, digest: str) -> str:
    """The email of the claim whose token's digest is ``digest`` cannot go: a first sending
    gives the invitation back; a resend or reminder puts back the columns as they
    were before it (its earlier accept URL works again, nothing is refunded)."""
    if invitation.undo_sending is None:
        return GIVEN_BACK if give_back(store, invitation.id, digest) else NOTHING_TO_DO
    model = store.JoinInvitation
    values = {"delivery_lease_until": None, **undo_values(model, invitation.undo_sending)}
    with store.transaction() as session:
        result = session.execute(
            sa.update(model)
            .where(model.id == invitation.id, model.token_digest == digest)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return PUT_BACK if rowcount(result) == 1 else NOTHING_TO_DO
