"""The console's first page: invitations sent, delivered and accepted per day over the
last 30 or 90 days (a chart drawn on the server, with its data as a table), the funnel
from sent to accepted, and the invitations needing attention."""

from __future__ import annotations

from flask import request

from ..i18n import format_number
from ..i18n import gettext
from ..state import get_kaleo
from .answers import ViewResponse
from .chart import line_chart
from .console import ConsoleRefusal
from .console import console_view
from .console import render_console

PERIODS = (30, 90)
"""The periods, in days, the overview offers."""
SERIES = ("sent", "delivered", "accepted")


def share(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` in the visitor's locale (a dash for an
    empty ``whole``)."""
    if whole == 0:
        return "–"
    return gettext("%(percent)s%%", percent=format_number(round(100 * part / whole)))


@console_view()
def console_overview() -> ViewResponse:
    """Sent, delivered and accepted per day, the funnel, and what needs attention."""
    raw = request.args.get("days", str(PERIODS[0]))
    if raw not in {str(days) for days in PERIODS}:
        raise ConsoleRefusal(400, gettext("Choose a period of 30 or 90 days."))
    days = int(raw)
    activity = get_kaleo().activity(days)
    chart = line_chart(
        [day.day for day in activity.days],
        {name: [getattr(day, name) for day in activity.days] for name in SERIES},
    )
    funnel = [
        ("sent", gettext("Sent"), activity.sent, share(activity.sent, activity.sent)),
        (
            "delivered",
            gettext("Delivered"),
            activity.delivered,
            share(activity.delivered, activity.sent),
        ),
        (
            "accepted",
            gettext("Accepted"),
            activity.accepted,
            share(activity.accepted, activity.sent),
        ),
    ]
    page = render_console(
        "kaleo/staff/overview.html",
        "overview",
        title=gettext("Overview"),
        activity=activity,
        chart=chart,
        funnel=funnel,
        period=days,
        periods=PERIODS,
    )
    return page, 200
