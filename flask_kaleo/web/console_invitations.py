"""The console's invitations: every invitation, filtered and a keyset page at a time;
resend, revoke or extend the selected ones (each row on its own, so one refusal stops
no other); and the same list as a CSV file, streamed page by page."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import typing as t

from flask import Response
from flask import flash
from flask import redirect
from flask import request
from flask import stream_with_context
from flask import url_for

from ..exceptions import KaleoError
from ..i18n import N_
from ..i18n import gettext
from ..i18n import ngettext
from ..models import JoinInvitationMixin
from ..state import get_kaleo
from .answers import ViewResponse
from .answers import same_site
from .console import ConsoleRefusal
from .console import console_view
from .console import render_console
from .console import staff_member
from .text import EXTEND_DAYS

STATES = ("pending", "sending", "link", "accepted", "joined", "revoked", "undeliverable", "expired")
"""The states the filter offers: ``pending`` is what an invitation's ``display_status``
calls ``sent``."""
PAGE = 50
CSV_PAGE = 500
MAX_IDS = 100
"""At most this many invitations per action."""
MAX_CURSOR = 200
CSV_COLUMNS = ("id", "email", "inviter", "state", "sent_at", "expires_at", "delivered_at")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is a formula to a spreadsheet: it gets a ``'``."""
ACTIONS: dict[str, tuple[str, str]] = {
    "resend": (N_("Sent again: %(ids)s."), N_("Not sent again, %(ids)s: %(reason)s")),
    "revoke": (N_("Revoked: %(ids)s."), N_("Not revoked, %(ids)s: %(reason)s")),
    "extend": (N_("Extended: %(ids)s."), N_("Not extended, %(ids)s: %(reason)s")),
}
"""Per action, what the flash says of the rows done, and of the rows refused (with why)."""


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the filter form asked, as the query string carries it, and as the facade
    takes it; ``unknown_inviter``: no member has the inviter address asked for."""

    args: dict[str, str]
    state: str | None
    inviter: object
    address: str | None
    sent_from: dt.datetime | None
    sent_until: dt.datetime | None
    unknown_inviter: bool

    def query(self, *, after: str | None, limit: int) -> t.Any:
        """One keyset page of the invitations these filters keep (the facade's
        ``Page``), or None when no member has the inviter address asked for."""
        if self.unknown_inviter:
            return None
        try:
            return get_kaleo().invitations(
                state=t.cast(t.Any, self.state),
                inviter=self.inviter,
                address=self.address,
                sent_from=self.sent_from,
                sent_until=self.sent_until,
                after=after,
                limit=limit,
            )
        except ValueError:  # a cursor the facade cannot read
            raise ConsoleRefusal(400, gettext("This page of invitations does not exist.")) from None


def _date(name: str) -> dt.datetime | None:
    """The day ``name`` holds (``YYYY-MM-DD``), at midnight UTC; else a 400 page."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None or day.year < 1900:
        raise ConsoleRefusal(400, gettext("Write dates as YYYY-MM-DD."))
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def filters() -> Filters:
    """The filters of the query string; a bad state or date is a 400 page."""
    args = {
        name: request.args.get(name, "").strip()
        for name in ("state", "inviter", "address", "from", "until")
    }
    state = args["state"] or None
    if state is not None and state not in STATES:
        raise ConsoleRefusal(400, gettext("There is no such state."))
    inviter = get_kaleo().hooks.member(args["inviter"]) if args["inviter"] else None
    until = _date("until")
    if until is not None and until.date() < dt.date.max:
        until += dt.timedelta(days=1)  # the whole of the last day
    return Filters(
        args={name: value for name, value in args.items() if value},
        state=state,
        inviter=inviter,
        address=args["address"] or None,
        sent_from=_date("from"),
        sent_until=until,
        unknown_inviter=bool(args["inviter"]) and inviter is None,
    )


def _cursor() -> str | None:
    after = request.args.get("after") or None
    if after is not None and (len(after) > MAX_CURSOR or not after.isprintable()):
        raise ConsoleRefusal(400, gettext("This page of invitations does not exist."))
    return after


@console_view()
def console_invitations() -> ViewResponse:
    """Every invitation, newest first, filtered; the selected ones can be resent,
    revoked or extended."""
    chosen = filters()
    found = chosen.query(after=_cursor(), limit=PAGE)
    html = render_console(
        "kaleo/staff/invitations.html",
        "invitations",
        title=gettext("Invitations"),
        filters=chosen,
        states=STATES,
        rows=[] if found is None else found.rows,
        older=None if found is None else found.after,
        extend_days=EXTEND_DAYS,
        here=request.full_path.rstrip("?"),
    )
    return html, 200


