"""``flask kaleo`` commands for invitations after sending: remind, extend, and staff's
list, revoke and resend (audited as ``command line``)."""

from __future__ import annotations

import datetime as dt
import typing as t

import click
from flask.cli import with_appcontext

from ..constants import INVITATION_STATES
from ..constants import NEVER
from ..exceptions import KaleoError
from ..models import JoinInvitationMixin
from ..state import get_kaleo
from .params import ACTOR
from .params import INVITATION_ID
from .params import Duration
from .params import duration_help
from .params import label
from .params import n_invitations
from .params import resolve_user


@click.command("remind")
@click.option(
    "--after",
    type=Duration(),
    required=True,
    help=duration_help("Remind invitations last mailed more than this long ago."),
)
@with_appcontext
def remind(after: dt.timedelta) -> None:
    """Mail one reminder, under a new accept URL, to each pending invitation whose last
    email went out more than AFTER ago; never twice. Invitations created without email,
    invitations to members, those whose inviter may no longer invite and those whose
    address has since become a member's are left alone. Safe to run from cron, even
    twice at once."""
    report = get_kaleo().remind(after)
    click.echo(
        f"Reminded {n_invitations(report.reminded)}; {report.limited:,} held back by a daily"
        f" sending limit, {report.failed:,} not delivered (left for a later run),"
        f" {report.skipped:,} no longer to be mailed."
    )


@click.command("extend")
@INVITATION_ID
@click.option(
    "--by",
    type=Duration(),
    default=None,
    help=duration_help("Move the expiry this much later (from now, if it has passed)."),
)
@click.option("--never", is_flag=True, help="Never expire (the inviter must be staff).")
@with_appcontext
def extend(invitation_id: int, by: dt.timedelta | None, never: bool) -> None:
    """Extend invitation ID, keeping its accept URL; an expired one comes back to life. The
    bounds of the inviter apply (KALEO_EXPIRATION_BOUNDS unless they have the manage
    permission)."""
    if (by is None) == (not never):
        raise click.UsageError("give either --by DURATION or --never")
    kaleo = get_kaleo()
    invitation = _invitation(invitation_id)
    try:
        if never:
            kaleo.extend(invitation, to=NEVER, actor=ACTOR)
        else:
            kaleo.extend(invitation, by=by, actor=ACTOR)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    expires = invitation.expires_at
    when = "never expires" if expires is None else f"expires {expires:%Y-%m-%d %H:%M} UTC"
    click.echo(f"The invitation to {invitation.email} now {when}.")


def _invitation(invitation_id: int) -> JoinInvitationMixin:
    """Invitation ID, or a usage error."""
    kaleo = get_kaleo()
    invitation = kaleo.get(kaleo.JoinInvitation, invitation_id)
    if invitation is None:
        raise click.BadParameter(f"no invitation with id {invitation_id}", param_hint="ID")
    return invitation


@click.command("list")
@click.option(
    "--state",
    metavar="STATE",
    default=None,
    help=f"Only invitations in this state: {', '.join(INVITATION_STATES)}.",
)
@click.option(
    "--from", "from_user", metavar="EMAIL_OR_ID", default=None, help="Only this member's."
)
@click.option(
    "--limit",
    metavar="N",
    type=click.IntRange(min=1, max=1000),
    default=50,
    show_default=True,
    help="How many, newest first.",
)
@click.option("--after", metavar="CURSOR", default=None, help="The next page (printed last).")
@with_appcontext
def list_invitations(
    state: str | None, from_user: str | None, limit: int, after: str | None
) -> None:
    """List invitations, newest first: id, state, when sent, inviter and address (to
    find the ids that revoke, resend and extend take)."""
    kaleo = get_kaleo()
    if state is not None and state not in INVITATION_STATES:
        choices = ", ".join(INVITATION_STATES)
        raise click.BadParameter(f"{state!r} is not one of {choices}", param_hint="'--state'")
    inviter = resolve_user(from_user, "'--from'")
    try:
        page = kaleo.invitations(
            state=t.cast("t.Any", state), inviter=inviter, after=after, limit=limit
        )
    except ValueError:
        raise click.BadParameter(
            "not a cursor this command printed", param_hint="'--after'"
        ) from None
    rows = [
        (
            str(invitation.id),
            _state(invitation),
            f"{invitation.sent_at:%Y-%m-%d %H:%M}",
            label(invitation.inviter_label, invitation.from_user_id),
            invitation.email,
        )
        for invitation in page.rows
    ]
    if not rows:
        click.echo("No invitations.")
    else:
        header = ("ID", "STATE", "SENT (UTC)", "FROM", "TO")
        widths = [max(len(row[n]) for row in [header, *rows]) for n in range(len(header))]
        for row in [header, *rows]:
            click.echo(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
    if page.after is not None:
        click.echo(f"More: --after {page.after}")


def _state(invitation: JoinInvitationMixin) -> str:
    """The state as ``--state`` names it (an unanswered one is ``pending``)."""
    shown = invitation.display_status
    return "pending" if shown == "sent" else shown


@click.command("revoke")
@INVITATION_ID
@with_appcontext
def revoke(invitation_id: int) -> None:
    """Withdraw invitation ID and give it back to its inviter."""
    invitation = _invitation(invitation_id)
    try:
        get_kaleo().revoke(invitation, by=ACTOR)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Revoked the invitation to {invitation.email}; gave it back to its inviter.")


@click.command("resend")
@INVITATION_ID
@with_appcontext
def resend(invitation_id: int) -> None:
    """Email invitation ID again, under a new accept URL (it spends nothing). Like
    invite, it needs KALEO_SITE_URL (or SERVER_NAME)."""
    invitation = _invitation(invitation_id)
    try:
        get_kaleo().resend(invitation, by=ACTOR)
    except KaleoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Sent the invitation to {invitation.email} again, under a new accept URL.")
