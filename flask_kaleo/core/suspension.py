"""What a member whose inviting staff suspended is told.

The refusal is one sentence that does not give staff's reason away, unless the app
turns on ``KALEO_SHOW_SUSPENSION_REASON``; the exception carries the reason in any
case, for the app's own pages. Where a suspension is read under the stat row's lock
is :meth:`~flask_kaleo.core.counters.Counters.refuse_if_suspended`.
"""

from __future__ import annotations

from ..config import current_config
from ..exceptions import InvitingSuspended
from ..i18n import N_
from ..i18n import gettext

SUSPENDED = N_("Staff have paused your invitations.")
SUSPENDED_BECAUSE = N_("Staff have paused your invitations: %(reason)s")


def refusal(reason: str | None) -> InvitingSuspended:
    """The :class:`~flask_kaleo.InvitingSuspended` to raise for a member suspended
    for ``reason``."""
    if reason and current_config().show_suspension_reason:
        message = gettext(SUSPENDED_BECAUSE, reason=reason)
    else:
        message = gettext(SUSPENDED)
    return InvitingSuspended(message, reason)
