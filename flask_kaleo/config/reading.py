"""Reading ``app.config`` into a :class:`~flask_kaleo.config.KaleoConfig`: each value
checked, a wrong one refused naming the setting, the type it takes and its default; a
removed setting refused naming what replaced it, an unknown one the closest setting."""

from __future__ import annotations

import datetime as dt
import difflib
import importlib.util
import math
import typing as t
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..exceptions import ConfigurationError
from .settings import DEFAULT_SETTINGS
from .settings import DELIVERY_MODES
from .settings import RATE_LIMIT_KEYS
from .settings import REMOVED_SETTINGS
from .settings import UNLIMITED
from .settings import Delivery
from .settings import KaleoConfig
from .settings import MemberPrivacy
from .settings import RateLimits


def is_whole_number(value: object) -> t.TypeGuard[int]:
    """An int, and not a bool (True is an int to Python, never a count to a user)."""
    return isinstance(value, int) and not isinstance(value, bool)


class _Bad(Exception):
    """The value is not what the setting takes."""


T = t.TypeVar("T")


def read_settings(
    settings: t.Mapping[str, object], user_model: type, *, trusts_request_host: bool = False
) -> KaleoConfig:
    """``settings`` (an ``app.config``) as a :class:`KaleoConfig`, or a
    :class:`~flask_kaleo.ConfigurationError` naming the first wrong setting.

    ``trusts_request_host``: the app runs in debug or testing mode, where links may be
    built from the request's host when no site URL is configured.
    """
    _check_names(settings)

    def read(name: str, expected: str, parse: t.Callable[[object], T]) -> T:
        default = DEFAULT_SETTINGS[name]
        value = settings.get(name, default)
        try:
            return parse(value)
        except _Bad:
            raise ConfigurationError(
                f"{name} must be {expected} (default {_shown(default)}), not {value!r}"
            ) from None

    config = KaleoConfig(
        default_expiration=read(
            "KALEO_DEFAULT_EXPIRATION", "a positive number of hours or a timedelta", _expiration
        ),
        default_invite_allocation=read(
            "KALEO_DEFAULT_INVITE_ALLOCATION", "an integer >= 0, or -1 for unlimited", _allocation
        ),
        expiration_bounds=read(
            "KALEO_EXPIRATION_BOUNDS", "a pair (shortest, longest) of positive timedeltas", _bounds
        ),
        signup_url=read("KALEO_SIGNUP_URL", "an endpoint name or a path", _page),
        signed_in_redirect=read(
            "KALEO_SIGNED_IN_REDIRECT", "an endpoint name, a path, or None", _optional(_page)
        ),
        login_url=read("KALEO_LOGIN_URL", "an endpoint name, a path, or None", _optional(_page)),
        invite_only=read("KALEO_INVITE_ONLY", "True or False", _flag),
        require_invited_email=read("KALEO_REQUIRE_INVITED_EMAIL", "True or False", _flag),
        allow_links=read("KALEO_ALLOW_LINKS", "True or False", _flag),
        member_privacy=read("KALEO_MEMBER_PRIVACY", "None, 'quiet' or 'notify'", _privacy),
        show_suspension_reason=read("KALEO_SHOW_SUSPENSION_REASON", "True or False", _flag),
        rate_limits=read(
            "KALEO_RATE_LIMITS",
            "a dict with the keys 'member' and 'address' (either may be left out), each a"
            " whole number >= 1 of emails per 24 hours or None for no limit",
            _rate_limits,
        ),
        resend_interval=read("KALEO_RESEND_INTERVAL", "a timedelta >= 0", _duration(zero=True)),
        site_url=read(
            "KALEO_SITE_URL",
            "None or the site's public address, such as 'https://example.com'",
            _optional(_site_url),
        ),
        site_name=read("KALEO_SITE_NAME", "a non-empty string or None", _optional(_text)),
        user_email_attribute=read(
            "KALEO_USER_EMAIL_ATTRIBUTE",
            f"the name of a column of {user_model.__name__} holding the address",
            _column_of(user_model),
        ),
        smtputf8=read("KALEO_SMTPUTF8", "True or False", _flag),
        delivery=read(
            "KALEO_DELIVERY", f"one of {', '.join(map(repr, DELIVERY_MODES))}", _delivery
        ),
        delivery_retries=read(
            "KALEO_DELIVERY_RETRIES",
            "a list or tuple of at most 99 timedeltas >= 0 (the waits between attempts)",
            _retries,
        ),
        mail_timeout=read("KALEO_MAIL_TIMEOUT", "a positive timedelta", _duration(zero=False)),
        redis_url=read("KALEO_REDIS_URL", "a non-empty string", _text),
    )
    _check_together(config, settings, trusts_request_host)
    return config


