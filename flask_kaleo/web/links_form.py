"""The form fields of links and expiry: ``send`` (create a link instead of mailing),
``expires_in_days`` and ``days`` (a number of days, or ``never``), read and checked
for the endpoints."""

from __future__ import annotations

import datetime as dt
import re

from flask import current_app
from werkzeug.datastructures import MultiDict

from ..constants import NEVER
from ..constants import ExpiresIn
from ..exceptions import LinksNotAllowed
from ..i18n import format_number
from ..i18n import gettext
from ..models import JoinInvitationMixin
from .answers import Refusal
from .answers import wants_json

_DAYS = re.compile(r"[0-9]{1,5}(?:\.[0-9]{1,3})?")
MAX_DAYS = 36500
"""No lifetime beyond a hundred years is read from a form (staff may choose never)."""
_FALSE = ("0", "false", "off", "no")


def link_requested(data: MultiDict[str, str]) -> bool:
    """Whether to mail the invitation (``send`` absent or true) or only create its link,
    which needs ``KALEO_ALLOW_LINKS``. Returns ``send``."""
    send = data.get("send", "1").strip().lower() not in _FALSE
    if not send and not current_app.config["KALEO_ALLOW_LINKS"]:
        raise LinksNotAllowed(gettext("Creating invitation links is not enabled on this site."))
    return send


def expiry_field(data: MultiDict[str, str], name: str) -> ExpiresIn:
    """The field ``name``: empty or absent is None, ``never`` is NEVER, otherwise a
    positive number of days (up to three decimals); anything else is a 400 refusal."""
    raw = data.get(name, "").strip().lower()
    if not raw:
        return None
    if raw == NEVER:
        return NEVER
    if not _DAYS.fullmatch(raw) or not 0 < float(raw) <= MAX_DAYS:
        raise Refusal(
            gettext(
                "%(name)s must be a number of days above 0 and up to %(max)s, or 'never'.",
                name=name,
                max=format_number(MAX_DAYS),
            ),
            400,
            name,
        )
    return dt.timedelta(days=float(raw))


def link_message(invitation: JoinInvitationMixin) -> str:
    """What a created link is answered with: JSON callers get the link in ``link``; a
    browser without JavaScript sees it in the flashed message, its one chance."""
    if wants_json():
        return gettext(
            "Invitation link for %(email)s created. Copy it and share it.",
            email=invitation.email,
        )
    return gettext(
        "Invitation link for %(email)s created (shown once): %(link)s",
        email=invitation.email,
        link=invitation.accept_url,
    )