def _ids() -> list[int]:
    """The selected invitations' ids: whole numbers, at most :data:`MAX_IDS`."""
    raw = request.form.getlist("ids")
    if len(raw) > MAX_IDS:
        message = gettext("Choose at most %(limit)d invitations at a time.", limit=MAX_IDS)
        raise ConsoleRefusal(400, message)
    if not all(value.isascii() and value.isdigit() and len(value) <= 18 for value in raw):
        raise ConsoleRefusal(400, gettext("An invitation's id is a whole number."))
    return list(dict.fromkeys(int(value) for value in raw))


def _back() -> str:
    """The invitations page the form was on (its filters and page), else the first."""
    target = request.form.get("next", "")
    if target and same_site(target) and not target.startswith(("http:", "https:")):
        return target
    return url_for("kaleo.console_invitations")


@console_view(methods=("POST",))
def console_invitations_act() -> ViewResponse:
    """Resend, revoke (once confirmed) or extend each selected invitation, as the
    signed-in staff member; the flash says which rows were done and which refused,
    and why."""
    action = request.form.get("action", "")
    if action not in ACTIONS:
        raise ConsoleRefusal(400, gettext("Choose resend, revoke or extend."))
    days = request.form.get("days", "")
    if action == "extend" and days not in {str(choice) for choice in EXTEND_DAYS}:
        raise ConsoleRefusal(400, gettext("Choose how many days to extend by."))
    ids = _ids()
    if not ids:
        flash(gettext("Select the invitations first."), "error")
        return redirect(_back(), code=303)
    kaleo = get_kaleo()
    found = [(item_id, kaleo.get(kaleo.JoinInvitation, item_id)) for item_id in ids]
    asking = action == "revoke" and request.form.get("confirm") != "yes"
    if asking and any(invitation is not None for _, invitation in found):
        page = render_console(
            "kaleo/staff/confirm.html",
            "invitations",
            title=gettext("Revoke these invitations?"),
            invitations=[invitation for _, invitation in found if invitation is not None],
            back_to=_back(),
        )
        return page, 200
    done: list[int] = []
    refused: dict[str, list[int]] = {}
    for item_id, invitation in found:
        if invitation is None:
            refused.setdefault(gettext("There is no such invitation."), []).append(item_id)
            continue
        try:
            _act(action, invitation, int(days or 0))
        except KaleoError as error:
            kaleo.store.finish(commit=False)
            refused.setdefault(str(error), []).append(item_id)
        else:
            done.append(item_id)
    _report(action, done, refused)
    return redirect(_back(), code=303)


def _act(action: str, invitation: JoinInvitationMixin, days: int) -> None:
    kaleo, staff = get_kaleo(), staff_member()
    if action == "resend":
        kaleo.resend(invitation, by=staff)
    elif action == "revoke":
        kaleo.revoke(invitation, by=staff)
    else:
        kaleo.extend(invitation, by=dt.timedelta(days=days), actor=staff)


def _report(action: str, done: list[int], refused: dict[str, list[int]]) -> None:
    """One flash for the rows done, one per reason for those refused (ids only, so
    that a hundred rows still fit in the session cookie)."""
    done_text, refused_text = ACTIONS[action]
    if done:
        flash(gettext(done_text, ids=_numbers(done)), "success")
    for reason, ids in refused.items():
        flash(gettext(refused_text, ids=_numbers(ids), reason=reason), "error")


def _numbers(ids: list[int]) -> str:
    return ngettext(
        "invitation %(list)s",
        "invitations %(list)s",
        len(ids),
        list=", ".join(f"#{item_id}" for item_id in ids),
    )


# -- the CSV export -----------------------------------------------------------------


def cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = (
        "" if value is None else value.isoformat() if isinstance(value, dt.datetime) else str(value)
    )
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(invitation: JoinInvitationMixin) -> list[str]:
    state = invitation.display_status
    return [
        cell(value)
        for value in (
            invitation.id,
            invitation.email,
            invitation.inviter_label,
            "pending" if state == "sent" else state,
            invitation.sent_at,
            invitation.expires_at,
            invitation.delivered_at,
        )
    ]


def _lines(rows: t.Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


@console_view()
def console_invitations_csv() -> ViewResponse:
    """The invitations the filters keep, as CSV, streamed a page at a time: memory
    stays bounded whatever the number of rows."""
    chosen = filters()
    first = chosen.query(after=None, limit=CSV_PAGE)  # a bad filter fails before streaming

    def generate() -> t.Iterator[str]:
        yield _lines([list(CSV_COLUMNS)])
        page = first
        while page is not None:
            yield _lines(csv_row(invitation) for invitation in page.rows)
            page = None if page.after is None else chosen.query(after=page.after, limit=CSV_PAGE)

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=invitations.csv"
    response.headers["Cache-Control"] = "no-store"
    return response
