"""Words shown to people: counts with their plurals, and the remaining count as text.

:func:`plural` is English, for the CLI; pages count with ``ngettext`` (see
:mod:`flask_kaleo.i18n`).
"""

from __future__ import annotations

from .i18n import format_number
from .i18n import gettext
from .settings import UNLIMITED


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` followed by the noun that agrees with it: ``1 invitation``,
    ``2 invitations``, ``1,000 users``."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {noun}"


def invitations_left(remaining: int) -> str:
    """How many invitations remain, for people: ``"unlimited"`` for -1, else the
    number in the visitor's locale (the ``invitations_left`` template filter)."""
    return gettext("unlimited") if remaining == UNLIMITED else format_number(remaining)
