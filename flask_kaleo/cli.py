"""``flask kaleo ...``: the seed's management commands, set-based."""

from __future__ import annotations

import typing as t

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from .extension import get_kaleo

kaleo_cli = AppGroup("kaleo", help="Manage invitation allocations (flask-kaleo).")

AMOUNT = click.argument("amount", metavar="N", type=click.IntRange(min=0))
# So that "-3" reaches N's check ("-3 is not in the range x>=0") instead of being
# mistaken for an unknown option.
NEGATIVE_NUMBERS_ARE_ARGUMENTS = {"ignore_unknown_options": True}


def _resolve_user(value: str | None) -> t.Any:
    """``--user`` takes an email address or a primary key.

    Resolved in the command's body, not in an option callback: option callbacks run
    before Flask pushes the app context when the group is invoked through ``app.cli``
    (as ``app.test_cli_runner()`` and embedding apps do).
    """
    if value is None:
        return None
    kaleo = get_kaleo()
    user = kaleo.find_user(value) if "@" in value else None
    if user is None and "@" not in value:
        primary_key: t.Any = sa.inspect(kaleo.user_model).mapper.primary_key[0]
        try:
            key = primary_key.type.python_type(value)
        except NotImplementedError:  # a custom type: let the database compare
            key = value
        except (TypeError, ValueError):  # "abc" is nobody's integer id
            key = None
        if key is not None:
            user = kaleo.db.session.get(kaleo.user_model, key)
    if user is None:
        raise click.BadParameter(
            f"no user with the email address or id {value!r}", param_hint="'--user'"
        )
    return user


USER = click.option(
    "--user",
    metavar="EMAIL_OR_ID",
    help="Only this user (email address or primary key).",
)


def _users(count: int) -> str:
    return f"{count:,} user" + ("" if count == 1 else "s")


def _invitations(count: int) -> str:
    return f"{count:,} invitation" + ("" if count == 1 else "s")


@kaleo_cli.command("add-invites", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@AMOUNT
@USER
@click.option(
    "--all",
    "everyone",
    is_flag=True,
    help="Add to every user with a finite allocation, not only those with none left.",
)
def add_invites(amount: int, user: str | None, everyone: bool) -> None:
    """Add N invitations to every user who has none left."""
    target = _resolve_user(user)
    changed = get_kaleo().add_invites(amount, everyone=everyone, user=target)
    click.echo(f"Added {_invitations(amount)} to {_users(changed)}.")


@kaleo_cli.command("topoff-invites", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@AMOUNT
@USER
def topoff_invites(amount: int, user: str | None) -> None:
    """Make sure every user has at least N invitations left."""
    target = _resolve_user(user)
    changed = get_kaleo().topoff_invites(amount, user=target)
    click.echo(f"Topped off {_users(changed)} to at least {_invitations(amount)} remaining.")
