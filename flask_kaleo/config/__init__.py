"""flask-kaleo's settings, read once: ``app.config``'s ``KALEO_*`` keys become a frozen
:class:`KaleoConfig` at ``init_app``, checked there, and library code reads that
(:func:`current_config`).

Durations are :class:`~datetime.timedelta` (``KALEO_DEFAULT_EXPIRATION`` also takes
kaleo's number of hours); the command line and the forms write them in
:mod:`.durations`' syntax. A leaf package: it imports nothing from flask-kaleo but its
exceptions.
"""

from __future__ import annotations

import typing as t

from flask import Flask
from flask import current_app

from .reading import is_whole_number
from .reading import read_settings
from .settings import DEFAULT_SETTINGS
from .settings import DELIVERY_STUCK_AFTER
from .settings import EXTENSION_KEY
from .settings import MAX_AMOUNT
from .settings import MAX_BULK_AMOUNT
from .settings import MESSAGE_MAX_LENGTH
from .settings import PAGE_TARGETS
from .settings import REMOVED_SETTINGS
from .settings import RQ_QUEUE
from .settings import SUSPENSION_REASON_MAX_LENGTH
from .settings import UNLIMITED
from .settings import KaleoConfig
from .settings import RateLimits

__all__ = [
    "DEFAULT_SETTINGS",
    "DELIVERY_STUCK_AFTER",
    "EXTENSION_KEY",
    "MAX_AMOUNT",
    "MAX_BULK_AMOUNT",
    "MESSAGE_MAX_LENGTH",
    "PAGE_TARGETS",
    "REMOVED_SETTINGS",
    "RQ_QUEUE",
    "SUSPENSION_REASON_MAX_LENGTH",
    "UNLIMITED",
    "KaleoConfig",
    "RateLimits",
    "check_amount",
    "config_of",
    "configure",
    "current_config",
    "is_whole_number",
    "keep",
    "read_settings",
]


def current_config() -> KaleoConfig:
    """The :class:`KaleoConfig` of the current app (read several times per request:
    one look-up, with :func:`config_of`'s error only when it is missing)."""
    config = current_app.extensions.get(EXTENSION_KEY)
    return t.cast(KaleoConfig, config) if config is not None else config_of(current_app)


def config_of(app: Flask) -> KaleoConfig:
    """The :class:`KaleoConfig` of ``app``."""
    try:
        return t.cast(KaleoConfig, app.extensions[EXTENSION_KEY])
    except KeyError:
        raise RuntimeError(
            "flask-kaleo is not set up on this app: did you forget kaleo.init_app(app)?"
        ) from None


def configure(app: Flask, user_model: type) -> KaleoConfig:
    """Read and check ``app``'s settings, and keep them on the app (``init_app`` and
    :func:`~flask_kaleo.contrib.security.wire` call it)."""
    config = read_settings(app.config, user_model, trusts_request_host=app.debug or app.testing)
    return keep(app, config)


def keep(app: Flask, config: KaleoConfig) -> KaleoConfig:
    """Make ``config`` ``app``'s: for library code and, as ``kaleo_config``, templates."""
    app.extensions[EXTENSION_KEY] = config
    app.jinja_env.globals.update(kaleo_config=config, kaleo_message_max_length=MESSAGE_MAX_LENGTH)
    return config


def check_amount(amount: object) -> int:
    """A bulk operation's amount: a whole number from 0 to :data:`MAX_AMOUNT`."""
    if not is_whole_number(amount) or not 0 <= amount <= MAX_AMOUNT:
        raise ValueError(f"amount must be an integer from 0 to {MAX_AMOUNT:,}, not {amount!r}")
    return amount
