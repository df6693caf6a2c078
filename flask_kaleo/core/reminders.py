"""Reminders: one more email, under a new accept URL, to each pending invitation its invitee
has not answered after a while, at most once (``flask kaleo remind``).

Only digests are stored, so a reminder cannot repeat the first accept URL: like a resend it
mints a new token, and the old accept URL's page says the invitation was sent again. It goes
through the same delivery as an invitation (inline, or queued) and counts towards the
daily sending limits like a resend. Not reminded: invitations created with
``send=False`` (nobody was mailed; the address may not expect mail), invitations to
members (``KALEO_MEMBER_PRIVACY``: never mailed), those whose inviter's account is
gone, those whose inviter staff suspended (until they resume them), and those whose
email is still on its way. Checked again just before each claim: the inviter may
still invite (the resend's permission), and the address has not become a member's
since (a member is never mailed an invitation to join); and inside the claim, under
the inviter's lock, that they were not suspended meanwhile.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app

from ..delivery.transport import OutgoingEmail
from ..exceptions import DeliveryError
from ..exceptions import DeliveryFailed
from ..exceptions import InvitingSuspended
from ..exceptions import SendingLimitReached
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import not_expired
from ..models import rowcount
from ..models import utcnow
from .hooks import Hooks
from .resending import count_another_send
from .resending import put_back
from .resending import reissue
from .resending import sending_again
from .sending import Delivery
from .store import Store

U = t.TypeVar("U")


@dataclasses.dataclass
class RemindReport:
    """What :meth:`Kaleo.remind <flask_kaleo.Kaleo.remind>` (``flask kaleo remind``) did."""

    reminded: int = 0
    """Reminders handed to the mail relay (inline) or to the queue."""
    limited: int = 0
    """Refused by a daily sending limit: left for a later run."""
    failed: int = 0
    """The relay could not take it: the earlier accept URL works again, left for a later run."""
    skipped: int = 0
    """Not mailed: its inviter may no longer invite or is suspended, or its address is
    now a member's."""


def _candidates(
    model: type[JoinInvitationMixin], cutoff: dt.datetime, now: dt.datetime
) -> list[sa.ColumnElement[bool]]:
    """The conditions of an invitation due for its reminder."""
    return [
        model.status == Status.SENT.value,
        not_expired(model.expires_at, now),
        model.reminded_at.is_(None),
        model.link_only == sa.false(),
        model.to_member == sa.false(),
        model.delivered_at.is_not(None),
        model.from_user_id.is_not(None),  # nobody reminds for a deleted account
        sa.func.coalesce(model.resent_at, model.sent_at) <= cutoff,
    ]


def remind(
    store: Store[U], hooks: Hooks[U], delivery: Delivery, after: dt.timedelta
) -> RemindReport:
    """Remind each pending invitation last mailed more than ``after`` ago, once.

    Each is claimed by its own conditional UPDATE (``reminded_at`` still NULL, its
    token unchanged) that also sets ``reminded_at`` and swaps the token, committed before
    the email leaves: two runs at once never remind one invitation twice.
    """
    if after <= dt.timedelta(0):
        raise ValueError("after must be a positive timedelta")
    model = store.JoinInvitation
    stat = store.counters.stat
    now = utcnow()
    with store.transaction() as session:  # ended before any network I/O
        due = session.execute(
            sa.select(model.id, stat.c.inviting_suspended_at)
            .outerjoin(stat, stat.c.user_id == model.from_user_id)
            .where(*_candidates(model, now - after, now))
            .order_by(model.id)
        ).all()
    report = RemindReport()
    for invitation_id, suspended_at in due:
        if suspended_at is not None:  # reminded once staff resume the inviter
            report.skipped += 1
            continue
        invitation = store.invitation(invitation_id)
        if invitation is None:
            continue
        if not _still_wanted(store, hooks, invitation):
            report.skipped += 1
            continue
        try:
            claimed = _claim(store, delivery, invitation, after)
        except SendingLimitReached:
            report.limited += 1
            continue
        except InvitingSuspended:  # suspended since the list was read
            report.skipped += 1
            continue
        if claimed is None:
            continue  # another run reminded it, or it changed meanwhile
        if _deliver(store, delivery, invitation, *claimed):
            report.reminded += 1
        else:
            report.failed += 1
    return report


def _still_wanted(store: Store[U], hooks: Hooks[U], invitation: JoinInvitationMixin) -> bool:
    """Whether its inviter may still invite and its address is still not a member's."""
    inviter = store.get_user(invitation.from_user_id)
    if inviter is None or not hooks.has_invite_permission(inviter):
        return False
    return store.find_user(invitation.email) is None


def _claim(
    store: Store[U], delivery: Delivery, invitation: JoinInvitationMixin, after: dt.timedelta
) -> tuple[str, dict[str, object], OutgoingEmail | None] | None:
    """One transaction: the claim (new token, ``reminded_at``), the daily limits, the
    log of sends, and the email rendered inline. None when another run won."""
    model = store.JoinInvitation
    now = utcnow()
    token, digest, before, values = reissue(invitation, delivery.queued(), now, "reminded_at")
    values["reminded_at"] = now  # equal to resent_at: this sending is the reminder
    with sending_again(store, invitation) as session:
        result = session.execute(
            sa.update(model)
            .where(
                model.id == invitation.id,
                model.token_digest == before["token_digest"],
                *_candidates(model, now - after, now),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            return None
        count_another_send(store, session, invitation, now)
        session.refresh(invitation)
        email = None
        if not delivery.queued():
            label = invitation.inviter_label
            email = delivery.render(invitation, token, inviter_label=label, first=False)
    return digest, before, email


def _deliver(
    store: Store[U],
    delivery: Delivery,
    invitation: JoinInvitationMixin,
    digest: str,
    before: dict[str, object],
    email: OutgoingEmail | None,
) -> bool:
    """Queue or send a claimed reminder; False when the relay could not take it (the
    claim is undone: the earlier accept URL works and a later run may remind it)."""
    if delivery.queued():
        unchanged = invitation.token_digest  # queued, the worker mints the new token
        try:
            delivery.enqueue(
                invitation.id,
                t.cast(dt.datetime, invitation.resent_at),
                undo=lambda: put_back(store, invitation, unchanged, before),
            )
        except DeliveryFailed:  # the queue is down: the claim was undone
            return False
        return True
    try:
        if email is not None:
            delivery.send(email)
    except DeliveryError as error:
        current_app.logger.warning("flask-kaleo could not deliver a reminder: %s", error)
        put_back(store, invitation, digest, before)
        return False
    except Exception:
        put_back(store, invitation, digest, before)
        raise
    delivery.mark_delivered_or_log(invitation, digest)
    return True
