"""The lease on an invitation's email: whoever sends it (the request, a worker, the
sweep, a resend, a reminder) first claims it with a conditional UPDATE that sets
``delivery_lease_until`` longer than the relay may take, and nobody else claims it
before the outcome is recorded or the lease has passed."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa

from ..config import current_config
from ..models import JoinInvitationMixin
from .store import Store

U = t.TypeVar("U")

LEASE_STEPS = 12
"""The network steps of one SMTP delivery a lease allows for, each bounded by
``KALEO_MAIL_TIMEOUT`` (connect, greeting, EHLO, STARTTLS, EHLO again, AUTH, MAIL, RCPT,
DATA, the message, QUIT), with one to spare."""
LEASE_MARGIN = dt.timedelta(seconds=60)
"""Added to the lease, for the database round trips and a slow process."""


def lease_until(now: dt.datetime) -> dt.datetime:
    """When a delivery claimed at ``now`` can no longer be talking to the relay."""
    return now + current_config().mail_timeout * LEASE_STEPS + LEASE_MARGIN


def lease_free(model: type[JoinInvitationMixin], now: dt.datetime) -> sa.ColumnElement[bool]:
    """No delivery holds the invitation's email at ``now``."""
    lease = model.delivery_lease_until
    return sa.or_(lease.is_(None), lease <= now)


def release(store: Store[U], invitation_id: int, digest: str) -> None:
    """End the lease of the claim whose token's digest is ``digest``: its email did not go,
    and another attempt may claim it now."""
    model = store.JoinInvitation
    with store.transaction() as session:
        session.execute(
            sa.update(model)
            .where(model.id == invitation_id, model.token_digest == digest)
            .values(delivery_lease_until=None)
            .execution_options(synchronize_session=False)
        )
