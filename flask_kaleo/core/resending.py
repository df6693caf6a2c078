"""Mailing an invitation again under a new accept URL: a resend, and the steps a
reminder shares with it (the new token, the claim's transaction, the daily limits,
putting the earlier accept URL back when its email cannot go)."""

from __future__ import annotations

import contextlib
import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from .. import signals
from ..config import current_config
from ..exceptions import DeliveryError
from ..exceptions import DeliveryFailed
from ..exceptions import InvitingNotAllowed
from ..exceptions import ResendTooSoon
from ..i18n import gettext
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import not_expired
from ..models import rowcount
from ..models import utcnow
from . import audit
from .accepting import check_pending
from .hooks import Hooks
from .lease import lease_free
from .lease import lease_until
from .sending import Delivery
from .store import Store
from .tokens import new_token
from .undo import undo_record

U = t.TypeVar("U")


def resend(
    store: Store[U],
    hooks: Hooks[U],
    delivery: Delivery,
    invitation: JoinInvitationMixin,
    *,
    by: object = None,
) -> JoinInvitationMixin:
    """Mail ``invitation`` again under a new accept URL; the old accept URL then dies.

    Spends nothing, but counts towards the daily sending limits (refused with
    :class:`~flask_kaleo.SendingLimitReached` at either). Keeps the expiry (extending
    is how to give more time); refused within ``KALEO_RESEND_INTERVAL`` of the last
    sending, or while an email of it is at the relay (its delivery's
    lease). One conditional UPDATE swaps the token and commits, so two racing resends
    make one winner; the email goes out after the commit. A delivery failure puts the
    old accept URL back (it keeps working): inline at once, raising
    :class:`~flask_kaleo.DeliveryFailed`; queued, the worker mints the new token and
    puts the old one back if its email cannot go. A suspended inviter's invitation is
    not resent (:class:`~flask_kaleo.InvitingSuspended`); with ``by`` (staff, or what
    acted), the audit log records the resend in the claim's transaction.
    """
    model = store.JoinInvitation
    inviter = store.get_user(invitation.from_user_id)
    if inviter is None or not hooks.has_invite_permission(inviter):
        raise InvitingNotAllowed(gettext("You are not allowed to send invitations."))
    now = utcnow()
    interval = current_config().resend_interval
    token, digest, before, values = reissue(invitation, delivery.queued(), now, "link_only")
    values["link_only"] = False  # a send=False invitation is mailed now, under a new token
    with sending_again(store, invitation) as session:
        result = session.execute(
            sa.update(model)
            .where(
                model.id == invitation.id,
                model.status == Status.SENT.value,
                not_expired(model.expires_at, now),
                model.token_digest == before["token_digest"],
                lease_free(model, now),
                sa.or_(  # one never mailed may be mailed at once
                    model.link_only,
                    sa.func.coalesce(model.resent_at, model.sent_at) <= now - interval,
                ),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            invitation.reread(session)
            check_pending(invitation)
            raise _too_soon(invitation, interval, now)
        count_another_send(store, session, invitation, now)
        if by is not None:
            audit.record(
                store,
                session,
                "resend",
                by=by,
                target=inviter,
                invitation_id=invitation.id,
                detail={"email": invitation.email},
            )
        session.refresh(invitation)
        email = None
        if not delivery.queued():
            invitation.token = token
            label = store.inviter_label(inviter)
            email = delivery.render(invitation, token, inviter_label=label, first=False)
    if delivery.queued():
        unchanged = invitation.token_digest  # queued, the worker mints the new token
        delivery.enqueue(
            invitation.id, now, undo=lambda: put_back(store, invitation, unchanged, before)
        )
    else:
        try:
            if email is not None:  # None: an invitation to a member is never mailed
                delivery.send(email)
        except DeliveryError as error:
            current_app.logger.warning("flask-kaleo could not deliver a resend: %s", error)
            put_back(store, invitation, digest, before)
            raise DeliveryFailed(
                gettext(
                    "The invitation email could not be delivered; its earlier link still"
                    " works. Please try again in a moment."
                )
            ) from error
        except Exception:
            put_back(store, invitation, digest, before)
            raise
        delivery.mark_delivered_or_log(invitation, digest)
    signals.send(signals.invite_resent, invitation=invitation, inviter=inviter)
    return invitation


REISSUED = (
    "token_digest",
    "replaced_token_digest",
    "resent_at",
    "delivered_at",
    "delivery_attempts",
    "undo_sending",
)
"""The columns an email under a new accept URL (a resend, a reminder) changes."""


def reissue(
    invitation: JoinInvitationMixin, queued: bool, now: dt.datetime, *keep: str
) -> tuple[str, str, dict[str, object], dict[str, object]]:
    """What mailing ``invitation`` again under a new accept URL writes: the new token and its
    digest (inline; queued, the worker mints them), the columns as they were (those of
    :data:`REISSUED` and ``keep``, to put back if the email cannot go, kept in the row
    too for whoever finishes the delivery), and the new values (inline, with the
    lease of the claim)."""
    before = {name: getattr(invitation, name) for name in (*REISSUED, *keep)}
    token, digest = new_token()
    values: dict[str, object] = {
        "resent_at": now,
        "delivered_at": None,
        "delivery_attempts": 0,
        "delivery_lease_until": None,
        "undo_sending": undo_record(before),
    }
    if not queued:
        values.update(token_digest=digest, replaced_token_digest=invitation.token_digest)
        values.update(delivery_attempts=1, delivery_lease_until=lease_until(now))
    return token, digest, before, values


@contextlib.contextmanager
def sending_again(store: Store[U], invitation: JoinInvitationMixin) -> t.Iterator[Session]:
    """The transaction of a resend or reminder: begun afresh (MariaDB), the address's
    row locked first (locks go address, then the inviter's row)."""
    with store.transaction(keep_loaded=True) as session:
        store.fresh_snapshot()
        if current_config().rate_limits.address is not None:
            store.limits.lock_address(session, invitation.email_key)
        yield session


def count_another_send(
    store: Store[U], session: Session, invitation: JoinInvitationMixin, now: dt.datetime
) -> None:
    """Inside the transaction that claimed a resend or reminder (after the address's
    lock): lock the inviter's row, refuse a suspended inviter
    (:class:`~flask_kaleo.InvitingSuspended`, undoing the claim), check both daily
    limits, and log the send."""
    limits = current_config().rate_limits
    member_limit = limits.member
    if invitation.from_user_id is not None:
        store.counters.refuse_if_suspended(session, invitation.from_user_id)
    store.limits.check(
        session,
        invitation.from_user_id,
        invitation.email_key,
        now,
        member_limit=member_limit,
        address_limit=limits.address,
    )
    store.limits.record(session, invitation.id, invitation.from_user_id, invitation.email_key, now)


def put_back(
    store: Store[U], invitation: JoinInvitationMixin, digest: str, before: dict[str, object]
) -> None:
    """Undo a resend whose email could not go out (``digest`` is the token it set): the
    earlier accept URL works again."""
    model = store.JoinInvitation
    with store.transaction() as session:
        session.execute(
            sa.update(model)
            .where(model.id == invitation.id, model.token_digest == digest)
            .values(**before, delivery_lease_until=None)
            .execution_options(synchronize_session=False)
        )
        session.refresh(invitation)


def _too_soon(
    invitation: JoinInvitationMixin, interval: dt.timedelta, now: dt.datetime
) -> ResendTooSoon:
    wait = max(int((invitation.resend_possible_at(interval) - now).total_seconds()), 1)
    minutes, seconds = divmod(wait, 60)
    if minutes:
        when = gettext("%(minutes)d min %(seconds)d s", minutes=minutes, seconds=seconds)
    else:
        when = gettext("%(seconds)d s", seconds=seconds)
    return ResendTooSoon(
        gettext("This invitation was sent a moment ago. Try again in %(when)s.", when=when)
    )
