"""``flask kaleo`` commands for allocations: kaleo's add-invites and topoff-invites
(set-based), infinite-invites, set-allocation, the report, and purging expired
invitations. Allocation changes are audited as ``command line``."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import click
from flask.cli import with_appcontext

from ..config import MAX_AMOUNT
from ..config import UNLIMITED
from ..config.durations import format_duration
from ..state import get_kaleo
from .params import ACTOR
from .params import AMOUNT
from .params import AMOUNT_HELP
from .params import EMAIL
from .params import NEGATIVE_NUMBERS_ARE_ARGUMENTS
from .params import USER
from .params import Duration
from .params import duration_help
from .params import n_invitations
from .params import n_users
from .params import resolve_user


@click.command(
    "add-invites",
    context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS,
    help=f"Add N invitations to every user who has none left. {AMOUNT_HELP}",
)
@AMOUNT
@USER
@click.option(
    "--all",
    "--everyone",
    "everyone",
    is_flag=True,
    help="Add to every user with a finite allocation, not only those with none left.",
)
@with_appcontext
def add_invites(amount: int, user: str | None, everyone: bool) -> None:
    target = resolve_user(user)
    changed = get_kaleo().grant(amount, user=target, everyone=everyone, by=ACTOR)
    click.echo(f"Added {n_invitations(amount)} to {n_users(changed)}.")
    if target is not None and not changed:
        click.echo(_why_unchanged(target, "add-invites", amount))


@click.command(
    "topoff-invites",
    context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS,
    help=f"Make sure every user has at least N invitations left. {AMOUNT_HELP}",
)
@AMOUNT
@USER
@with_appcontext
def topoff_invites(amount: int, user: str | None) -> None:
    target = resolve_user(user)
    changed = get_kaleo().grant(amount, user=target, top_off=True, by=ACTOR)
    click.echo(f"Topped off {n_users(changed)} to at least {n_invitations(amount)} remaining.")
    if target is not None and not changed:
        click.echo(_why_unchanged(target, "topoff-invites", amount))


@click.command("infinite-invites")
@USER
@with_appcontext
def infinite_invites(user: str | None) -> None:
    """Give every user (or one) unlimited invitations."""
    target = resolve_user(user)
    changed = get_kaleo().grant(UNLIMITED, user=target, by=ACTOR)
    click.echo(f"Gave unlimited invitations to {n_users(changed)}.")
    if target is not None and not changed:
        click.echo(_why_unchanged(target, "infinite-invites", UNLIMITED))


def _why_unchanged(member: object, command: str, amount: int) -> str:
    """Why a grant to one member changed nothing, read after it. The only reasons are
    an unlimited allocation, which no grant changes, and invitations left: any, for
    ``add-invites`` without ``--everyone``; at least N, for ``topoff-invites``."""
    kaleo = get_kaleo()
    email = kaleo.hooks.email(member)
    left = kaleo.invitations_remaining(member)
    if left == UNLIMITED:
        return f"{email} already has unlimited invitations, which {command} leaves alone."
    if command == "topoff-invites":
        return f"{email} already has {n_invitations(left)} left, at least {amount:,}."
    return (
        f"{email} still has {n_invitations(left)} left: add-invites adds only to members"
        f" with none left. Use 'add-invites {amount} --everyone --user {email}' to add"
        f" anyway, or 'set-allocation {email} N' for an exact allocation."
    )


class Allocation(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 only
    """An allocation: a whole number from 0 to :data:`~flask_kaleo.config.MAX_AMOUNT`, or
    ``unlimited`` (or -1). Anything else exits 2 with a usage message."""

    name = "N"

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        text = str(value).strip().lower()
        if text in ("unlimited", str(UNLIMITED)):
            return UNLIMITED
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_AMOUNT:
            self.fail(
                f"{value!r} is not a whole number from 0 to {MAX_AMOUNT:,}, or 'unlimited'.",
                param,
                ctx,
            )
        return int(text)


@click.command(
    "set-allocation",
    context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS,
    help="Give EMAIL (an address or id) an allocation of N invitations in all, sent ones"
    f" included (N: a whole number from 0 to {MAX_AMOUNT:,}, or unlimited or -1). Below"
    " what they sent is refused.",
)
@EMAIL
@click.argument("allocated", metavar="N", type=Allocation())
@with_appcontext
def set_allocation(email: str, allocated: int) -> None:
    kaleo = get_kaleo()
    member = resolve_user(email, "EMAIL")
    try:
        kaleo.set_allocation(member, allocated, by=ACTOR)
    except ValueError:
        sent = kaleo.allocation(member).invites_sent
        raise click.ClickException(
            f"{kaleo.hooks.email(member)} has already sent {n_invitations(sent)}:"
            f" the allocation cannot be less ({allocated:,} asked)"
        ) from None
    left = kaleo.invitations_remaining(member)
    shown = "unlimited" if allocated == UNLIMITED else f"{allocated:,}"
    remaining = "unlimited" if left == UNLIMITED else f"{left:,}"
    click.echo(f"Set the allocation of {kaleo.hooks.email(member)} to {shown} ({remaining} left).")


@click.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, for machines.")
@with_appcontext
def report(as_json: bool) -> None:
    """Show how many invitations were sent, accepted, joined independently, are
    pending, expired, revoked or undeliverable, and the acceptance rate (accepted /
    sent)."""
    figures = get_kaleo().report()
    if as_json:
        click.echo(json.dumps(figures.as_dict(), sort_keys=True))
        return
    rate = figures.acceptance_rate
    rows = [
        ("Sent", f"{figures.sent:,}"),
        ("Accepted", f"{figures.accepted:,}"),
        ("Joined independently", f"{figures.joined_independently:,}"),
        ("Pending", f"{figures.pending:,}"),
        ("Expired", f"{figures.expired:,}"),
        ("Revoked", f"{figures.revoked:,}"),
        ("Undeliverable", f"{figures.undeliverable:,}"),
        ("Acceptance rate", "n/a" if rate is None else f"{rate:.1%}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"{label + ':':<{width + 1}} {value}")


@click.command("purge-expired")
@click.option(
    "--older-than",
    type=Duration(allow_zero=True),
    default="30d",
    show_default=True,
    help=duration_help(
        "Only invitations that expired more than this long ago.", zero="for every expired one"
    ),
)
@click.option("--dry-run", is_flag=True, help="Only say how many would be deleted.")
@with_appcontext
def purge_expired(older_than: dt.timedelta, dry_run: bool) -> None:
    """Delete unanswered invitations that expired a while ago (in one statement).

    Allocations are untouched: an expired invitation stays spent. Expired shareable
    links give their unused uses back (once each).
    """
    purged = get_kaleo().purge_expired(older_than, dry_run=dry_run)
    ago = format_duration(older_than)
    what = f"{n_invitations(purged.deleted)} that expired more than {ago} ago"
    click.echo(f"Would delete {what}." if dry_run else f"Deleted {what}.")
    if purged.given_back:
        click.echo(f"Gave back {n_invitations(purged.given_back)} unused by expired links.")
