"""The invite form: CSRF, the address and the optional message."""

from __future__ import annotations

import typing as t

from email_validator import EmailNotValidError
from email_validator import validate_email
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import ValidationError

from .exceptions import InvalidEmail

MAX_EMAIL_LENGTH = 254


def clean_address(address: str) -> str:
    """The address as entered (trimmed), once it is a valid, deliverable-looking one.

    Syntax only: there are no DNS look-ups, so this works offline and fast. Line breaks
    and other header tricks are not valid addresses, so they never reach a header.
    """
    address = (address or "").strip()
    if not address:
        raise InvalidEmail("Enter an email address.")
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidEmail("That email address is too long.")
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        raise InvalidEmail(f"Enter a valid email address ({reason}).") from None
    return address


class InviteForm(FlaskForm):  # type: ignore[misc]
    """``email_address`` and an optional ``message``; the CSRF token comes from Flask-WTF."""

    email_address = StringField(
        "Email address",
        validators=[DataRequired(message="Enter an email address.")],
        render_kw={"inputmode": "email", "autocomplete": "email", "spellcheck": "false"},
    )
    message = TextAreaField("Message (optional)")

    def validate_email_address(self, field: StringField) -> None:
        try:
            field.data = clean_address(field.data or "")
        except InvalidEmail as error:
            raise ValidationError(str(error)) from None

    def validate_message(self, field: TextAreaField) -> None:
        limit: int = current_app.config["KALEO_MESSAGE_MAX_LENGTH"]
        Length(max=limit, message=f"Keep the message under {limit} characters.")(self, field)

    @property
    def cleaned_message(self) -> str | None:
        text = t.cast(str | None, self.message.data)
        return text.strip() or None if text else None


class ActionForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the resend, revoke and staff posts carry nothing else it
    needs to check (the amount is parsed by the staff view, with its own bound)."""
