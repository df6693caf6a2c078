"""The one duration syntax of the CLI and the forms: ``90m``, ``36h``, ``7d``, ``2w``.

Units may be combined from the largest down (``1d12h``, ``2w3d``). A leaf module: it
imports nothing from flask-kaleo.
"""

from __future__ import annotations

import datetime as dt
import re

SYNTAX = "90m, 36h, 7d or 2w"
"""The examples every help text and refusal shows."""

LONGEST = dt.timedelta(days=36500)
"""No duration beyond a hundred years is read (staff may choose "never" instead)."""

_PATTERN = re.compile(
    r"(?:(?P<w>[0-9]{1,4})w)?(?:(?P<d>[0-9]{1,5})d)?(?:(?P<h>[0-9]{1,6})h)?(?:(?P<m>[0-9]{1,8})m)?"
)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str, *, allow_zero: bool = False) -> dt.timedelta:
    """``text`` (such as ``90m``, ``36h``, ``7d``, ``2w`` or ``1d12h``) as a timedelta.

    Zero needs no unit (``0``) and is refused unless ``allow_zero``. Raises
    :class:`ValueError` for anything else, and for more than 36500 days."""
    text = text.strip().lower()
    if text == "0":
        text = "0m"
    match = _PATTERN.fullmatch(text)
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration such as {SYNTAX}")
    duration = dt.timedelta(
        **{_UNITS[unit]: int(amount) for unit, amount in match.groupdict().items() if amount}
    )
    if duration > LONGEST or (duration == dt.timedelta(0) and not allow_zero):
        bound = "at least 0" if allow_zero else "above 0"
        raise ValueError(f"{text!r} must be {bound} and at most 36500 days")
    return duration


def format_duration(duration: dt.timedelta) -> str:
    """``duration`` in the same syntax, largest units first: ``timedelta(hours=36)`` is
    ``1d12h``; whole minutes only (seconds are dropped)."""
    minutes = int(duration.total_seconds() // 60)
    parts = []
    for unit, size in (("d", 24 * 60), ("h", 60), ("m", 1)):
        amount, minutes = divmod(minutes, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0m"
