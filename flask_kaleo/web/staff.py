"""The staff JSON endpoints: top off or add to allocations (everyone's or one user's),
and read one user's figures. Guarded by the manage permission, which denies by default
(:meth:`Kaleo.manage_permission <flask_kaleo.Kaleo.manage_permission>`).

They always answer JSON: ``{"status": "OK", ...}`` or the ERROR shape with 401 (not
signed in), 403 (not allowed), 400 (bad CSRF token or bad input), 404 (unknown user)
or 405 (wrong method). The guard, the user lookup and the JSON of each row here serve
:mod:`~flask_kaleo.web.staff_api` too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t

from flask import jsonify

from ..config import MAX_BULK_AMOUNT
from ..i18n import N_
from ..i18n import gettext
from ..models import AuditEntryMixin
from ..models import JoinInvitationMixin
from ..state import get_kaleo
from .answers import Refusal
from .answers import ViewResponse
from .endpoint import endpoint
from .endpoint import fields
from .endpoint import signed_in_user

if t.TYPE_CHECKING:
    from ..core.accountability import InviterRecord
    from ..core.directory import MemberRow
    from ..core.lineage import Node

_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")
_TRUE = ("1", "true", "on", "yes")

staff_endpoint = endpoint(sign_in=N_("Please sign in."), json_only=True)
"""A staff POST: signed in, with a CSRF token, answered in JSON."""
staff_read = endpoint(methods=("GET",), sign_in=N_("Please sign in."), csrf=False, json_only=True)
"""A staff GET: signed in, answered in JSON."""


def check_staff() -> None:
    """A 403 :class:`Refusal` unless the signed-in user has the manage permission."""
    if not get_kaleo().hooks.has_manage_permission(signed_in_user()):
        raise Refusal(gettext("You are not allowed to manage invitations."), 403)


def _amount() -> int:
    """``amount``: a whole number from 0 to :data:`~flask_kaleo.config.MAX_BULK_AMOUNT`."""
    limit = MAX_BULK_AMOUNT
    raw = fields().get("amount", "").strip()
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) > limit:
        message = gettext("amount must be a whole number from 0 to %(limit)d.", limit=limit)
        raise Refusal(message, 400, "amount", code="invalid_amount")
    return int(raw)


def named_user(value: str, field: str = "user") -> object:
    """The user an address or a primary key names, or a 404 :class:`Refusal` on
    ``field``."""
    user = get_kaleo().hooks.member(value, or_id=True) if value.strip() else None
    if user is None:
        message = gettext(
            "There is no user with the email address or id %(user)s.", user=repr(value)
        )
        raise Refusal(message, 404, field, code="unknown_user")
    return user


def figures(user: object) -> dict[str, object]:
    """One user's allocation, invitations and suspension, in two queries."""
    kaleo = get_kaleo()
    stat = kaleo.allocation(user)
    report = kaleo.report(user)
    return {
        "id": kaleo.hooks.user_id(user),
        "email": kaleo.hooks.email(user),
        "invites_allocated": stat.invites_allocated,
        "invites_sent": stat.invites_sent,
        "invites_accepted": stat.invites_accepted,
        "invitations_remaining": stat.invites_remaining,
        "pending": report.pending,
        "expired": report.expired,
        "inviting_suspended": stat.inviting_suspended,
    }


def _bulk(action: t.Literal["topoff", "add"]) -> ViewResponse:
    check_staff()
    amount = _amount()
    target = fields().get("user", "").strip()
    user = named_user(target) if target else None
    kaleo = get_kaleo()
    if action == "topoff":
        changed = kaleo.grant(amount, user=user, top_off=True, by=signed_in_user())
    else:
        everyone = fields().get("everyone", "").strip().lower() in _TRUE
        changed = kaleo.grant(amount, user=user, everyone=everyone, by=signed_in_user())
    body: dict[str, object] = {
        "status": "OK",
        "action": action,
        "amount": amount,
        "users_changed": changed,
    }
    if user is not None:
        body["user"] = figures(user)
    return jsonify(body)


@staff_endpoint
def staff_topoff() -> ViewResponse:
    """Every user (or ``user``) ends with at least ``amount`` invitations left."""
    return _bulk("topoff")


@staff_endpoint
def staff_add() -> ViewResponse:
    """Add ``amount`` to every user with none left (``everyone``: to every finite
    allocation), or to ``user``'s."""
    return _bulk("add")


@staff_read
def staff_stat(user: str) -> ViewResponse:
    """One user's allocation, sent, accepted, remaining, pending and expired counts."""
    check_staff()
    return jsonify({"status": "OK", **figures(named_user(user))})


# -- the JSON of each row of the staff reads (one shape per kind of row) -------


def member_json(row: MemberRow) -> dict[str, object]:
    return {
        "id": row.user_id,
        "email": row.email,
        "invites_allocated": row.allocated,
        "invites_sent": row.sent,
        "invites_accepted": row.accepted,
        "invitations_remaining": row.remaining,
        "inviting_suspended": row.suspended,
        "suspension_reason": row.suspension_reason,
    }


def _when(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def invitation_json(invitation: JoinInvitationMixin) -> dict[str, object]:
    shown = invitation.display_status
    return {
        "id": invitation.id,
        "state": "pending" if shown == "sent" else shown,
        "email": invitation.email,
        "inviter_id": invitation.from_user_id,
        "inviter": invitation.inviter_label,
        "sent_at": _when(invitation.sent_at),
        "expires_at": _when(invitation.expires_at),
        "delivered_at": _when(invitation.delivered_at),
    }


def node_json(node: Node) -> dict[str, object]:
    return {
        "id": node.user_id,
        "label": node.label,
        "deleted": node.user_id is None,
        "inviter_id": node.inviter_id,
        "inviter": node.inviter_label,
        "joined_at": _when(node.joined_at),
        "depth": node.depth,
        "invitees": node.invitees,
        "via": node.via,
    }


def audit_entry_json(entry: AuditEntryMixin) -> dict[str, object]:
    return {
        "id": entry.id,
        "at": _when(entry.at),
        "action": entry.action,
        "actor": entry.actor_label,
        "target": entry.target_label,
        "invitation_id": entry.invitation_id,
        "link_id": entry.link_id,
        "reason": entry.reason,
        "detail": json.loads(entry.detail) if entry.detail else None,
    }


def inviter_json(record: InviterRecord) -> dict[str, object]:
    return {
        "id": record.user_id,
        "label": record.label,
        "sent": record.sent,
        "accepted": record.accepted,
        "acceptance_rate": record.acceptance_rate,
        "in_trouble": record.in_trouble,
        "inviting_suspended": record.suspended,
    }
