"""Delivering invitation emails, never while a database transaction is open.

An invitation is spent and stored first (committed, with ``delivered_at`` NULL: its
email is on its way); then its email is handed to the transport; then a second short
transaction records the outcome. Where the email goes next depends on
``KALEO_DELIVERY``:

- ``"inline"`` (the default) or ``"log"`` (written to the app's log, never sent):
  the request sends it at once and answers with the
  outcome; an email the relay refuses, or cannot take within ``KALEO_MAIL_TIMEOUT``,
  gives the invitation back (it becomes ``undeliverable``) and the request answers
  "nothing was spent".
- ``"rq"`` or ``"queue"``: the request answers at once; a worker mints the token,
  sends, and retries a passing failure after each wait of ``KALEO_DELIVERY_RETRIES``
  before giving the invitation back.

Whoever sends an email (the request, a worker, the sweep, a resend, a reminder) first
claims it with one conditional UPDATE that mints its token and sets a lease
(``delivery_lease_until``) longer than the relay may take; nobody else claims it
before the outcome is recorded or the lease has passed, so each claim mails at most one
email however many workers, duplicate jobs and sweeps run at once.

An invitation whose delivery never finished (a process killed between the two
transactions, a lost job) is found by :meth:`Delivery.sweep` once its lease has passed.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from ..config import current_config
from ..delivery.render import render_invitation
from ..delivery.render import render_notice
from ..delivery.transport import OutgoingEmail
from ..delivery.transport import active_transport
from ..exceptions import ConfigurationError
from ..exceptions import DeliveryError
from ..exceptions import DeliveryFailed
from ..i18n import N_
from ..i18n import gettext
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import rowcount
from ..models import table_of
from ..models import utcnow
from .hooks import Hooks
from .lease import lease_free
from .lease import lease_until
from .lease import release
from .store import Store
from .sweep import DELIVERED
from .sweep import SweepReport
from .sweep import sweep
from .tokens import new_token
from .undo import NOTHING_TO_DO
from .undo import give_back
from .undo import undo

UNDELIVERED = N_(
    "The invitation email could not be delivered, so nothing was spent."
    " Please try again in a moment."
)


class Delivery:
    """The transport and the queue, and the steps of one invitation's delivery."""

    def __init__(self, store: Store[t.Any], hooks: Hooks[t.Any]) -> None:
        self.store = store
        self.hooks = hooks
        table = table_of(store.JoinInvitation)
        self._delivered = (
            sa.update(table)
            .where(
                table.c.id == sa.bindparam("invitation_id"),
                table.c.token_digest == sa.bindparam("digest"),
            )
            .values(delivered_at=sa.bindparam("now"), delivery_lease_until=None, undo_sending=None)
        )

    @staticmethod
    def queued() -> bool:
        return current_config().queued

    def render(
        self, invitation: JoinInvitationMixin, token: str, *, inviter_label: str, first: bool
    ) -> OutgoingEmail | None:
        """The email ``invitation`` gets now: the invitation carrying ``token``'s accept URL;
        for one to a member (``KALEO_MEMBER_PRIVACY``), nothing, or with ``"notify"``
        the short notice on its ``first`` sending only (a
        resend never mails a member)."""
        if not invitation.to_member:
            reminder = invitation.is_reminder
            return render_invitation(
                invitation, token, inviter_label=inviter_label, reminder=reminder
            )
        if not first or not current_config().notifies_members:
            return None
        member = self.store.find_user(invitation.email)
        if member is None:
            return None
        return render_notice(self.store.user_email(member), invitation.locale)

    def send(self, email: OutgoingEmail) -> None:
        """Hand ``email`` to the transport, each network step bounded by the timeout."""
        transport = active_transport(self.hooks.transport)
        transport(email, current_config().mail_timeout.total_seconds())

    # -- after the commit ---------------------------------------------------

    def start(self, invitation: JoinInvitationMixin, email: OutgoingEmail | None) -> None:
        """Deliver a just-committed invitation: now (inline: ``email``, or None when
        there is nothing to send, for an invitation to a member) or through the queue.
        Raises :class:`DeliveryFailed` once the invitation is given back."""
        if self.queued():
            self.enqueue(invitation.id, invitation.sent_at)
            return
        if email is not None:
            digest = invitation.token_digest
            try:
                self.send(email)
            except DeliveryError as error:
                current_app.logger.warning("flask-kaleo could not deliver an invitation: %s", error)
                give_back(self.store, invitation.id, digest)
                raise DeliveryFailed(gettext(UNDELIVERED)) from error
            except Exception:  # a broken transport or setup: no spent invitation left behind
                give_back(self.store, invitation.id, digest)
                raise
        self.mark_delivered_or_log(invitation, invitation.token_digest)

    def mark_delivered_or_log(self, invitation: JoinInvitationMixin, digest: str) -> None:
        """:meth:`mark_delivered`, but the email is out whatever the database says now:
        if it cannot be told (the connection dropped), the invitation stays "sending"
        and the sweep sends it again under a new accept URL (the first one then explains)."""
        try:
            self.mark_delivered(invitation, digest)
        except Exception:
            current_app.logger.exception(
                "flask-kaleo delivered invitation %d but could not record it", invitation.id
            )

    def enqueue(
        self,
        invitation_id: int,
        sending: dt.datetime,
        *,
        undo: t.Callable[[], None] | None = None,
    ) -> None:
        """Queue the delivery of the invitation's sending that began at ``sending`` (on
        RQ, at most one job waits for it). If the queue cannot take it, give the
        invitation back (or ``undo`` what the caller did, for a resend)."""
        mode = current_config().delivery
        try:
            if mode == "rq":
                from ..delivery.rq import enqueue

                enqueue(invitation_id, sending)
            elif self.hooks.delivery_queue is not None:
                self.hooks.delivery_queue(invitation_id)
            else:
                raise ConfigurationError(
                    "KALEO_DELIVERY is 'queue' but no queue is set: decorate a function"
                    " with @kaleo.delivery_queue"
                )
        except Exception as error:  # the queue's own failure (a Redis outage, ...)
            current_app.logger.warning("flask-kaleo could not queue an invitation: %s", error)
            if undo is not None:
                undo()
            else:
                give_back(self.store, invitation_id)
            if isinstance(error, ConfigurationError):
                raise
            raise DeliveryFailed(gettext(UNDELIVERED)) from error

    def mark_delivered(self, invitation: JoinInvitationMixin, digest: str) -> None:
        """Record that the relay took the email carrying ``digest``'s accept URL (and keep
        ``invitation`` loaded as it now is, so answering costs no query)."""
        now = utcnow()
        with self.store.transaction(keep_loaded=True) as session:
            session.execute(
                self._delivered, {"invitation_id": invitation.id, "digest": digest, "now": now}
            )
        done = {"delivered_at": now, "delivery_lease_until": None, "undo_sending": None}
        for name, value in done.items():
            set_committed_value(invitation, name, value)

    # -- the worker's job -----------------------------------------------------

    def deliver(self, invitation_id: int) -> str:
        """Deliver a queued invitation (a worker's job): mint its token, send, record.

        Returns ``"delivered"``, ``"given back"``, ``"put back"`` (a resend or reminder
        that cannot go: its earlier accept URL works again) or ``"nothing to do"``; raises
        :class:`DeliveryError` for a passing failure that deserves another attempt.
        """
        claimed = self._claim(invitation_id)
        if claimed is None:
            return NOTHING_TO_DO
        if isinstance(claimed, str):
            return claimed
        invitation, digest, email = claimed
        try:
            if email is not None:  # None: an invitation to a member, with nothing to send
                self.send(email)
        except DeliveryError as error:
            attempts = invitation.delivery_attempts
            last = attempts >= current_config().delivery_attempts
            current_app.logger.warning(
                "flask-kaleo: delivery attempt %d of invitation %d failed: %s",
                attempts,
                invitation_id,
                error,
            )
            if error.permanent or last:
                return undo(self.store, invitation, digest)
            release(self.store, invitation_id, digest)
            raise
        except Exception:  # a broken transport: the next attempt may claim it at once
            release(self.store, invitation_id, digest)
            raise
        self.mark_delivered_or_log(invitation, digest)
        return DELIVERED

    def _claim(
        self, invitation_id: int
    ) -> tuple[JoinInvitationMixin, str, OutgoingEmail | None] | str | None:
        """In one short transaction: a new token and a lease for an invitation still
        waiting for its email that no other delivery holds, one more attempt counted,
        and the email rendered. None if it is not waiting or is held; for one that
        expired waiting, what :meth:`undo` did (a first sending is given back, a resend
        or reminder put back: an expired invitation stays spent)."""
        model = self.store.JoinInvitation
        now = utcnow()
        with self.store.transaction(keep_loaded=True) as session:
            invitation = session.scalars(
                sa.select(model).where(
                    model.id == invitation_id,
                    model.status == Status.SENT.value,
                    model.delivered_at.is_(None),
                    lease_free(model, now),
                )
            ).first()
            if invitation is None:
                return None
            if invitation.is_expired:
                expired = True
            else:
                expired = False
                token, digest = new_token()
                result = session.execute(
                    sa.update(model)
                    .where(
                        model.id == invitation_id,
                        model.token_digest == invitation.token_digest,
                        model.status == Status.SENT.value,
                        model.delivered_at.is_(None),
                        lease_free(model, now),
                    )
                    .values(
                        token_digest=digest,
                        replaced_token_digest=invitation.token_digest,
                        delivery_attempts=model.delivery_attempts + 1,
                        delivery_lease_until=lease_until(now),
                    )
                    .execution_options(synchronize_session=False)
                )
                if rowcount(result) != 1:
                    return None  # another delivery claimed it
                session.refresh(invitation)
                label = invitation.inviter_label
                first = invitation.resent_at is None
                email = self.render(invitation, token, inviter_label=label, first=first)
        if expired:
            return undo(self.store, invitation, invitation.token_digest)
        return invitation, digest, email

    def sweep(self, older_than: dt.timedelta | None = None) -> SweepReport:
        """Finish every delivery stuck longer than ``older_than`` (see
        :func:`~flask_kaleo.core.sweep.sweep`)."""
        return sweep(self, older_than)
