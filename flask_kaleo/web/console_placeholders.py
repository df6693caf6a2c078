"""Console pages still to come: the overview and the invitations, each a heading on
the console's frame until its own page replaces it."""

from __future__ import annotations

from ..i18n import gettext
from .answers import ViewResponse
from .console import console_view
from .console import render_console


@console_view()
def console_overview() -> ViewResponse:
    """The console's first page."""
    return render_console("kaleo/staff/layout.html", "overview", title=gettext("Overview")), 200


@console_view()
def console_invitations() -> ViewResponse:
    """Every invitation."""
    page = render_console("kaleo/staff/layout.html", "invitations", title=gettext("Invitations"))
    return page, 200
