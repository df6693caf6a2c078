"""``flask kaleo`` commands for moderation: suspend and resume a member's inviting, draw
who invited whom, and read the audit log. Each action is audited as ``command line``."""

from __future__ import annotations

import json
import typing as t

import click
from flask.cli import with_appcontext

from ..config import SUSPENSION_REASON_MAX_LENGTH
from ..constants import AUDIT_ACTIONS
from ..exceptions import KaleoError
from ..state import get_kaleo
from .params import ACTOR
from .params import DEPTH
from .params import EMAIL
from .params import label
from .params import n_invitations
from .params import n_members
from .params import plural
from .params import resolve_user

if t.TYPE_CHECKING:
    from ..core.lineage import Node
    from ..models import AuditEntryMixin


@click.command("suspend")
@EMAIL
@click.option("--reason", required=True, help="Why, for staff (the member is not told).")
@click.option(
    "--revoke-pending", is_flag=True, help="Also revoke their pending invitations and links."
)
@click.option(
    "--subtree",
    metavar="DEPTH",
    type=DEPTH,
    default=None,
    help="Also suspend everyone they brought in, DEPTH levels down (1 to 10).",
)
@with_appcontext
def suspend(email: str, reason: str, revoke_pending: bool, subtree: int | None) -> None:
    """Stop EMAIL (an address or id) inviting in any way until `resume`."""
    if not reason.strip() or len(reason.strip()) > SUSPENSION_REASON_MAX_LENGTH:
        limit = SUSPENSION_REASON_MAX_LENGTH
        raise click.BadParameter(
            f"give a reason of 1 to {limit:,} characters", param_hint="'--reason'"
        )
    member = resolve_user(email, "EMAIL")
    try:
        report = get_kaleo().suspend_inviting(
            member, reason, by=ACTOR, revoke_pending=revoke_pending, subtree=subtree or 0
        )
    except (KaleoError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Suspended {n_members(report.suspended)}.")
    if revoke_pending:
        links = plural(report.revoked_links, "link")
        click.echo(f"Revoked {n_invitations(report.revoked_invitations)} and {links}.")


@click.command("resume")
@EMAIL
@with_appcontext
def resume(email: str) -> None:
    """Let EMAIL (an address or id) invite again."""
    kaleo = get_kaleo()
    member = resolve_user(email, "EMAIL")
    address = kaleo.hooks.email(member)
    if kaleo.resume_inviting(member, by=ACTOR):
        click.echo(f"{address} may invite again.")
    else:
        click.echo(f"{address} was not suspended.")


@click.command("tree")
@EMAIL
@click.option(
    "--depth",
    metavar="N",
    type=DEPTH,
    default=3,
    show_default=True,
    help="How many levels of those they brought in (1 to 10).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, for machines.")
@with_appcontext
def tree(email: str, depth: int, as_json: bool) -> None:
    """Show who invited EMAIL (an address or id), up to the root, and everyone they
    brought in, DEPTH levels down. Deleted accounts show by their label."""
    kaleo = get_kaleo()
    member = resolve_user(email, "EMAIL")
    found = kaleo.lineage(member, depth=depth)
    if as_json:
        body = {
            "ancestors": [_node(node) for node in found.ancestors],
            "subtree": [_node(node) for node in found.subtree],
            "total_invitees": found.total_invitees,
        }
        click.echo(json.dumps(body, sort_keys=True, default=str))
        return
    chain = [label(node.inviter_label, node.inviter_id) for node in found.ancestors]
    click.echo("Invited by: " + (" < ".join(chain) if chain else "nobody (joined on their own)"))
    click.echo(f"{kaleo.hooks.email(member)} (brought in {found.total_invitees:,})")
    for node in found.subtree:
        joined = f"{node.joined_at:%Y-%m-%d}"
        click.echo(
            f"{'  ' * node.depth}{label(node.label, node.user_id)}"
            f" (brought in {node.invitees:,}; joined {joined} by {node.via})"
        )


def _node(node: Node) -> dict[str, object]:
    """A node in the shape of the staff JSON endpoint ``/staff/api/tree``."""
    return {
        "id": node.user_id,
        "label": node.label,
        "deleted": node.user_id is None,
        "inviter_id": node.inviter_id,
        "inviter": node.inviter_label,
        "joined_at": node.joined_at.isoformat(),
        "depth": node.depth,
        "invitees": node.invitees,
        "via": node.via,
    }


@click.command("audit")
@click.option(
    "--limit",
    metavar="N",
    type=click.IntRange(min=1, max=1000),
    default=50,
    show_default=True,
    help="How many entries, newest first.",
)
@click.option(
    "--action",
    metavar="ACTION",
    default=None,
    help=f"Only this action: {', '.join(AUDIT_ACTIONS)}.",
)
@click.option("--user", metavar="EMAIL_OR_ID", default=None, help="Only entries about this member.")
@click.option("--by", metavar="EMAIL_OR_ID", default=None, help="Only what this member did.")
@click.option(
    "--before",
    metavar="ENTRY_ID",
    type=click.IntRange(min=1, max=2**63 - 1),
    default=None,
    help="Only entries older than this one (the next page).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
@with_appcontext
def audit(
    limit: int,
    action: str | None,
    user: str | None,
    by: str | None,
    before: int | None,
    as_json: bool,
) -> None:
    """Show the staff actions recorded in the audit log, newest first."""
    kaleo = get_kaleo()
    if action is not None and action not in AUDIT_ACTIONS:
        choices = ", ".join(AUDIT_ACTIONS)
        raise click.BadParameter(f"{action!r} is not one of {choices}", param_hint="'--action'")
    target = resolve_user(user)
    actor = resolve_user(by, "'--by'")
    entries = kaleo.audit_log(
        actor=actor, target=target, action=action, before=before, limit=limit + 1
    )
    for entry in entries[:limit]:
        click.echo(json.dumps(_entry(entry), sort_keys=True) if as_json else _line(entry))
    if as_json:
        return
    if not entries:
        click.echo("No entries.")
    elif len(entries) > limit:
        click.echo(f"More: --before {entries[limit - 1].id}")


def _entry(entry: AuditEntryMixin) -> dict[str, object]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "action": entry.action,
        "actor": entry.actor_label,
        "target": entry.target_label,
        "invitation_id": entry.invitation_id,
        "link_id": entry.link_id,
        "reason": entry.reason,
        "detail": json.loads(entry.detail) if entry.detail else None,
    }


def _line(entry: AuditEntryMixin) -> str:
    parts = [
        f"{entry.id}",
        f"{entry.at:%Y-%m-%d %H:%M}",
        entry.action,
        f"by {entry.actor_label or '(unknown)'}",
        f"on {entry.target_label or 'everyone'}",
    ]
    if entry.invitation_id is not None:
        parts.append(f"invitation {entry.invitation_id}")
    if entry.link_id is not None:
        parts.append(f"link {entry.link_id}")
    if entry.detail:
        parts.append(entry.detail)
    if entry.reason:
        parts.append(f"reason: {entry.reason}")
    return "  ".join(parts)
