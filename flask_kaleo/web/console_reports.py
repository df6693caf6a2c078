"""The console's reports: accountability (sortable, with two ready filters) and the
audit log (filtered by action, member and dates, a keyset page at a time)."""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import request

from ..i18n import N_
from ..i18n import gettext
from ..state import get_kaleo
from .answers import ViewResponse
from .console import ACTION_LABELS
from .console import ConsoleRefusal
from .console import console_view
from .console import render_console
from .console import whole_number

REPORT_LIMIT = 100
"""Inviters the accountability report shows."""
AUDIT_PAGE = 50
"""Audit entries a page shows."""
ONE_DAY = dt.timedelta(days=1)
"""What ``until`` adds, to take in the whole of its day (none after the last day)."""
SORTS = ("sent", "accepted", "rate", "trouble")
FILTERS: dict[str, tuple[str, dict[str, t.Any]]] = {
    "trouble": (N_("3 or more invitees in trouble"), {"min_in_trouble": 3}),
    "low": (N_("Acceptance under 70% with 5 or more sent"), {"max_rate": 0.7, "min_sent": 5}),
}
"""The report's ready filters: the label of each, and what it asks of the report."""


@console_view()
def console_accountability() -> ViewResponse:
    """Per inviter: sent, accepted, acceptance and invitees in trouble, sorted by a
    column (``sort``, ``order``), optionally through a ready filter (``filter``)."""
    sort = request.args.get("sort", "sent")
    order = request.args.get("order", "desc")
    chosen = request.args.get("filter", "")
    if sort not in SORTS or order not in ("asc", "desc") or (chosen and chosen not in FILTERS):
        raise ConsoleRefusal(400, gettext("This report cannot be sorted or filtered so."))
    asked = FILTERS[chosen][1] if chosen else {}
    records = get_kaleo().accountability(
        sort=t.cast(t.Any, sort), descending=order == "desc", limit=REPORT_LIMIT, **asked
    )
    filters = [(name, gettext(label)) for name, (label, _) in FILTERS.items()]
    body = render_console(
        "kaleo/staff/accountability.html",
        "accountability",
        records=records,
        sort=sort,
        order=order,
        chosen=chosen,
        filters=filters,
        limit=REPORT_LIMIT,
    )
    return body, 200


@console_view()
def console_audit() -> ViewResponse:
    """Staff actions, newest first: by ``action``, about the ``member`` with this
    address, from ``since`` to ``until`` (days, both included); ``before``: an
    entry's id, for the older page."""
    kaleo = get_kaleo()
    args = request.args
    action = args.get("action", "")
    if action and action not in ACTION_LABELS:
        raise ConsoleRefusal(400, gettext("There is no such action."))
    before = None
    if args.get("before"):
        before = whole_number(args["before"], 1, 2**63 - 1)
        if before is None:
            raise ConsoleRefusal(400, gettext("This page of the audit log does not exist."))
    since, until = _day(args.get("since")), _day(args.get("until"))
    address = args.get("member", "").strip()[:254]
    member = kaleo.hooks.member(address) if address else None
    entries = []
    if member is not None or not address:
        entries = kaleo.audit_log(
            target=member,
            action=action or None,
            since=since,
            until=None if until is None or until.date() == dt.date.max else until + ONE_DAY,
            before=before,
            limit=AUDIT_PAGE,
        )
    filters = {
        "action": action or None,
        "member": address or None,
        "since": args.get("since") or None,
        "until": args.get("until") or None,
    }
    body = render_console(
        "kaleo/staff/audit.html",
        "audit",
        entries=entries,
        filters=filters,
        actions=[(name, gettext(label)) for name, label in ACTION_LABELS.items()],
        unknown_member=bool(address) and member is None,
        older=entries[-1].id if len(entries) == AUDIT_PAGE else None,
        paged=before is not None,
    )
    return body, 200


def _day(value: str | None) -> dt.datetime | None:
    """A date field (``YYYY-MM-DD``) as the start of that day in UTC; empty: None."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConsoleRefusal(400, gettext("Give dates as year-month-day.")) from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
