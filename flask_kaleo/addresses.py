"""Email addresses: what may be invited, and the key under which two spellings of one
address are the same person."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError
from email_validator import validate_email

from .exceptions import InvalidEmail
from .exceptions import MessageTooLong

MAX_EMAIL_LENGTH = 254


def clean_address(address: object) -> str:
    """The address as entered (trimmed), once it is a valid, deliverable-looking one.

    Syntax only: there are no DNS look-ups, so this works offline and fast. Line breaks
    and other header tricks are not valid addresses, so they never reach a header.
    """
    address = address.strip() if isinstance(address, str) else ""
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


def address_key(address: str) -> str:
    """The key under which two spellings of one address are the same person."""
    return address.strip().lower()


def clean_message(message: object, limit: int) -> str | None:
    """The personal message, trimmed, without control characters (a NUL cannot even be
    stored on PostgreSQL), or None when empty; refused when longer than ``limit``."""
    text = "".join(
        character
        for character in (message if isinstance(message, str) else "")
        if character in "\n\t" or unicodedata.category(character) != "Cc"
    ).strip()
    if len(text) > limit:
        raise MessageTooLong(f"Keep the message under {limit} characters.")
    return text or None
