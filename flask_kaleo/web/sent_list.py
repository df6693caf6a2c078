"""The sent list's template helpers: its page read from the query string, the links
to other pages and states, the counts' words, and when Resend becomes possible."""

from __future__ import annotations

import datetime as dt
import typing as t
from urllib.parse import urlencode

from flask import has_request_context
from flask import request

from ..config import current_config
from ..i18n import format_number
from ..i18n import ngettext
from ..models import JoinInvitationMixin
from ..models import Status
from ..models import utcnow
from ..state import get_kaleo

if t.TYPE_CHECKING:
    from ..core.sent import SentPage

STATE_ARG = "kaleo_state"
BEFORE_ARG = "kaleo_before"
AFTER_ARG = "kaleo_after"
"""The query arguments of the sent list's pages: namespaced, so a site's own page keeps
its own arguments (they are carried along)."""
SENT_ARGS = (STATE_ARG, BEFORE_ARG, AFTER_ARG)


def sent_page(user: object, per_page: int = 50) -> SentPage:
    """The page of ``user``'s sent list the query string asks for (the
    ``kaleo_sent_page`` template global)."""
    args = request.args if has_request_context() else {}
    return get_kaleo().sent_page(
        user,
        state=args.get(STATE_ARG),
        before=args.get(BEFORE_ARG),
        after=args.get(AFTER_ARG),
        limit=per_page,
    )


def sent_url(state: str | None = None, before: str | None = None, after: str | None = None) -> str:
    """This page's URL with the sent list's arguments replaced (the page's other
    arguments kept): the ``kaleo_sent_url`` template global."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key not in SENT_ARGS]
    wanted = ((STATE_ARG, state), (BEFORE_ARG, before), (AFTER_ARG, after))
    args.extend((key, value) for key, value in wanted if value)
    path = request.script_root + request.path  # under a prefix (/app) too
    return path + ("?" + urlencode(args) if args else "")


def state_count(state: str, count: int) -> str:
    """ "12 pending": a count of the summary line (the ``kaleo_state_count`` global)."""
    num = format_number(count)
    if state == "pending":
        return ngettext("%(num)s pending", "%(num)s pending", count, num=num)
    if state == "accepted":
        return ngettext("%(num)s accepted", "%(num)s accepted", count, num=num)
    if state == "joined":
        return ngettext("%(num)s joined", "%(num)s joined", count, num=num)
    if state == "expired":
        return ngettext("%(num)s expired", "%(num)s expired", count, num=num)
    if state == "revoked":
        return ngettext("%(num)s revoked", "%(num)s revoked", count, num=num)
    return ngettext("%(num)s undeliverable", "%(num)s undeliverable", count, num=num)


def resend_at(invitation: JoinInvitationMixin) -> dt.datetime | None:
    """When a Resend of this mailed invitation becomes possible (KALEO_RESEND_INTERVAL
    after its last send), or None when it is possible now (the ``kaleo_resend_at``
    template global)."""
    if invitation.status != Status.SENT.value or invitation.link_only:
        return None
    possible = invitation.resend_possible_at(current_config().resend_interval)
    return possible if possible > utcnow() else None
