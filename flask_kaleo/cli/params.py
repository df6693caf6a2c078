"""What the ``flask kaleo`` commands share: their arguments and options, the
user they name, durations, and English counts."""

from __future__ import annotations

import datetime as dt
import typing as t

import click

from ..config import MAX_AMOUNT
from ..config.durations import SYNTAX
from ..config.durations import parse_duration
from ..state import get_kaleo

ACTOR = "command line"
"""How the audit log names the commands that act on members and invitations."""

AMOUNT = click.argument("amount", metavar="N", type=click.IntRange(min=0, max=MAX_AMOUNT))
AMOUNT_HELP = f"N is a whole number from 0 to {MAX_AMOUNT:,}. Unlimited allocations are left alone."
"""What ``--help`` says of N (click shows no help for arguments)."""


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
    user = get_kaleo().hooks.member(value, or_id=True)
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
EMAIL = click.argument("email", metavar="EMAIL")
"""A member named by email address or primary key (resolved with :func:`resolve_user`)."""
INVITATION_ID = click.argument(
    "invitation_id", metavar="ID", type=click.IntRange(min=1, max=2**63 - 1)
)
DEPTH = click.IntRange(min=1, max=10)
"""How many levels of the invitation tree a command reads."""


def n_members(count: int) -> str:
    return plural(count, "member")


def label(name: str, user_id: object | None) -> str:
    """A member's address, or the label of a deleted account, marked as such."""
    return name if user_id is not None else f"{name or '(unknown)'} [deleted]"


COMBINED = "1d12h"
"""The combined form every duration's help shows besides :data:`SYNTAX`'s."""


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 only
    """A duration in :mod:`flask_kaleo.config.durations`' syntax (``90m``, ``36h``, ``7d``,
    ``2w``, ``1d12h``); zero only with ``allow_zero``. Anything else exits 2 with a
    usage message."""

    name = "DURATION"

    def __init__(self, *, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        try:
            return parse_duration(str(value), allow_zero=self.allow_zero)
        except ValueError as error:
            self.fail(f"{error}.", param, ctx)


def duration_help(text: str, *, zero: str | None = None) -> str:
    """An option's help, with every form its value takes: ``zero`` says what 0 means,
    for an option whose :class:`Duration` allows it."""
    forms = f"A duration: {SYNTAX}, or units combined from the largest down ({COMBINED})"
    return f"{text} {forms}{'' if zero is None else f'; 0 {zero}'}."
