"""``flask kaleo`` commands for shareable links: create-link and revoke-link."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from ..config import MAX_AMOUNT
from ..exceptions import KaleoError
from ..state import get_kaleo
from .params import ACTOR
from .params import FROM_USER
from .params import Duration
from .params import duration_help
from .params import n_invitations
from .params import resolve_user


@click.command("create-link")
@FROM_USER
@click.option(
    "--uses",
    metavar="N",
    type=click.IntRange(min=1, max=MAX_AMOUNT),
    required=True,
    help="How many people may join through it (taken from FROM_USER's invitations).",
)
@click.option(
    "--expires-in",
    type=Duration(),
    default=None,
    help=duration_help("How long it works (default KALEO_DEFAULT_EXPIRATION)."),
)
@click.option("--domain", metavar="DOMAIN", default=None, help="Only addresses at DOMAIN.")
@with_appcontext
def create_link(
    from_user: str, uses: int, expires_in: dt.timedelta | None, domain: str | None
) -> None:
    """Create a shareable link for up to N people on behalf of FROM_USER and print it.

    The link is printed once: only its digest is stored. It is built from
    KALEO_SITE_URL (or SERVER_NAME and PREFERRED_URL_SCHEME).
    """
    kaleo = get_kaleo()
    inviter = resolve_user(from_user, "FROM_USER")
    try:
        link = kaleo.create_link(inviter, uses, expires_in=expires_in, domain=domain)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(link.url)
    click.echo(f"Link {link.id}: for {uses} {'person' if uses == 1 else 'people'}.", err=True)


@click.command("revoke-link")
@click.argument("link_id", metavar="LINK_ID", type=click.IntRange(min=1, max=2**31 - 1))
@with_appcontext
def revoke_link(link_id: int) -> None:
    """Withdraw the shareable link LINK_ID; its unused uses go back to its creator."""
    kaleo = get_kaleo()
    link = kaleo.get(kaleo.InvitationLink, link_id)
    if link is None:
        raise click.BadParameter(f"no link with the id {link_id}", param_hint="LINK_ID")
    try:
        kaleo.revoke(link, by=ACTOR)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Withdrew link {link_id}; gave back {n_invitations(link.given_back or 0)}.")
