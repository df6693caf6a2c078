"""flask-kaleo's settings: their defaults and the start-up check of their values.

A leaf module: it imports nothing from flask-kaleo but its exceptions (and the
translation marker of :mod:`.i18n`, a leaf too), so every other
module may read the constants it defines.
"""

from __future__ import annotations

import importlib.util
import math
import string
import typing as t
from urllib.parse import urlsplit

import sqlalchemy as sa

from .exceptions import ConfigurationError
from .i18n import N_

UNLIMITED = -1
"""The allocation that means "no limit"."""

MAX_AMOUNT = 1_000_000
"""The most invitations one bulk operation adds or tops off to: far beyond any real
allocation, and far from the 32-bit limit of the counter columns."""

SUBJECT_FIELDS = frozenset({"inviter", "site"})

DEFAULT_SETTINGS: dict[str, t.Any] = {
    "KALEO_DEFAULT_EXPIRATION": 168,
    "KALEO_DEFAULT_INVITE_ALLOCATION": 0,
    "KALEO_SIGNUP_URL": "/",
    "KALEO_INVITE_ONLY": False,
    # TRANSLATORS: keep {inviter} and {site} as they are.
    "KALEO_EMAIL_SUBJECT": N_("{inviter} has invited you to join {site}"),
    "KALEO_EMAIL_SENDER": None,
    "KALEO_EMAIL_TEXT_TEMPLATE": "kaleo/email/invitation.txt",
    "KALEO_EMAIL_HTML_TEMPLATE": "kaleo/email/invitation.html",
    "KALEO_SITE_NAME": None,
    "KALEO_USER_EMAIL_ATTRIBUTE": "email",
    "KALEO_MESSAGE_MAX_LENGTH": 1000,
    "KALEO_CLI_NAME": "kaleo",
    "KALEO_MAX_BULK_AMOUNT": 1000,
    "KALEO_RESEND_INTERVAL": 300,
    "KALEO_RESEND_RESETS_EXPIRY": False,
    "KALEO_SITE_URL": None,
    "KALEO_DELIVERY": "inline",
    "KALEO_MAIL_TIMEOUT": 10,
    "KALEO_REDIS_URL": "redis://127.0.0.1:6379/0",
    "KALEO_RQ_QUEUE": "kaleo",
    "KALEO_DELIVERY_ATTEMPTS": 4,
    "KALEO_DELIVERY_BACKOFF": 60,
    "KALEO_DELIVERY_STUCK_AFTER": 3600,
    "KALEO_SMTPUTF8": False,
    "KALEO_REQUIRE_INVITED_EMAIL": False,
    "KALEO_PRIVATE_REFUSALS": False,
    "KALEO_NOTIFY_MEMBERS": False,
    "KALEO_DAILY_SEND_LIMIT": 50,
    "KALEO_ADDRESS_DAILY_LIMIT": 3,
    "KALEO_MAIL_DEBUG": False,
    "KALEO_SIGNED_IN_REDIRECT": "/",
    "KALEO_LOGIN_URL": None,
    "KALEO_MIN_EXPIRATION": 0.25,
    "KALEO_MAX_EXPIRATION": 720,
    "KALEO_ALLOW_LINKS": False,
    "KALEO_MIGRATE_RENDER_ITEM": True,
}

DELIVERY_MODES = ("inline", "rq", "queue")


def is_whole_number(value: object) -> bool:
    """An int, and not a bool (True is an int to Python, never a count to a user)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value: object) -> bool:
    return is_whole_number(value) or (isinstance(value, float) and math.isfinite(value))


def check_amount(amount: object) -> int:
    """A bulk operation's amount: a whole number from 0 to :data:`MAX_AMOUNT`."""
    if not is_whole_number(amount) or not 0 <= t.cast(int, amount) <= MAX_AMOUNT:
        raise ValueError(f"amount must be an integer from 0 to {MAX_AMOUNT:,}, not {amount!r}")
    return t.cast(int, amount)