def _check_names(settings: t.Mapping[str, object]) -> None:
    """Refuse a removed setting (naming its replacement) and an unknown one."""
    for name in sorted(key for key in settings if key.startswith("KALEO_")):
        if name in REMOVED_SETTINGS:
            raise ConfigurationError(f"{name} {REMOVED_SETTINGS[name]}")
        if name not in DEFAULT_SETTINGS:
            close = difflib.get_close_matches(name, DEFAULT_SETTINGS, n=1, cutoff=0.7)
            hint = f": did you mean {close[0]}?" if close else ""
            raise ConfigurationError(f"{name} is not a flask-kaleo setting{hint}")


def _check_together(
    config: KaleoConfig, settings: t.Mapping[str, object], trusts_request_host: bool
) -> None:
    """What one setting cannot say alone."""
    low, high = config.expiration_bounds
    if not low <= config.default_expiration <= high:
        raise ConfigurationError(
            "KALEO_DEFAULT_EXPIRATION must lie within KALEO_EXPIRATION_BOUNDS, not"
            f" {config.default_expiration} outside {low} .. {high}"
        )
    if config.site_url is None and not (
        trusts_request_host or settings.get("SERVER_NAME") or settings.get("TRUSTED_HOSTS")
    ):
        raise ConfigurationError(
            "Set KALEO_SITE_URL to the site's public address (such as 'https://example.com'):"
            " invitation links are never built from a request's Host header, which anyone"
            " can forge (Flask's SERVER_NAME or TRUSTED_HOSTS also do)"
        )
    if config.queued and not (config.site_url or settings.get("SERVER_NAME")):
        raise ConfigurationError(
            f"KALEO_DELIVERY = {config.delivery!r} needs KALEO_SITE_URL (or SERVER_NAME): a"
            " worker builds the invitation links outside any request"
        )
    if config.delivery == "rq" and (
        importlib.util.find_spec("rq") is None or importlib.util.find_spec("redis") is None
    ):
        raise ConfigurationError(
            "KALEO_DELIVERY = 'rq' needs RQ and redis: pip install 'flask-kaleo[rq]'"
        )


def _shown(default: object) -> str:
    """A default as the docs write it: ``timedelta(minutes=5)``, not ``datetime.``."""
    return repr(default).replace("datetime.timedelta", "timedelta")


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Bad
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad
    return value


def _page(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad
    return value


def _optional(parse: t.Callable[[object], T]) -> t.Callable[[object], T | None]:
    return lambda value: None if value is None else parse(value)


def _expiration(value: object) -> dt.timedelta:
    """kaleo's number of hours, or a timedelta."""
    if isinstance(value, dt.timedelta):
        duration = value
    elif (is_whole_number(value) or isinstance(value, float)) and math.isfinite(value):
        duration = dt.timedelta(hours=value)
    else:
        raise _Bad
    if duration <= dt.timedelta(0):
        raise _Bad
    return duration


def _duration(*, zero: bool) -> t.Callable[[object], dt.timedelta]:
    def parse(value: object) -> dt.timedelta:
        if not isinstance(value, dt.timedelta) or value < dt.timedelta(0):
            raise _Bad
        if value == dt.timedelta(0) and not zero:
            raise _Bad
        return value

    return parse


def _bounds(value: object) -> tuple[dt.timedelta, dt.timedelta]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise _Bad
    low, high = (_duration(zero=False)(item) for item in value)
    if low > high:
        raise _Bad
    return low, high


def _allocation(value: object) -> int:
    if not is_whole_number(value) or value < UNLIMITED:
        raise _Bad
    return value


def _privacy(value: object) -> MemberPrivacy:
    if value is None:
        return None
    if value == "quiet":
        return "quiet"
    if value == "notify":
        return "notify"
    raise _Bad


def _delivery(value: object) -> Delivery:
    for mode in t.get_args(Delivery):
        if value == mode and isinstance(value, str):
            return t.cast(Delivery, mode)
    raise _Bad


def _rate_limits(value: object) -> RateLimits:
    if not isinstance(value, t.Mapping) or not set(value) <= set(RATE_LIMIT_KEYS):
        raise _Bad
    member, address = (_limit(value.get(key, getattr(RateLimits, key))) for key in RATE_LIMIT_KEYS)
    return RateLimits(member=member, address=address)


def _limit(value: object) -> int | None:
    if value is not None and (not is_whole_number(value) or value < 1):
        raise _Bad
    return value


def _retries(value: object) -> tuple[dt.timedelta, ...]:
    if not isinstance(value, tuple | list) or len(value) > 99:
        raise _Bad
    return tuple(_duration(zero=True)(item) for item in value)


def _site_url(value: object) -> str:
    """Links, the site's name and the sender never come from a forged ``Host``."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Bad
    return t.cast(str, value)


def _column_of(user_model: type) -> t.Callable[[object], str]:
    def parse(value: object) -> str:
        if not isinstance(value, str) or not isinstance(
            getattr(user_model, value, None), sa.orm.QueryableAttribute
        ):
            raise _Bad
        return value

    return parse
