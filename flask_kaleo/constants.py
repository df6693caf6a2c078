"""Values every layer names: :data:`NEVER`, the type of a requested lifetime, and the
words the staff's filters take (invitation states, audit actions, report orders), which
the domain types and the command line and the HTTP layer check. A leaf module: it
imports nothing from flask-kaleo."""

from __future__ import annotations

import datetime as dt
import typing as t

NEVER: t.Final = "never"
"""``expires_in=NEVER``: the invitation never expires (``expires_at`` NULL); only for
members with the manage permission."""

ExpiresIn = dt.timedelta | t.Literal["never"] | None
"""What a caller may ask for: a lifetime, :data:`NEVER`, or None for the default."""

InvitationState = t.Literal[
    "pending", "sending", "link", "accepted", "joined", "revoked", "undeliverable", "expired"
]
"""An invitation's state as the staff's lists filter by it (its ``display_status``,
with ``pending`` for an unanswered one)."""
INVITATION_STATES: tuple[InvitationState, ...] = t.get_args(InvitationState)

AuditAction = t.Literal[
    "set_allocation", "grant", "suspend", "resume", "revoke", "resend", "extend", "revoke_link"
]
"""What an audit entry records."""
AUDIT_ACTIONS: tuple[AuditAction, ...] = t.get_args(AuditAction)

AccountabilitySort = t.Literal["sent", "accepted", "rate", "trouble"]
"""What the accountability report sorts by."""
ACCOUNTABILITY_SORTS: tuple[AccountabilitySort, ...] = t.get_args(AccountabilitySort)