def check_settings(
    config: t.Mapping[str, t.Any], user_model: type, *, trusts_request_host: bool = False
) -> None:
    """Fail at start-up, naming the setting, rather than later inside a request.

    ``trusts_request_host``: the app runs in debug or testing mode, where links may be
    built from the request's host when no site URL is configured.
    """
    expiration = config["KALEO_DEFAULT_EXPIRATION"]
    if not _is_finite_number(expiration) or expiration <= 0:
        raise ConfigurationError(
            f"KALEO_DEFAULT_EXPIRATION must be a positive number of hours (default 168),"
            f" not {expiration!r}"
        )
    _check_expiry_bounds(config)
    allocation = config["KALEO_DEFAULT_INVITE_ALLOCATION"]
    if not is_whole_number(allocation) or allocation < UNLIMITED:
        raise ConfigurationError(
            "KALEO_DEFAULT_INVITE_ALLOCATION must be an integer >= 0, or -1 for unlimited"
            f" (default 0), not {allocation!r}"
        )
    signup = config["KALEO_SIGNUP_URL"]
    if not isinstance(signup, str) or not signup:
        raise ConfigurationError(
            f"KALEO_SIGNUP_URL must be an endpoint name or a path (default '/'), not {signup!r}"
        )
    for flag in (
        "KALEO_INVITE_ONLY",
        "KALEO_RESEND_RESETS_EXPIRY",
        "KALEO_SMTPUTF8",
        "KALEO_REQUIRE_INVITED_EMAIL",
        "KALEO_PRIVATE_REFUSALS",
        "KALEO_NOTIFY_MEMBERS",
        "KALEO_MAIL_DEBUG",
        "KALEO_ALLOW_LINKS",
        "KALEO_MIGRATE_RENDER_ITEM",
    ):
        if not isinstance(config[flag], bool):
            raise ConfigurationError(f"{flag} must be True or False")
    if config["KALEO_NOTIFY_MEMBERS"] and not config["KALEO_PRIVATE_REFUSALS"]:
        raise ConfigurationError(
            "KALEO_NOTIFY_MEMBERS needs KALEO_PRIVATE_REFUSALS: without it a member's"
            " address is refused as 'already a member' and nobody is notified"
        )
    bulk = config["KALEO_MAX_BULK_AMOUNT"]
    if not is_whole_number(bulk) or not 1 <= bulk <= MAX_AMOUNT:
        raise ConfigurationError(
            f"KALEO_MAX_BULK_AMOUNT must be an integer from 1 to {MAX_AMOUNT:,}: the largest"
            f" amount the staff endpoints accept (default 1000), not {bulk!r}"
        )
    for name, default, what in (
        ("KALEO_DAILY_SEND_LIMIT", 50, "emails one member may cause in 24 hours"),
        ("KALEO_ADDRESS_DAILY_LIMIT", 3, "emails one address may receive in 24 hours"),
    ):
        value = config[name]
        if value is not None and (not is_whole_number(value) or value < 1):
            raise ConfigurationError(
                f"{name} must be a whole number >= 1 of {what}, or None for no limit"
                f" (default {default}), not {value!r}"
            )
    interval = config["KALEO_RESEND_INTERVAL"]
    if not _is_finite_number(interval) or interval < 0:
        raise ConfigurationError(
            "KALEO_RESEND_INTERVAL must be a number of seconds >= 0 between two sendings"
            f" of one invitation (default 300), not {interval!r}"
        )
    _check_page_targets(config)
    _check_subject(config["KALEO_EMAIL_SUBJECT"])
    _check_site_url(config, trusts_request_host)
    _check_delivery(config)
    limit = config["KALEO_MESSAGE_MAX_LENGTH"]
    if not is_whole_number(limit) or limit < 1:
        raise ConfigurationError(
            f"KALEO_MESSAGE_MAX_LENGTH must be a positive integer (default 1000), not {limit!r}"
        )
    attribute = config["KALEO_USER_EMAIL_ATTRIBUTE"]
    if not isinstance(attribute, str) or not isinstance(
        getattr(user_model, attribute, None), sa.orm.QueryableAttribute
    ):
        raise ConfigurationError(
            f"KALEO_USER_EMAIL_ATTRIBUTE is {attribute!r}, but {user_model.__name__} has no"
            " such column: set it to the name of the user model's email column"
        )


PAGE_TARGETS = ("KALEO_SIGNUP_URL", "KALEO_SIGNED_IN_REDIRECT", "KALEO_LOGIN_URL")
"""Settings naming a page by endpoint or path; their endpoints are checked once the
app serves (:func:`flask_kaleo.web.pages.check_page_targets`)."""


def _check_page_targets(config: t.Mapping[str, t.Any]) -> None:
    for name in ("KALEO_SIGNED_IN_REDIRECT", "KALEO_LOGIN_URL"):
        value = config[name]
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigurationError(
                f"{name} must be an endpoint name, a path, or None"
                f" (default {DEFAULT_SETTINGS[name]!r}), not {value!r}"
            )


