"""``flask kaleo ...``: kaleo's two management commands (set-based) and the staff's tools."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
import sys
import typing as t

import click
from flask import current_app
from flask.cli import AppGroup

from .config import MAX_AMOUNT
from .config import UNLIMITED
from .core.expiry import NEVER
from .exceptions import ConfigurationError
from .exceptions import InvitationRefused
from .exceptions import KaleoError
from .state import get_kaleo

kaleo_cli = AppGroup("kaleo", help="Manage invitation allocations (flask-kaleo).")

AMOUNT = click.argument("amount", metavar="N", type=click.IntRange(min=0, max=MAX_AMOUNT))


class FiniteRange(click.FloatRange):
    """A float range that also refuses ``nan`` (which compares false with both bounds,
    so click's own range lets it through)."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        number = super().convert(value, param, ctx)
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


def _resolve_user(value: str | None, hint: str = "'--user'") -> t.Any:
    """``--user`` and ``FROM_USER`` take an email address or a primary key.

    Resolved in the command's body, not in an option callback: option callbacks run
    before Flask pushes the app context when the group is invoked through ``app.cli``
    (as ``app.test_cli_runner()`` and embedding apps do).
    """
    if value is None:
        return None
    user = get_kaleo().user_by_email_or_id(value)
    if user is None:
        raise click.BadParameter(f"no user with the email address or id {value!r}", param_hint=hint)
    return user


USER = click.option(
    "--user",
    metavar="EMAIL_OR_ID",
    help="Only this user (email address or primary key).",
)


def _users(count: int) -> str:
    return plural(count, "user")


def _invitations(count: int) -> str:
    return plural(count, "invitation")


@kaleo_cli.command("add-invites", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@AMOUNT
@USER
@click.option(
    "--all",
    "--everyone",
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


@kaleo_cli.command("infinite-invites")
@USER
def infinite_invites(user: str | None) -> None:
    """Give every user (or one) unlimited invitations."""
    changed = get_kaleo().infinite_invites(user=_resolve_user(user))
    click.echo(f"Gave unlimited invitations to {_users(changed)}.")


@kaleo_cli.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, for machines.")
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


@kaleo_cli.command("purge-expired")
@click.option(
    "--older-than",
    "days",
    metavar="DAYS",
    type=FiniteRange(min=0, max=36500),
    default=30,
    show_default=True,
    help="Only invitations that expired more than DAYS days ago (0: every expired one).",
)
@click.option("--dry-run", is_flag=True, help="Only say how many would be deleted.")
def purge_expired(days: float, dry_run: bool) -> None:
    """Delete unanswered invitations that expired a while ago (in one statement).

    Allocations are untouched: an expired invitation stays spent. Expired shareable
    links give their unused uses back (once each).
    """
    count = get_kaleo().purge_expired(dt.timedelta(days=days), dry_run=dry_run)
    what = f"{_invitations(count)} that expired more than {days:g} days ago"
    click.echo(f"Would delete {what}." if dry_run else f"Deleted {what}.")
    returned = 0 if dry_run else get_kaleo().settle_expired_links()
    if returned:
        click.echo(f"Gave back {_invitations(returned)} unused by expired links.")


FROM_USER = click.argument("from_user", metavar="FROM_USER")


@kaleo_cli.command("invite")
@FROM_USER
@click.argument("email")
@click.option("--message", default=None, help="A personal note for the email.")
@click.option("--force", is_flag=True, help="Send even if FROM_USER has no invitations left.")
@click.option(
    "--no-send",
    "no_send",
    is_flag=True,
    help="Mail nothing: spend and record the invitation, and print its link to share.",
)
def invite(from_user: str, email: str, message: str | None, force: bool, no_send: bool) -> None:
    """Send an invitation to EMAIL on behalf of FROM_USER (email address or id).

    The link in the email is built from KALEO_SITE_URL (or SERVER_NAME and
    PREFERRED_URL_SCHEME), which must be set. Without --force it spends one of
    FROM_USER's invitations.
    """
    kaleo = get_kaleo()
    inviter = _resolve_user(from_user, "FROM_USER")
    try:
        invitation = kaleo.invite(inviter, email, message, force=force, send=not no_send)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    left = kaleo.invitations_remaining(inviter)
    if no_send:
        click.echo(
            f"Created an invitation link for {invitation.email} from"
            f" {kaleo.store.user_email(inviter)} (no email sent;"
            f" {'unlimited' if left == UNLIMITED else left} left). Shown once:"
        )
        click.echo(invitation.accept_url)
        return
    click.echo(
        f"Sent an invitation to {invitation.email} from {kaleo.store.user_email(inviter)}"
        f" ({'unlimited' if left == UNLIMITED else left} left)."
    )


@kaleo_cli.command("import-invites")
@FROM_USER
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
def import_invites(from_user: str, csv_file: str) -> None:
    """Send FROM_USER's invitations to every row of FILE.csv.

    The file has a header with an "email" column and optionally "message". Each row
    is its own invitation, spent and stored in one transaction and then delivered; a
    row whose email cannot be delivered is given back. Exits with status 1 when any
    row was refused.
    """
    inviter = _resolve_user(from_user, "FROM_USER")
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
    click.echo(f"Sent {_invitations(sent)}, refused {refused:,}, of {total:,} rows.")


@kaleo_cli.command("deliver")
@click.option(
    "--older-than",
    "seconds",
    metavar="SECONDS",
    type=FiniteRange(min=0, max=10**8),
    default=None,
    help="Only deliveries waiting longer than this (default KALEO_DELIVERY_STUCK_AFTER).",
)
def deliver(seconds: float | None) -> None:
    """Finish invitations whose email never went out (a killed process, a lost job).

    Inline, they are delivered now; queued, they are queued again; those that expired
    waiting go back to their inviters; a resend or reminder the relay refuses puts its
    earlier link back. An email another process is delivering right now (within its
    lease) is left to it. Safe to run from cron, even while workers and another run
    are delivering: each email goes once.
    """
    older_than = None if seconds is None else dt.timedelta(seconds=seconds)
    report = get_kaleo().deliver_stuck(older_than)
    click.echo(
        f"Delivered {report.delivered:,}, queued {report.queued:,}, gave back"
        f" {report.given_back:,}, left {report.failed:,} for a later try, put back"
        f" {report.put_back:,} earlier links."
    )


@kaleo_cli.command("worker")
@click.option("--burst", is_flag=True, help="Deliver what is queued, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker that delivers invitations (KALEO_DELIVERY = 'rq')."""
    if current_app.config["KALEO_DELIVERY"] != "rq":
        raise click.UsageError("the worker delivers for KALEO_DELIVERY = 'rq' only")
    from .delivery.rq import work

    work(burst=burst)


@kaleo_cli.command("create-link")
@FROM_USER
@click.option(
    "--uses",
    metavar="N",
    type=click.IntRange(min=1, max=MAX_AMOUNT),
    required=True,
    help="How many people may join through it (taken from FROM_USER's invitations).",
)
@click.option(
    "--days",
    metavar="D",
    type=DAYS,
    default=None,
    help="How long it works (default KALEO_DEFAULT_EXPIRATION).",
)
@click.option("--domain", metavar="DOMAIN", default=None, help="Only addresses at DOMAIN.")
def create_link(from_user: str, uses: int, days: float | None, domain: str | None) -> None:
    """Create a shareable link for up to N people on behalf of FROM_USER and print it.

    The link is printed once: only its digest is stored. It is built from
    KALEO_SITE_URL (or SERVER_NAME and PREFERRED_URL_SCHEME).
    """
    kaleo = get_kaleo()
    inviter = _resolve_user(from_user, "FROM_USER")
    expires_in = None if days is None else dt.timedelta(days=days)
    try:
        link = kaleo.create_link(inviter, uses, expires_in=expires_in, domain=domain)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(link.url)
    click.echo(f"Link {link.id}: for {uses} {'person' if uses == 1 else 'people'}.", err=True)


@kaleo_cli.command("revoke-link")
@click.argument("link_id", metavar="LINK_ID", type=click.IntRange(min=1, max=2**31 - 1))
def revoke_link(link_id: int) -> None:
    """Withdraw the shareable link LINK_ID; its unused uses go back to its creator."""
    kaleo = get_kaleo()
    link = kaleo.link(link_id)
    if link is None:
        raise click.BadParameter(f"no link with the id {link_id}", param_hint="LINK_ID")
    try:
        kaleo.revoke_link(link)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Withdrew link {link_id}; gave back {_invitations(link.given_back or 0)}.")


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


@kaleo_cli.command("remind")
@click.option(
    "--after",
    type=Duration(),
    required=True,
    help="Remind invitations last mailed more than this long ago (3d, 12h, 1d12h).",
)
def remind(after: dt.timedelta) -> None:
    """Mail one reminder, under a new link, to each pending invitation not accepted
    AFTER its email; never twice. Links created without email, invitations to members,
    those whose inviter may no longer invite and those whose address has since become
    a member's are left alone. Safe to run from cron, even twice at once."""
    report = get_kaleo().remind(after)
    click.echo(
        f"Reminded {_invitations(report.reminded)}; {report.limited:,} held back by a daily"
        f" sending limit, {report.failed:,} not delivered (left for a later run),"
        f" {report.skipped:,} no longer to be mailed."
    )


@kaleo_cli.command("extend")
@click.argument("invitation_id", metavar="ID", type=click.IntRange(min=1, max=2**63 - 1))
@click.option(
    "--days",
    metavar="N",
    type=DAYS,
    default=None,
    help="Move the expiry N days later (from now, if it has passed).",
)
@click.option("--never", is_flag=True, help="Never expire (the inviter must be staff).")
def extend(invitation_id: int, days: float | None, never: bool) -> None:
    """Extend invitation ID, keeping its link; an expired one comes back to life. The
    bounds of the inviter apply (KALEO_MAX_EXPIRATION unless they have the manage
    permission)."""
    if (days is None) == (not never):
        raise click.UsageError("give either --days N or --never")
    kaleo = get_kaleo()
    invitation = kaleo.store.invitation(invitation_id)
    if invitation is None:
        raise click.BadParameter(f"no invitation with id {invitation_id}", param_hint="ID")
    try:
        if never:
            kaleo.extend(invitation, to=NEVER)
        else:
            kaleo.extend(invitation, by=dt.timedelta(days=t.cast(float, days)))
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    expires = invitation.expires_at
    when = "never expires" if expires is None else f"expires {expires:%Y-%m-%d %H:%M} UTC"
    click.echo(f"The invitation to {invitation.email} now {when}.")
