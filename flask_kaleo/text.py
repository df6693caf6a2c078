"""Words shown to people: counts with their plurals, and the remaining count as text.

One home for plural forms, so that translating them later changes this module only.
"""

from __future__ import annotations

from .settings import UNLIMITED


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` followed by the noun that agrees with it: ``1 invitation``,
    ``2 invitations``, ``1,000 users``."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {noun}"


def invitations_left(remaining: int) -> str:
    """How many invitations remain, for people: ``"unlimited"`` for -1, else the
    number (the ``invitations_left`` template filter)."""
    return "unlimited" if remaining == UNLIMITED else str(remaining)
