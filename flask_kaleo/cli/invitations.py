"""``flask kaleo`` commands that send invitations: invite and import-invites."""

from __future__ import annotations

import csv
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..config import UNLIMITED
from ..exceptions import ConfigurationError
from ..exceptions import InvitationRefused
from ..exceptions import KaleoError
from ..state import get_kaleo
from .params import FROM_USER
from .params import n_invitations
from .params import resolve_user


@click.command("invite")
@FROM_USER
@click.argument("email")
@click.option("--message", default=None, help="A personal note for the email.")
@click.option("--force", is_flag=True, help="Send even if FROM_USER has no invitations left.")
@click.option(
    "--no-send",
    "no_send",
    is_flag=True,
    help="Mail nothing: spend and record the invitation, and print its accept URL to share.",
)
@with_appcontext
def invite(from_user: str, email: str, message: str | None, force: bool, no_send: bool) -> None:
    """Send an invitation to EMAIL on behalf of FROM_USER (email address or id).

    The accept URL in the email is built from KALEO_SITE_URL (or SERVER_NAME and
    PREFERRED_URL_SCHEME), which must be set. Without --force it spends one of
    FROM_USER's invitations.
    """
    kaleo = get_kaleo()
    inviter = resolve_user(from_user, "FROM_USER")
    try:
        invitation = kaleo.invite(inviter, email, message, force=force, send=not no_send)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    left = kaleo.invitations_remaining(inviter)
    if no_send:
        click.echo(
            f"Created an invitation without email for {invitation.email} from"
            f" {kaleo.hooks.email(inviter)} (no email sent;"
            f" {'unlimited' if left == UNLIMITED else left} left). Shown once:"
        )
        click.echo(invitation.accept_url)
        return
    click.echo(
        f"Sent an invitation to {invitation.email} from {kaleo.hooks.email(inviter)}"
        f" ({'unlimited' if left == UNLIMITED else left} left)."
    )


@click.command("import-invites")
@FROM_USER
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_invites(from_user: str, csv_file: str) -> None:
    """Send FROM_USER's invitations to every row of FILE.csv.

    The file has a header with an "email" column and optionally "message". Each row
    is its own invitation, spent and stored in one transaction and then delivered; a
    row whose email cannot be delivered is given back. Exits with status 1 when any
    row was refused.
    """
    inviter = resolve_user(from_user, "FROM_USER")
    rows = _read_rows(csv_file)
    kaleo = get_kaleo()
    report: list[str] = []
    sent = refused = 0
    bar = click.progressbar(rows, label="Sending invitations", show_pos=True, file=sys.stderr)
    with bar as progress:
        for number, row in progress:
            address = (row.get("email") or "").strip()
            shown = (
                address
                if len(address) <= 100
                else f"{address[:100]}… ({len(address):,} characters)"
            )
            try:
                kaleo.invite(inviter, address, row.get("message"))
            except InvitationRefused as error:
                refused += 1
                report.append(f"line {number}: refused {shown or '(empty)'}: {error}")
            except ConfigurationError as error:
                # The setup is wrong for every row: stop here (earlier rows are committed).
                report.append(f"line {number}: not sent {shown}: {error}")
                _print_report(report, sent, refused, len(rows))
                raise click.ClickException(f"stopped at line {number}: {error}") from None
            except Exception as error:  # one bad row never costs the others their report
                current_app.logger.exception("flask-kaleo: line %d of %s", number, csv_file)
                refused += 1
                report.append(f"line {number}: not sent {shown}: unexpected error ({error})")
            else:
                sent += 1
                report.append(f"line {number}: sent to {shown}")
    _print_report(report, sent, refused, len(rows))
    if refused:
        click.get_current_context().exit(1)


CSV_FIELD_LIMIT = 16 * 1024 * 1024
"""The longest field read (Python's csv stops at 128 KiB): a longer address or message is
refused row by row, with the reason, instead of failing the whole file."""


def _read_rows(path: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of the CSV with their line numbers; a usage error if it is unreadable."""
    previous_limit = csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = [name.strip().lower() for name in reader.fieldnames or []]
            if "email" not in fields:
                raise click.BadParameter(
                    "the first line must be a header with an 'email' column",
                    param_hint="FILE.csv",
                )
            reader.fieldnames = fields
            return [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as error:
        raise click.BadParameter(f"not a UTF-8 file ({error})", param_hint="FILE.csv") from None
    except csv.Error as error:
        raise click.BadParameter(
            f"not a readable CSV file ({error}); nothing was sent", param_hint="FILE.csv"
        ) from None
    finally:
        csv.field_size_limit(previous_limit)


def _print_report(report: list[str], sent: int, refused: int, total: int) -> None:
    for line in report:
        click.echo(line)
    click.echo(f"Sent {n_invitations(sent)}, refused {refused:,}, of {total:,} rows.")
