"""The cursors of keyset pages: the last row's key, as an opaque URL-safe string that
a staff tool hands back for the next page, checked when it comes back."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import typing as t

from .store import key_fits

MAX_CURSOR_LENGTH = 512
"""Longer than any cursor this module writes: a longer value is refused unread."""


def encode(*key: object) -> str:
    """The cursor of a row whose sort key is ``key`` (ints, strings, datetimes)."""
    values = [value.isoformat() if isinstance(value, dt.datetime) else value for value in key]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, *types: type) -> tuple[t.Any, ...]:
    """The key a cursor holds, each value of the type in ``types`` (``int``, ``str``,
    ``dt.datetime``, timezone-aware); anything else raises ValueError."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError("not a cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise ValueError("not a cursor") from error
    if not isinstance(values, list) or len(values) != len(types):
        raise ValueError("not a cursor")
    return tuple(_typed(value, type_) for value, type_ in zip(values, types, strict=True))


def _typed(value: object, type_: type) -> object:
    if type_ is dt.datetime and isinstance(value, str):
        moment = dt.datetime.fromisoformat(value)  # ValueError if it is not one
        if moment.tzinfo is None:
            raise ValueError("not a cursor")
        try:  # stored in UTC: a moment before year 1 or after 9999 there is none
            moment.astimezone(dt.timezone.utc)
        except OverflowError:
            raise ValueError("not a cursor") from None
        return moment
    if type_ is int and isinstance(value, int) and not isinstance(value, bool):
        if abs(value) < 2**63:
            return value
    if type_ is str and isinstance(value, str):
        return value
    raise ValueError("not a cursor")


def decode_sent_key(cursor: str, id_column: t.Any) -> tuple[dt.datetime, int]:
    """The (sent_at, id) an invitation list's cursor holds; ValueError for anything
    else, an id wider than ``id_column`` included (PostgreSQL refuses to compare one:
    a 500 rather than a page)."""
    sent_at, last_id = decode(cursor, dt.datetime, int)
    if not key_fits(id_column, last_id):
        raise ValueError("not a cursor")
    return sent_at, last_id
