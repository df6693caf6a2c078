"""The facade's staff side: moderation, who invited whom, accountability, the audit
log, and the reads of the staff console. :class:`~flask_kaleo.Kaleo` inherits them."""

from __future__ import annotations

import datetime as dt
import typing as t

from .constants import AccountabilitySort
from .constants import InvitationState
from .core import accountability as accounts
from .core import audit
from .core import directory
from .core import lineage as lineages
from .core import moderation
from .core.accountability import InviterRecord
from .core.directory import Activity
from .core.directory import MemberRow
from .core.directory import Page
from .core.hooks import Hooks
from .core.lineage import Lineage
from .core.moderation import SuspendReport
from .core.store import Store
from .models import AuditEntryMixin
from .models import JoinInvitationMixin

U = t.TypeVar("U")
Actor: t.TypeAlias = "U | str | None"


class Oversight(t.Generic[U]):
    """Suspend and resume, the invitation tree, the accountability report, the audit
    log, and keyset pages of members and invitations."""

    store: Store[U]
    hooks: Hooks[U]

    # -- moderation (each commits, with its audit entry) ------------------------

    def suspend_inviting(
        self,
        user: U,
        reason: str,
        *,
        by: U | str | None = None,
        revoke_pending: bool = False,
        subtree: int = 0,
    ) -> SuspendReport:
        """Stop ``user`` inviting in any way (invite, links, resend, extend, reminders)
        until :meth:`resume_inviting`; ``reason`` is for staff. ``revoke_pending`` also
        revokes their pending invitations and links, in the same transaction;
        ``subtree=N`` suspends everyone they brought in too, ``N`` levels down."""
        return moderation.suspend_inviting(
            self.store,
            self.hooks,
            user,
            reason,
            by=by,
            revoke_pending=revoke_pending,
            subtree=subtree,
        )

    def resume_inviting(self, user: U, *, by: U | str | None = None) -> bool:
        """Let a suspended member invite again; False if they were not suspended."""
        return moderation.resume_inviting(self.store, self.hooks, user, by=by)

    # -- who invited whom ---------------------------------------------------------

    def invited_by(self, user: U) -> U | None:
        """The member whose invitation or shareable link ``user`` accepted, or None."""
        return lineages.invited_by(self.store, user)

    def invitees(self, user: U) -> list[U]:
        """The members ``user`` brought in, oldest first."""
        return lineages.invitees(self.store, user)

    def lineage(self, user: U, *, depth: int = 3) -> Lineage:
        """``user``'s chain of inviters up to the root, and the tree of those they
        brought in to ``depth`` levels, each read by one recursive query."""
        return lineages.lineage(self.store, user, depth)

    # -- accountability and audit -------------------------------------------------

    def accountability(
        self,
        *,
        sort: AccountabilitySort = "sent",
        descending: bool = True,
        limit: int = 100,
        min_in_trouble: int | None = None,
        max_rate: float | None = None,
        min_sent: int | None = None,
    ) -> list[InviterRecord]:
        """Per inviter: sent, accepted, acceptance rate and invitees in trouble,
        sorted by ``sort``. ``min_in_trouble=3`` keeps inviters with at least three
        invitees in trouble; ``max_rate=0.7, min_sent=5`` those under 70% acceptance
        with five or more sent."""
        return accounts.accountability(
            self.store,
            self.hooks,
            sort=sort,
            descending=descending,
            limit=limit,
            min_in_trouble=min_in_trouble,
            max_rate=max_rate,
            min_sent=min_sent,
        )

    def audit_log(
        self,
        *,
        actor: U | None = None,
        target: U | None = None,
        action: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[AuditEntryMixin]:
        """Staff actions, newest first; ``before`` (an entry's id) gives the next page."""
        return audit.audit_log(
            self.store,
            actor=actor,
            target=target,
            action=action,
            since=since,
            until=until,
            before=before,
            limit=limit,
        )

    # -- the console's pages ------------------------------------------------------

    def members(
        self, *, search: str | None = None, after: str | None = None, limit: int = 50
    ) -> Page[MemberRow]:
        """Members with their counters, a keyset page at a time (``after``: the
        previous page's cursor); ``search`` matches the start of an address."""
        return directory.members(self.store, search=search, after=after, limit=limit)

    def invitations(
        self,
        *,
        state: InvitationState | None = None,
        inviter: U | None = None,
        address: str | None = None,
        sent_from: dt.datetime | None = None,
        sent_until: dt.datetime | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> Page[JoinInvitationMixin]:
        """Every invitation, newest first, a keyset page at a time, filtered by state,
        inviter, invited address and when it was sent."""
        return directory.invitations(
            self.store,
            state=state,
            inviter=inviter,
            address=address,
            sent_from=sent_from,
            sent_until=sent_until,
            after=after,
            limit=limit,
        )

    def activity(self, days: int = 30) -> Activity:
        """Sent, delivered and accepted per day over the last ``days``, their totals,
        and the invitations needing attention (undeliverable, stuck in sending)."""
        return directory.activity(self.store, days)
