"""Nothing stuck forever: the sweep finds the invitations whose delivery never finished
(a process killed between the two transactions, a lost job) once their lease has
passed, and delivers them or queues them again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa

from ..config import DELIVERY_STUCK_AFTER
from ..exceptions import DeliveryError
from ..exceptions import DeliveryFailed
from ..models import Status
from ..models import utcnow
from .lease import lease_free
from .undo import GIVEN_BACK
from .undo import PUT_BACK

if t.TYPE_CHECKING:
    from .sending import Delivery

DELIVERED: t.Final = "delivered"
"""What :meth:`~flask_kaleo.core.sending.Delivery.deliver` did when it delivered."""


@dataclasses.dataclass
class SweepReport:
    """What :meth:`Kaleo.deliver() <flask_kaleo.Kaleo.deliver>` (``flask kaleo
    deliver``) did with the invitations it found stuck."""

    delivered: int = 0
    queued: int = 0
    given_back: int = 0
    failed: int = 0
    """Passing failures, left for a later sweep."""
    put_back: int = 0
    """Resends and reminders the relay refused: their earlier accept URL works again."""


def sweep(delivery: Delivery, older_than: dt.timedelta | None = None) -> SweepReport:
    """Finish every delivery that has waited longer than ``older_than`` (default
    an hour, :data:`~flask_kaleo.config.DELIVERY_STUCK_AFTER`) and that no delivery holds (its lease
    passed, or it never had one): deliver it now (inline mode) or queue it again;
    one that expired waiting is given back (a resend or reminder is put back: it
    stays spent). Sweeps, workers and requests may run at
    once: each email still goes once, to whichever claims it."""
    if older_than is None:
        older_than = DELIVERY_STUCK_AFTER
    model = delivery.store.JoinInvitation
    now = utcnow()
    sending = sa.func.coalesce(model.resent_at, model.sent_at)
    with delivery.store.transaction() as session:  # ended before any network I/O
        stuck = session.execute(
            sa.select(model.id, sending)
            .where(
                model.status == Status.SENT.value,
                model.delivered_at.is_(None),
                lease_free(model, now),
                sending <= now - older_than,
            )
            .order_by(model.id)
        ).all()
    report = SweepReport()
    for invitation_id, began in stuck:
        if delivery.queued():
            try:  # the queue down is a passing failure: nothing is given back
                delivery.enqueue(invitation_id, began, undo=lambda: None)
            except DeliveryFailed:
                report.failed += 1
            else:
                report.queued += 1
            continue
        try:
            outcome = delivery.deliver(invitation_id)
        except DeliveryError:
            report.failed += 1
            continue
        if outcome == DELIVERED:
            report.delivered += 1
        elif outcome == GIVEN_BACK:
            report.given_back += 1
        elif outcome == PUT_BACK:
            report.put_back += 1
    return report