def _check_expiry_bounds(config: t.Mapping[str, t.Any]) -> None:
    """``KALEO_MIN_EXPIRATION <= KALEO_DEFAULT_EXPIRATION <= KALEO_MAX_EXPIRATION``."""
    for name in ("KALEO_MIN_EXPIRATION", "KALEO_MAX_EXPIRATION"):
        value = config[name]
        if not _is_finite_number(value) or value <= 0:
            raise ConfigurationError(
                f"{name} must be a positive number of hours"
                f" (default {DEFAULT_SETTINGS[name]}), not {value!r}"
            )
    low, default, high = (
        config["KALEO_MIN_EXPIRATION"],
        config["KALEO_DEFAULT_EXPIRATION"],
        config["KALEO_MAX_EXPIRATION"],
    )
    if not low <= default <= high:
        raise ConfigurationError(
            "KALEO_MIN_EXPIRATION <= KALEO_DEFAULT_EXPIRATION <= KALEO_MAX_EXPIRATION must"
            f" hold (hours), not {low!r} <= {default!r} <= {high!r}"
        )


def _check_subject(subject: object) -> None:
    """Refuse a ``KALEO_EMAIL_SUBJECT`` that ``str.format`` could not fill."""
    if not isinstance(subject, str) or not subject.strip():
        raise ConfigurationError("KALEO_EMAIL_SUBJECT must be a non-empty string")
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(subject) if name is not None}
    except ValueError as error:
        raise ConfigurationError(
            f"KALEO_EMAIL_SUBJECT is not a valid format string: {error}"
        ) from None
    unknown = fields - SUBJECT_FIELDS
    if unknown:
        raise ConfigurationError(
            f"KALEO_EMAIL_SUBJECT uses unknown placeholders {sorted(unknown)};"
            " only {inviter} and {site} are available"
        )


def _check_site_url(config: t.Mapping[str, t.Any], trusts_request_host: bool) -> None:
    """Links, subjects and senders must never come from a forged ``Host`` header."""
    site_url = config["KALEO_SITE_URL"]
    if site_url is not None:
        parts = urlsplit(site_url) if isinstance(site_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                "KALEO_SITE_URL must be the site's public address, such as"
                f" 'https://example.com', not {site_url!r}"
            )
        return
    if trusts_request_host or config.get("SERVER_NAME") or config.get("TRUSTED_HOSTS"):
        return
    raise ConfigurationError(
        "Set KALEO_SITE_URL to the site's public address (such as 'https://example.com'):"
        " invitation links are never built from a request's Host header, which anyone"
        " can forge (Flask's SERVER_NAME or TRUSTED_HOSTS also do)"
    )


def _check_delivery(config: t.Mapping[str, t.Any]) -> None:
    mode = config["KALEO_DELIVERY"]
    if mode not in DELIVERY_MODES:
        raise ConfigurationError(
            f"KALEO_DELIVERY must be one of {', '.join(map(repr, DELIVERY_MODES))}"
            f" (default 'inline'), not {mode!r}"
        )
    for name, zero_allowed in (
        ("KALEO_MAIL_TIMEOUT", False),
        ("KALEO_DELIVERY_BACKOFF", True),
        ("KALEO_DELIVERY_STUCK_AFTER", False),
    ):
        value = config[name]
        if not _is_finite_number(value) or value < 0 or (value == 0 and not zero_allowed):
            bound = "non-negative" if zero_allowed else "positive"
            raise ConfigurationError(
                f"{name} must be a {bound} number of seconds"
                f" (default {DEFAULT_SETTINGS[name]}), not {value!r}"
            )
    attempts = config["KALEO_DELIVERY_ATTEMPTS"]
    if not is_whole_number(attempts) or not 1 <= attempts <= 100:
        raise ConfigurationError(
            "KALEO_DELIVERY_ATTEMPTS must be an integer from 1 to 100 (default 4),"
            f" not {attempts!r}"
        )
    for name in ("KALEO_REDIS_URL", "KALEO_RQ_QUEUE"):
        if not isinstance(config[name], str) or not config[name]:
            raise ConfigurationError(f"{name} must be a non-empty string")
    if mode != "inline" and not (config["KALEO_SITE_URL"] or config.get("SERVER_NAME")):
        raise ConfigurationError(
            f"KALEO_DELIVERY = {mode!r} needs KALEO_SITE_URL (or SERVER_NAME): a worker"
            " builds the invitation links outside any request"
        )
    if mode == "rq" and (
        importlib.util.find_spec("rq") is None or importlib.util.find_spec("redis") is None
    ):
        raise ConfigurationError(
            "KALEO_DELIVERY = 'rq' needs RQ and redis: pip install 'flask-kaleo[rq]'"
        )
