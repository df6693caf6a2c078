"""The form fields of sending and expiry: ``send`` (``0``: an invitation without
email, its accept URL shown instead), ``expires_in`` and ``by`` (a duration such as
``7d``, or ``never``), read and checked for the endpoints."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from ..config import current_config
from ..config.durations import SYNTAX
from ..config.durations import parse_duration
from ..constants import NEVER
from ..constants import ExpiresIn
from ..exceptions import LinksNotAllowed
from ..i18n import gettext
from ..models import JoinInvitationMixin
from .answers import Refusal
from .answers import wants_json

_FALSE = ("0", "false", "off", "no")


def link_requested(data: MultiDict[str, str]) -> bool:
    """Whether to mail the invitation (``send`` absent or true) or only create its link,
    which needs ``KALEO_ALLOW_LINKS``. Returns ``send``."""
    send = data.get("send", "1").strip().lower() not in _FALSE
    if not send and not current_config().allow_links:
        raise LinksNotAllowed(gettext("Creating invitation links is not enabled on this site."))
    return send


def expiry_field(data: MultiDict[str, str], name: str) -> ExpiresIn:
    """The field ``name``: empty or absent is None, ``never`` is NEVER, otherwise a
    duration above 0 (:func:`~flask_kaleo.config.durations.parse_duration`: ``90m``, ``36h``,
    ``7d``, ``2w``, up to a hundred years); anything else is a 400 refusal."""
    raw = data.get(name, "").strip().lower()
    if not raw:
        return None
    if raw == NEVER:
        return NEVER
    try:
        return parse_duration(raw)
    except ValueError:
        message = gettext(
            "%(name)s must be a duration such as %(examples)s (at most 36500 days), or 'never'.",
            name=name,
            examples=SYNTAX,
        )
        raise Refusal(message, 400, name) from None


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
