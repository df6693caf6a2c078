"""The example's language: ``?lang=fr`` on any page (remembered in the session), else
the browser's Accept-Language, among the languages flask-kaleo ships. Flask-Babel asks
:func:`select_locale`; the example's pages (its catalog, ``example_app/translations``)
and kaleo's pages, macros, messages and emails follow it."""

from __future__ import annotations

from flask import request
from flask import session

LANGUAGES = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "ja": "日本語",
    "ar": "العربية",
}
"""The languages offered, each named in itself (for the switcher in the footer)."""
SESSION_KEY = "example.lang"


def N_(string: str) -> str:  # noqa: N802 (the conventional gettext marker)
    """Mark a string for extraction; it is translated where it is shown."""
    return string


def select_locale() -> str | None:
    """Flask-Babel's locale selector."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session[SESSION_KEY] = asked
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(list(LANGUAGES), default="en")
