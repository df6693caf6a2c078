"""The remaining count as a phrase ("3 invitations left"), for the JSON answers that
change it: the ``invitations_badge`` macro's words, rendered once, so a script shows
what a page would (plural forms differ by language, so no script can pick them)."""

from __future__ import annotations

from flask import get_template_attribute


def badge_html(remaining: int) -> str:
    """The inside of ``invitations_badge`` for ``remaining`` (-1: unlimited), as
    escaped HTML."""
    words = get_template_attribute("kaleo/macros.html", "invitations_badge_words")
    return str(words(remaining)).strip()
