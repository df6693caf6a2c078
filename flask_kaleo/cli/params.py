"""What the ``flask kaleo`` commands share: their arguments and options, the
user they name, durations, and English counts."""

from __future__ import annotations

import datetime as dt
import math
import re
import typing as t

import click

from ..config import MAX_AMOUNT
from ..state import get_kaleo

AMOUNT = click.argument("amount", metavar="N", type=click.IntRange(min=0, max=MAX_AMOUNT))


class FiniteRange(click.FloatRange):
    """A float range that also refuses ``nan`` (which compares false with both bounds,
    so click's own range lets it through)."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number: float = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number.", param, ctx)
        return number


DAYS = FiniteRange(min=0, min_open=True, max=36500)
"""A number of days above 0 (fractions allowed), up to a hundred years."""


# So that "-3" reaches N's check ("-3 is not in the range x>=0") instead of being
# mistaken for an unknown option.
NEGATIVE_NUMBERS_ARE_ARGUMENTS = {"ignore_unknown_options": True}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` followed by the English noun that agrees with it: ``1 invitation``,
    ``2 invitations``, ``1,000 users`` (the CLI speaks English; pages count with
    ``ngettext``)."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {noun}"


def resolve_user(value: str | None, hint: str = "'--user'") -> object:
    """``--user`` and ``FROM_USER`` take an email address or a primary key.

    Resolved in the command's body, not in an option callback: option callbacks run
    before Flask pushes the app context when the group is invoked through ``app.cli``
    (as ``app.test_cli_runner()`` and embedding apps do).
    """
    if value is None:
        return None
    user = get_kaleo().hooks.member(value)
    if user is None:
        raise click.BadParameter(f"no user with the email address or id {value!r}", param_hint=hint)
    return user


USER = click.option(
    "--user",
    metavar="EMAIL_OR_ID",
    help="Only this user (email address or primary key).",
)


def n_users(count: int) -> str:
    return plural(count, "user")


def n_invitations(count: int) -> str:
    return plural(count, "invitation")


FROM_USER = click.argument("from_user", metavar="FROM_USER")


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 only
    """A duration such as ``3d``, ``12h``, ``90m`` or ``1d12h``: days, hours, minutes."""

    name = "DURATION"
    PATTERN = re.compile(r"(?:([0-9]{1,5})d)?(?:([0-9]{1,6})h)?(?:([0-9]{1,8})m)?")

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        match = self.PATTERN.fullmatch(str(value).strip().lower())
        if match is None or not any(match.groups()):
            self.fail(f"{value!r} is not a duration such as 3d, 12h or 1d12h.", param, ctx)
        days, hours, minutes = (int(part or 0) for part in match.groups())
        duration = dt.timedelta(days=days, hours=hours, minutes=minutes)
        if duration <= dt.timedelta(0) or duration > dt.timedelta(days=36500):
            self.fail(f"{value!r} must be above 0 and at most 36500 days.", param, ctx)
        return duration
