"""The staff JSON reads (members, invitations, the invitation tree, the audit log, the
accountability report), each a keyset page or a bounded list, and the suspend and
resume actions. Behind the manage permission, with the ERROR contract of
:mod:`~flask_kaleo.web.staff`; a bad parameter is a 400 naming it.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t

from flask import jsonify
from flask import request

from ..config import SUSPENSION_REASON_MAX_LENGTH
from ..constants import ACCOUNTABILITY_SORTS
from ..constants import AUDIT_ACTIONS
from ..constants import INVITATION_STATES
from ..i18n import gettext
from ..state import get_kaleo
from .answers import Refusal
from .answers import ViewResponse
from .endpoint import fields
from .endpoint import signed_in_user
from .staff import audit_entry_json
from .staff import check_staff
from .staff import figures
from .staff import invitation_json
from .staff import inviter_json
from .staff import member_json
from .staff import named_user
from .staff import node_json
from .staff import staff_endpoint
from .staff import staff_read

_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")
_RATE = re.compile(r"[01](?:\.[0-9]{1,6})?|\.[0-9]{1,6}")
_TRUE = ("1", "true", "on", "yes")
MAX_DEPTH = 10
"""The deepest tree (and subtree suspension) the endpoints read."""
MAX_PAGE = 200
"""The most rows a page of members, invitations or audit entries holds."""


def _bad(field: str, message: str) -> Refusal:
    return Refusal(message, 400, field, code="invalid_parameter")


def _text(name: str, limit: int = 254) -> str | None:
    """A query parameter as text (None when absent or blank), at most ``limit`` long."""
    value = request.args.get(name, "").strip()
    if len(value) > limit:
        raise _bad(name, gettext("%(name)s is too long.", name=name))
    return value or None


def _whole(name: str, low: int, high: int, default: int | None = None) -> int | None:
    """A whole number from ``low`` to ``high`` in the query (or a form field)."""
    source = request.args if request.method == "GET" else fields()
    raw = source.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        message = gettext(
            "%(name)s must be a whole number from %(low)d to %(high)d.",
            name=name,
            low=low,
            high=high,
        )
        raise _bad(name, message)
    return int(raw)


def _choice(name: str, choices: t.Sequence[str]) -> str | None:
    value = _text(name)
    if value is not None and value not in choices:
        message = gettext(
            "%(name)s must be one of %(choices)s.", name=name, choices=", ".join(choices)
        )
        raise _bad(name, message)
    return value


def _moment(name: str) -> dt.datetime | None:
    """An ISO 8601 date (midnight UTC) or time (UTC unless it says otherwise)."""
    value = _text(name, 40)
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
        # Stored in UTC, where a moment before year 1 or after 9999 is none.
        return (
            moment.astimezone(dt.timezone.utc)
            if moment.tzinfo
            else moment.replace(tzinfo=dt.timezone.utc)
        )
    except (ValueError, OverflowError):
        message = gettext("%(name)s must be a date or a time (ISO 8601).", name=name)
        raise _bad(name, message) from None


def _limit() -> int:
    """``limit``: how many rows a page holds, 1 to :data:`MAX_PAGE` (default 50)."""
    return t.cast(int, _whole("limit", 1, MAX_PAGE, default=50))


def _page(read: t.Callable[[str | None], t.Any]) -> t.Any:
    """``read(after)`` with the ``after`` cursor; a cursor the domain refuses is a 400."""
    after = _text("after", 500)
    try:
        return read(after)
    except ValueError:
        raise _bad("after", gettext("after is not a cursor of this list.")) from None


@staff_read
def staff_members() -> ViewResponse:
    """Members with their counters, by address; ``search`` matches an address's start."""
    check_staff()
    search = _text("search")
    limit = _limit()
    page = _page(lambda after: get_kaleo().members(search=search, after=after, limit=limit))
    rows = [member_json(row) for row in page.rows]
    return jsonify({"status": "OK", "members": rows, "after": page.after})


@staff_read
def staff_invitations() -> ViewResponse:
    """Every invitation, newest first, filtered by state, inviter, address and date."""
    check_staff()
    kaleo = get_kaleo()
    state = _choice("state", INVITATION_STATES)
    inviter_value = _text("from")
    inviter = None if inviter_value is None else named_user(inviter_value, "from")
    address = _text("address")
    sent_from, sent_until = _moment("sent_from"), _moment("sent_until")
    limit = _limit()
    page = _page(
        lambda after: kaleo.invitations(
            state=t.cast("t.Any", state),
            inviter=inviter,
            address=address,
            sent_from=sent_from,
            sent_until=sent_until,
            after=after,
            limit=limit,
        )
    )
    rows = [invitation_json(row) for row in page.rows]
    return jsonify({"status": "OK", "invitations": rows, "after": page.after})


