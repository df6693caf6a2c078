"""Languages: the shipped locales, Flask-Babel on the host app choosing the request's
language, and the headers of a visitor who speaks one. Flask-Babel is imported only
when used: the suite's helpers load without the i18n extra."""

from __future__ import annotations

import typing as t

from flask import Flask
from flask import request

LOCALES = ["en", "fr", "de", "es", "pt_BR", "ja", "ar"]
"""The languages flask-kaleo ships."""


def choose_locale() -> str | None:
    return request.accept_languages.best_match(LOCALES)


def with_babel(app: Flask, **options: t.Any) -> Flask:
    """``app`` with Flask-Babel initialised, choosing the request's language."""
    from flask_babel import Babel

    Babel(app, locale_selector=choose_locale, **options)
    return app


def speaking(locale: str) -> dict[str, str]:
    return {"Accept-Language": locale.replace("_", "-"), "X-Requested-With": "XMLHttpRequest"}
