"""Words and choices the pages show: the remaining count as text, the names of the
states in the sent list (both template filters), and the lifetimes a row's Extend form
offers."""

from __future__ import annotations

import datetime as dt

from ..config import UNLIMITED
from ..config import current_config
from ..i18n import N_
from ..i18n import format_number
from ..i18n import gettext
from ..models import JoinInvitationMixin
from ..models import utcnow


def invitations_left(remaining: int) -> str:
    """How many invitations remain, for people: ``"unlimited"`` for -1, else the
    number in the visitor's locale (the ``invitations_left`` template filter)."""
    return gettext("unlimited") if remaining == UNLIMITED else format_number(remaining)


STATE_LABELS = {
    # TRANSLATORS: the states of a sent invitation, shown in the sent list.
    "sent": N_("pending"),
    "sending": N_("sending"),
    "accepted": N_("accepted"),
    "joined": N_("joined"),
    "revoked": N_("revoked"),
    "undeliverable": N_("undeliverable"),
    "expired": N_("expired"),
    "link": N_("link created"),
}


def state_label(state: str) -> str:
    """How the sent list names an invitation's ``display_status`` (the
    ``kaleo_state_label`` template filter: a filter, not a macro, because a long list
    calls it once a row)."""
    label = STATE_LABELS.get(state)
    return state if label is None else gettext(label)


EXTEND_DAYS = (1, 3, 7, 14, 30)
"""The lifetimes, in days, the sent list's Extend form may offer."""


def extend_choices(invitation: JoinInvitationMixin) -> list[int]:
    """The days of :data:`EXTEND_DAYS` that keep ``invitation`` within the longest of
    ``KALEO_EXPIRATION_BOUNDS`` from now, as an extension by a member must (the
    ``kaleo_extend_choices`` template global)."""
    now = utcnow()
    start = max(invitation.expires_at or now, now)
    room = now + current_config().expiration_bounds[1] - start
    return [days for days in EXTEND_DAYS if dt.timedelta(days=days) <= room]
