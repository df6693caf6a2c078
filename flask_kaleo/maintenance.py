"""The facade's operations after sending: resend, extend, remind, revoke and purge;
delivery; allocations. :class:`~flask_kaleo.Kaleo` inherits them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from .config import UNLIMITED
from .core import grants
from .core import lifecycle
from .core import links
from .core import reminders
from .core import resending
from .core.hooks import Hooks
from .core.reminders import RemindReport
from .core.sending import Delivery
from .core.store import Store
from .core.sweep import SweepReport
from .models import InvitationLinkMixin
from .models import JoinInvitationMixin

U = t.TypeVar("U")


@dataclasses.dataclass(frozen=True)
class PurgeReport:
    """What :meth:`Kaleo.purge_expired <flask_kaleo.Kaleo.purge_expired>` did."""

    deleted: int
    """Invitations deleted (or, with ``dry_run``, that would be)."""
    given_back: int
    """Unused uses of expired links given back to their creators."""


class Maintenance(t.Generic[U]):
    """Resend, extend, remind, revoke, purge, deliver and allocate (each commits)."""

    store: Store[U]
    hooks: Hooks[U]
    delivery: Delivery

    def resend(
        self, invitation: JoinInvitationMixin, *, by: U | str | None = None
    ) -> JoinInvitationMixin:
        """Email a pending invitation again under a new accept URL; spends nothing.
        ``by`` (a user, or a label such as ``"command line"``) says staff acted: the
        audit log records it (:doc:`moderation`)."""
        return resending.resend(self.store, self.hooks, self.delivery, invitation, by=by)

    def extend(
        self,
        invitation: JoinInvitationMixin,
        *,
        by: dt.timedelta | None = None,
        to: dt.datetime | t.Literal["never"] | None = None,
        actor: U | str | None = None,
    ) -> JoinInvitationMixin:
        """Move an unanswered invitation's expiry ``by`` a time (from its expiry, or
        from now if it has passed) or ``to`` a moment, keeping its accept URL; an expired
        one comes back to life. Bounded by the longest of ``KALEO_EXPIRATION_BOUNDS`` from
        now unless its inviter has the manage permission (:doc:`expiry`). ``actor`` (a
        user or a label; ``by`` is the time) says staff acted: the audit log records
        it, as it records any extension past the bounds (:doc:`moderation`)."""
        return lifecycle.extend(self.store, self.hooks, invitation, by=by, to=to, actor=actor)

    def remind(self, after: dt.timedelta) -> RemindReport:
        """Mail one reminder, under a new accept URL, to each pending invitation sent more
        than ``after`` ago and never reminded (``flask kaleo remind``; :doc:`expiry`)."""
        return reminders.remind(self.store, self.hooks, self.delivery, after)

    @t.overload
    def revoke(
        self, invitation: JoinInvitationMixin, *, by: U | str | None = None
    ) -> JoinInvitationMixin: ...
    @t.overload
    def revoke(
        self, invitation: InvitationLinkMixin, *, by: U | str | None = None
    ) -> InvitationLinkMixin: ...
    def revoke(
        self, invitation: JoinInvitationMixin | InvitationLinkMixin, *, by: U | str | None = None
    ) -> JoinInvitationMixin | InvitationLinkMixin:
        """Withdraw an unaccepted invitation and give it back to the inviter, or a
        shareable link and give its unused uses back to its creator; commits. ``by`` (a
        user or a label) says staff acted: the audit log records it (:doc:`moderation`)."""
        if isinstance(invitation, InvitationLinkMixin):
            return links.revoke_link(self.store, invitation, by=by)
        return lifecycle.revoke(self.store, invitation, by=by)

    def purge_expired(self, older_than: dt.timedelta, *, dry_run: bool = False) -> PurgeReport:
        """Delete invitations that expired more than ``older_than`` ago, and give back
        the unused uses of every expired link, each once (``flask kaleo
        purge-expired``). ``dry_run`` only counts the invitations."""
        deleted = lifecycle.purge_expired(self.store, older_than, dry_run=dry_run)
        return PurgeReport(deleted, 0 if dry_run else links.settle_expired(self.store))

    # -- delivery (:doc:`delivery`) ---------------------------------------------

    @t.overload
    def deliver(self, invitation_id: int) -> str: ...
    @t.overload
    def deliver(self, *, older_than: dt.timedelta | None = None) -> SweepReport: ...
    def deliver(
        self, invitation_id: int | None = None, *, older_than: dt.timedelta | None = None
    ) -> str | SweepReport:
        """A queue worker's job, given an id (in an app context): mint a new accept URL,
        send, record; returns ``"delivered"``, ``"given back"``, ``"put back"`` or
        ``"nothing to do"``, or raises :class:`~flask_kaleo.DeliveryError` for a failure
        to retry. Without an id, finish the deliveries waiting longer than
        ``older_than`` (a killed process, a lost job), as ``flask kaleo deliver`` does."""
        if invitation_id is None:
            return self.delivery.sweep(older_than)
        return self.delivery.deliver(invitation_id)

    def work(self, *, burst: bool = False) -> None:
        """Run an RQ worker for ``KALEO_DELIVERY = "rq"`` in this process (``flask
        kaleo worker``); with ``burst``, deliver what is queued, then return."""
        from .delivery.rq import work

        work(burst=burst)

    # -- allocations (each commits) ---------------------------------------------

    def set_allocation(self, user: U, allocated: int, *, by: U | str | None = None) -> None:
        """Give ``user`` an allocation of ``allocated`` invitations in all (-1:
        unlimited). Raises ValueError for a finite value below what they sent. The
        audit log records the old and new allocation and ``by`` (a user, a label such
        as ``"command line"``, or None: unknown)."""
        grants.set_allocation(self.store, user, allocated, by=by)

    def grant(
        self,
        amount: int,
        *,
        user: U | None = None,
        everyone: bool = False,
        top_off: bool = False,
        by: U | str | None = None,
    ) -> int:
        """Give invitations to every user (or only ``user``), in one statement; returns
        the users changed. ``grant(n)`` adds ``n`` to each user with none left
        (``flask kaleo add-invites``), or with ``everyone`` to every finite
        allocation; ``top_off=True`` makes sure each has at least ``n`` left
        (``topoff-invites``); ``grant(UNLIMITED)`` gives unlimited invitations
        (``infinite-invites``). The audit log records it, with ``by``."""
        if everyone and top_off:
            raise ValueError("grant: everyone and top_off do not go together")
        if amount == UNLIMITED:
            if everyone or top_off:
                raise ValueError("grant(UNLIMITED) takes neither everyone nor top_off")
            return grants.infinite_invites(self.store, user=user, by=by)
        if top_off:
            return grants.topoff_invites(self.store, amount, user=user, by=by)
        return grants.add_invites(self.store, amount, everyone=everyone, user=user, by=by)
