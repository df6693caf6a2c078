"""The console's members: the list, a member's page, and its forms (allocation,
suspend, resume), each post answered with a flash and a 303 to the member's page."""

from __future__ import annotations

import typing as t

from flask import request

from ..config import MAX_AMOUNT
from ..config import UNLIMITED
from ..i18n import gettext
from ..i18n import ngettext
from ..state import get_kaleo
from .answers import ViewResponse
from .console import ConsoleRefusal
from .console import console_view
from .console import done
from .console import member_by_id
from .console import refused
from .console import render_console
from .console import staff_member
from .console import whole_number
from .console_tree import nest

MEMBERS_PAGE = 50
"""Members a page of the list shows."""
SEARCH_LENGTH = 254
"""The longest address searched for (the longest an address can be)."""
REASON_LENGTH = 1000
"""The longest reason for a suspension the form takes."""
MAX_TREE_DEPTH = 3
"""The deepest the member page shows their invitees; deeper, open an invitee's page."""
MAX_SUBTREE = 3
"""The deepest a suspension reaches below the member."""


@console_view()
def console_members() -> ViewResponse:
    """Members, searched by the start of their address, a keyset page at a time."""
    search = request.args.get("q", "").strip()[:SEARCH_LENGTH]
    after = request.args.get("after") or None
    try:
        page = get_kaleo().members(search=search or None, after=after, limit=MEMBERS_PAGE)
    except ValueError:
        raise ConsoleRefusal(400, gettext("This page of members does not exist.")) from None
    body = render_console(
        "kaleo/staff/members.html", "members", search=search, page=page, paged=bool(after)
    )
    return body, 200


@console_view()
def console_member(user_id: str) -> ViewResponse:
    """One member's figures and forms, who brought them in up to the root, their
    invitees to ``?depth=`` levels, their invitations and links, and the audit entries
    about them."""
    kaleo = get_kaleo()
    member = member_by_id(user_id)
    depth = whole_number(request.args.get("depth", "1"), 1, MAX_TREE_DEPTH)
    if depth is None:
        raise ConsoleRefusal(400, gettext("Show from 1 to 3 levels of invitees."))
    lineage = kaleo.lineage(member, depth=depth)
    body = render_console(
        "kaleo/staff/member.html",
        "members",
        member=member,
        member_id=user_id,
        email=kaleo.hooks.email(member),
        stat=kaleo.allocation(member),
        ancestors=list(reversed(lineage.ancestors)),
        tree=nest(lineage.subtree),
        total_invitees=lineage.total_invitees,
        more_invitees=lineage.more,
        depth=depth,
        max_depth=MAX_TREE_DEPTH,
        max_subtree=MAX_SUBTREE,
        invitations=kaleo.invitations(inviter=member),
        links=kaleo.sent_links(member),
        entries=kaleo.audit_log(target=member, limit=20),
        reason_length=REASON_LENGTH,
        max_amount=MAX_AMOUNT,
    )
    return body, 200


@console_view(methods=("POST",))
def console_allocation(user_id: str) -> ViewResponse:
    """``how``: ``set`` the allocation to ``amount`` (-1: unlimited), ``add`` that
    many, or ``top_off`` so that at least that many remain."""
    kaleo = get_kaleo()
    member = member_by_id(user_id)
    how = request.form.get("how", "")
    low = UNLIMITED if how == "set" else 0
    amount = whole_number(request.form.get("amount"), low, MAX_AMOUNT)
    back = {"to": "kaleo.console_member", "user_id": user_id}
    if how not in ("set", "add", "top_off"):
        return refused(gettext("Choose how to change the allocation."), **back)
    if amount is None:
        message = gettext("Give a whole number from %(low)d to %(high)d.", low=low, high=MAX_AMOUNT)
        return refused(message, **back)
    email = kaleo.hooks.email(member)
    if how == "set":
        try:
            kaleo.set_allocation(member, amount, by=staff_member())
        except ValueError:
            message = gettext(
                "%(email)s has sent more than %(amount)d invitations already.",
                email=email,
                amount=amount,
            )
            return refused(message, **back)
        return done(gettext("Allocation of %(email)s set.", email=email), **back)
    top_off = how == "top_off"
    changed = kaleo.grant(
        amount, user=member, everyone=not top_off, top_off=top_off, by=staff_member()
    )
    if not changed:
        return done(gettext("The allocation of %(email)s needed no change.", email=email), **back)
    return done(gettext("Allocation of %(email)s changed.", email=email), **back)


@console_view(methods=("POST",))
def console_suspend(user_id: str) -> ViewResponse:
    """Stop a member inviting: a ``reason`` (required), ``revoke_pending`` to revoke
    their pending invitations and links too, ``subtree`` levels of those they brought
    in suspended with them."""
    kaleo = get_kaleo()
    member = member_by_id(user_id)
    back = {"to": "kaleo.console_member", "user_id": user_id}
    reason = request.form.get("reason", "").strip()
    subtree = whole_number(request.form.get("subtree", "0"), 0, MAX_SUBTREE)
    if not reason or len(reason) > REASON_LENGTH:
        message = gettext("Give a reason, of at most %(num)d characters.", num=REASON_LENGTH)
        return refused(message, **back)
    if subtree is None:
        return refused(gettext("Choose from 0 to 3 levels below."), **back)
    report = kaleo.suspend_inviting(
        member,
        reason,
        by=staff_member(),
        revoke_pending=request.form.get("revoke_pending") == "yes",
        subtree=subtree,
    )
    message = ngettext("%(num)d member suspended.", "%(num)d members suspended.", report.suspended)
    if report.revoked_invitations or report.revoked_links:
        revoked = gettext(
            "Invitations revoked: %(invitations)d; links revoked: %(links)d.",
            invitations=report.revoked_invitations,
            links=report.revoked_links,
        )
        message = f"{message} {revoked}"
    return done(message, **back)


@console_view(methods=("POST",))
def console_resume(user_id: str) -> ViewResponse:
    """Let a suspended member invite again."""
    kaleo = get_kaleo()
    member = member_by_id(user_id)
    email = kaleo.hooks.email(member)
    back: dict[str, t.Any] = {"to": "kaleo.console_member", "user_id": user_id}
    if not kaleo.resume_inviting(member, by=staff_member()):
        return refused(gettext("%(email)s was not suspended.", email=email), **back)
    return done(gettext("%(email)s may invite again.", email=email), **back)
