"""The forms the macros render: the invite form, and the CSRF token of the small ones.

It only renders: the endpoint reads the posted fields and
:meth:`Kaleo.invite <flask_kaleo.Kaleo.invite>` checks them, once.
"""

from __future__ import annotations

import typing as t

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms import TextAreaField

from .i18n import lazy_gettext


class InviteForm(FlaskForm):  # type: ignore[misc]
    """``email_address`` and an optional ``message``; the CSRF token comes from Flask-WTF."""

    email_address = StringField(
        lazy_gettext("Email address"),
        render_kw={"inputmode": "email", "autocomplete": "email", "spellcheck": "false"},
    )
    message = TextAreaField(lazy_gettext("Message (optional)"))


def new_invite_form() -> InviteForm:
    """An empty invite form, for the ``invite_form`` macro."""
    return InviteForm(formdata=None)


def csrf_token() -> str:
    """A CSRF token for the sent list's small forms (with or without CSRFProtect)."""
    from flask_wtf.csrf import generate_csrf

    return t.cast(str, generate_csrf())
