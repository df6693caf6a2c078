"""Choosing an invitation's expiry: the default, or a lifetime its sender asked for,
within ``KALEO_EXPIRATION_BOUNDS`` unless the sender has the manage permission (who
may also choose :data:`NEVER`).

One home for the bounds: inviting, extending and shareable links all ask
:func:`choose_expiry` or :func:`check_new_expiry`. The SQL conditions "not expired"
and "expired" are the models' (:func:`flask_kaleo.models.not_expired`).
"""

from __future__ import annotations

import datetime as dt

from ..config import KaleoConfig
from ..constants import NEVER
from ..constants import ExpiresIn
from ..exceptions import ExpiryOutOfBounds
from ..i18n import format_number
from ..i18n import gettext
from ..i18n import ngettext


def _hours(duration: dt.timedelta) -> str:
    """15 minutes -> "15 minutes", 24 hours -> "1 day", 36 hours -> "36 hours"."""
    value = duration / dt.timedelta(hours=1)
    if value < 1:
        minutes = round(value * 60)
        return ngettext("%(num)s minute", "%(num)s minutes", minutes, num=format_number(minutes))
    if value % 24 == 0:
        days = int(value // 24)
        return ngettext("%(num)s day", "%(num)s days", days, num=format_number(days))
    count = int(value) if value == int(value) else 2
    return ngettext("%(num)s hour", "%(num)s hours", count, num=format_number(value))


def choose_expiry(
    config: KaleoConfig,
    may_manage: bool,
    expires_in: ExpiresIn,
    now: dt.datetime,
) -> dt.datetime | None:
    """The ``expires_at`` of something created at ``now`` with ``expires_in`` (None:
    never); see :func:`choose_lifetime`."""
    lifetime = choose_lifetime(config, may_manage, expires_in)
    return None if lifetime is None else now + lifetime


def choose_lifetime(
    config: KaleoConfig, may_manage: bool, expires_in: ExpiresIn
) -> dt.timedelta | None:
    """How long something created with ``expires_in`` lasts (None: forever).

    None asks for ``KALEO_DEFAULT_EXPIRATION``; a ``timedelta`` must lie within the
    bounds (inclusive) unless ``may_manage``; :data:`NEVER` (returns None) needs
    ``may_manage``. Raises :class:`~flask_kaleo.ExpiryOutOfBounds` otherwise.
    """
    if expires_in is None:
        return config.default_expiration
    if isinstance(expires_in, str):
        if expires_in != NEVER:
            raise TypeError(f"expires_in must be a timedelta, 'never' or None, not {expires_in!r}")
        if not may_manage:
            raise ExpiryOutOfBounds(
                gettext("Only staff can create an invitation that never expires.")
            )
        return None
    if not isinstance(expires_in, dt.timedelta):
        raise TypeError(f"expires_in must be a timedelta, 'never' or None, not {expires_in!r}")
    if expires_in <= dt.timedelta(0):
        raise ExpiryOutOfBounds(gettext("An invitation must expire in the future."))
    if not may_manage:
        low, high = config.expiration_bounds
        if not low <= expires_in <= high:
            raise ExpiryOutOfBounds(
                gettext(
                    "An invitation may last from %(low)s to %(high)s.",
                    low=_hours(low),
                    high=_hours(high),
                )
            )
    return expires_in


def check_new_expiry(
    config: KaleoConfig,
    may_manage: bool,
    new: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """An extension's target: later than ``now``, and no later than
    ``now`` plus the longest of ``KALEO_EXPIRATION_BOUNDS`` unless ``may_manage`` (who
    may also give None, never)."""
    if new is None:
        if not may_manage:
            raise ExpiryOutOfBounds(gettext("Only staff can make an invitation never expire."))
        return
    if new <= now:
        raise ExpiryOutOfBounds(gettext("An invitation must expire in the future."))
    high = config.expiration_bounds[1]
    if not may_manage and new - now > high:
        raise ExpiryOutOfBounds(
            gettext(
                "An invitation may be valid for at most %(high)s from now.",
                high=_hours(high),
            )
        )
