"""The console's reports: accountability and the audit log."""

from __future__ import annotations

from ..i18n import gettext
from .answers import ViewResponse
from .console import console_view
from .console import render_console


@console_view()
def console_accountability() -> ViewResponse:
    """Per inviter: sent, accepted, acceptance and invitees in trouble."""
    page = render_console(
        "kaleo/staff/layout.html", "accountability", title=gettext("Accountability")
    )
    return page, 200


@console_view()
def console_audit() -> ViewResponse:
    """Staff actions, newest first."""
    return render_console("kaleo/staff/layout.html", "audit", title=gettext("Audit log")), 200
