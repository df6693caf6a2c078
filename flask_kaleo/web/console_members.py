"""The console's members: the list, a member's page, and its forms."""

from __future__ import annotations

from ..i18n import gettext
from .answers import ViewResponse
from .console import console_view
from .console import member_by_id
from .console import render_console


@console_view()
def console_members() -> ViewResponse:
    """Members, searched by address, a keyset page at a time."""
    return render_console("kaleo/staff/layout.html", "members", title=gettext("Members")), 200


@console_view()
def console_member(user_id: str) -> ViewResponse:
    """One member's figures, forms, place in the tree, invitations and audit entries."""
    member = member_by_id(user_id)
    return render_console("kaleo/staff/layout.html", "members", title=str(member)), 200


@console_view(methods=("POST",))
def console_allocation(user_id: str) -> ViewResponse:
    """Set, add to or top off a member's allocation."""
    raise NotImplementedError


@console_view(methods=("POST",))
def console_suspend(user_id: str) -> ViewResponse:
    """Suspend a member's inviting."""
    raise NotImplementedError


@console_view(methods=("POST",))
def console_resume(user_id: str) -> ViewResponse:
    """Let a suspended member invite again."""
    raise NotImplementedError