@staff_read
def staff_tree(user: str) -> ViewResponse:
    """``user``'s chain of inviters to the root and their subtree, ``depth`` levels."""
    check_staff()
    depth = _whole("depth", 1, MAX_DEPTH, default=3)
    member = named_user(user)
    found = get_kaleo().lineage(member, depth=t.cast(int, depth))
    return jsonify(
        {
            "status": "OK",
            "user": figures(member),
            "ancestors": [node_json(node) for node in found.ancestors],
            "subtree": [node_json(node) for node in found.subtree],
            "total_invitees": found.total_invitees,
        }
    )


@staff_read
def staff_audit() -> ViewResponse:
    """The audit log, newest first; ``before`` (an entry's id) gives the next page."""
    check_staff()
    kaleo = get_kaleo()
    action = _choice("action", AUDIT_ACTIONS)
    target_value = _text("user")
    target = None if target_value is None else named_user(target_value)
    before = _whole("before", 1, 2**31 - 1)
    limit = _limit()
    # One more than the page, to know whether another follows.
    entries = kaleo.audit_log(target=target, action=action, before=before, limit=limit + 1)
    more = len(entries) > limit
    rows = [audit_entry_json(entry) for entry in entries[:limit]]
    return jsonify({"status": "OK", "entries": rows, "before": rows[-1]["id"] if more else None})


@staff_read
def staff_accountability() -> ViewResponse:
    """The accountability report, sorted and filtered (the busiest ``limit`` inviters)."""
    check_staff()
    kaleo = get_kaleo()
    sort = _choice("sort", ACCOUNTABILITY_SORTS) or "sent"
    order = _choice("order", ("asc", "desc")) or "desc"
    raw_rate = _text("max_rate", 8)
    if raw_rate is not None and not (_RATE.fullmatch(raw_rate) and float(raw_rate) <= 1):
        raise _bad("max_rate", gettext("max_rate must be a number from 0 to 1."))
    records = kaleo.accountability(
        sort=t.cast("t.Any", sort),
        descending=order == "desc",
        limit=t.cast(int, _whole("limit", 1, 1000, default=100)),
        min_in_trouble=_whole("min_in_trouble", 0, 10**9),
        max_rate=None if raw_rate is None else float(raw_rate),
        min_sent=_whole("min_sent", 0, 10**9),
    )
    return jsonify({"status": "OK", "inviters": [inviter_json(record) for record in records]})


@staff_endpoint
def staff_suspend() -> ViewResponse:
    """Suspend ``user``'s inviting with a ``reason`` (``revoke_pending``; ``subtree``:
    the levels below to suspend too)."""
    check_staff()
    member = named_user(fields().get("user", ""))
    reason = fields().get("reason", "").strip()
    if not reason or len(reason) > SUSPENSION_REASON_MAX_LENGTH:
        limit = SUSPENSION_REASON_MAX_LENGTH
        message = gettext("Give a reason of at most %(limit)d characters.", limit=limit)
        raise Refusal(message, 400, "reason", code="invalid_parameter")
    revoke_pending = fields().get("revoke_pending", "").strip().lower() in _TRUE
    subtree = _whole("subtree", 0, MAX_DEPTH, default=0)
    report = get_kaleo().suspend_inviting(
        member,
        reason,
        by=signed_in_user(),
        revoke_pending=revoke_pending,
        subtree=t.cast(int, subtree),
    )
    return jsonify(
        {
            "status": "OK",
            "action": "suspend",
            "suspended": report.suspended,
            "revoked_invitations": report.revoked_invitations,
            "revoked_links": report.revoked_links,
            "user": figures(member),
        }
    )


@staff_endpoint
def staff_resume() -> ViewResponse:
    """Let ``user`` invite again; ``resumed`` is false if they were not suspended."""
    check_staff()
    member = named_user(fields().get("user", ""))
    resumed = get_kaleo().resume_inviting(member, by=signed_in_user())
    return jsonify(
        {"status": "OK", "action": "resume", "resumed": resumed, "user": figures(member)}
    )
