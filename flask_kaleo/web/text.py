"""Words the pages show: the remaining count as text, and the names of the states in
the sent list (both template filters)."""

from __future__ import annotations

from ..config import UNLIMITED
from ..i18n import N_
from ..i18n import format_number
from ..i18n import gettext


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
