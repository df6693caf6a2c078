"""Translations, numbers and dates, through Flask-Babel when the app uses it.

When Flask-Babel is initialised on the current app (before or after
:meth:`Kaleo.init_app <flask_kaleo.Kaleo.init_app>`: it is asked at each call, a
dictionary look-up), strings are looked up in the ``flask_kaleo`` domain: the catalogs
shipped in ``flask_kaleo/translations``, overridden by any ``flask_kaleo.mo`` in the
app's own ``BABEL_TRANSLATION_DIRECTORIES``. Otherwise every string is English, plurals
included, and neither Flask-Babel nor Babel is imported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import typing as t
from pathlib import Path

from flask import current_app
from flask import g
from flask import has_app_context
from flask import has_request_context
from markupsafe import Markup

if t.TYPE_CHECKING:
    from flask_babel import Domain

DOMAIN = "flask_kaleo"
"""The gettext domain of flask-kaleo's strings (``flask_kaleo.po``/``.mo``)."""
logger = logging.getLogger(__name__)
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
"""Where the shipped catalogs live: ``<locale>/LC_MESSAGES/flask_kaleo.mo``."""
LOCALE_PATTERN = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,3}")
MAX_LOCALE_LENGTH = 35

_domains: dict[tuple[str, ...], Domain] = {}
_FORCED = "kaleo_locale_forced"
"""Set in ``g`` while :func:`in_locale` forces a locale."""


def babel_active() -> bool:
    """Whether Flask-Babel is initialised on the current app."""
    return has_app_context() and "babel" in current_app.extensions


def _domain() -> Domain:
    """The ``flask_kaleo`` domain: the shipped catalogs, then the app's directories (a
    later catalog's messages override an earlier one's)."""
    from flask_babel import Domain
    from flask_babel import get_babel

    directories = (str(TRANSLATIONS), *get_babel().translation_directories)
    domain = _domains.get(directories)
    if domain is None:
        domain = _domains[directories] = Domain(list(directories), domain=DOMAIN)
    return domain


@contextlib.contextmanager
def _selected() -> t.Iterator[None]:
    """Flask-Babel's locale in the block: the request's; outside a request (a worker,
    the CLI, where the app's locale selector cannot read ``request``) the one
    :func:`in_locale` forced, else the app's default. A request whose locale Babel
    cannot parse (the app's selector passed ``?lang=../x`` through) gets the default
    too, rather than a 500."""
    if g.get(_FORCED) or (has_request_context() and _request_locale_parses()):
        yield
        return
    from flask_babel import force_locale
    from flask_babel import get_babel

    with force_locale(get_babel().default_locale):
        yield


def translate(string: str) -> str:
    if not babel_active():
        return string
    with _selected():
        return t.cast(str, _domain().get_translations().ugettext(string))


def translate_plural(singular: str, plural: str, num: int) -> str:
    if not babel_active():
        return singular if num == 1 else plural
    with _selected():
        return t.cast(str, _domain().get_translations().ungettext(singular, plural, num))


FSI, PDI = "\u2068", "\u2069"
"""Unicode's first-strong isolate and its closing mark: plain text's ``<bdi>``."""
ISOLATED = frozenset({"email", "address", "domain", "inviter", "site_name", "name", "label"})
"""The placeholders that hold an address, a domain or a name: text that keeps its own
direction inside a sentence (not a URL, which an isolate mark would break)."""


def isolate(text: str) -> str:
    """``text`` between Unicode isolates when the current language is written right to
    left, so that left-to-right text inside a sentence (an address) stays one unit and
    the sentence's full stop stays at its end; unchanged otherwise."""
    return f"{FSI}{text}{PDI}" if text and right_to_left() else text


def right_to_left() -> bool:
    """Whether the current locale is written right to left (never without Flask-Babel)."""
    if not babel_active():
        return False
    locale = babel_locale()
    return locale is not None and locale.character_order == "right-to-left"


def _isolated(variables: t.Mapping[str, t.Any]) -> t.Mapping[str, t.Any]:
    """``variables`` with the :data:`ISOLATED` strings isolated (see :func:`isolate`);
    markup is left to isolate itself (``<bdi>``)."""
    names = [
        name
        for name, value in variables.items()
        if name in ISOLATED and isinstance(value, str) and not isinstance(value, Markup)
    ]
    if not names or not right_to_left():
        return variables
    return {**variables, **{name: isolate(variables[name]) for name in names}}


def fill(text: str, english: str, variables: t.Mapping[str, t.Any], escape: bool = False) -> str:
    """``text % variables``; a translation whose placeholders do not match (an app's
    own catalog, say) is logged and the English is used, rather than a 500 after the
    work is done."""
    try:
        return Markup(text) % variables if escape else text % variables
    except (KeyError, ValueError, TypeError) as error:
        logger.warning("flask-kaleo: the translation %r does not fit %r: %r", text, english, error)
        return Markup(english) % variables if escape else english % variables


def gettext(string: str, /, **variables: t.Any) -> str:
    """``string`` translated for the current locale, ``%(name)s`` placeholders filled
    (an address or a name isolated right to left: this is the text of flashes, JSON
    answers and the CLI, where no ``<bdi>`` can)."""
    text = translate(string)
    return fill(text, string, _isolated(variables)) if variables else text


def ngettext(singular: str, plural: str, num: int, /, **variables: t.Any) -> str:
    """The singular or plural form for ``num`` (available as ``%(num)d``)."""
    variables.setdefault("num", num)
    english = singular if num == 1 else plural
    return fill(translate_plural(singular, plural, num), english, _isolated(variables))


def N_(string: str) -> str:  # noqa: N802 (the conventional gettext marker)
    """Mark a module-level string for extraction; translate it with :func:`gettext`
    where it is used."""
    return string


class LazyString:
    """A string translated each time it is shown (labels defined at import time)."""

    def __init__(self, string: str, variables: dict[str, t.Any]) -> None:
        self.string = string
        self.variables = variables

    def __str__(self) -> str:
        return gettext(self.string, **self.variables)

    def __html__(self) -> Markup:
        return Markup.escape(str(self))

    def __repr__(self) -> str:
        return f"lazy_gettext({self.string!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, LazyString) else other)

    def __hash__(self) -> int:
        return hash(str(self))


def lazy_gettext(string: str, /, **variables: t.Any) -> LazyString:
    """Like :func:`gettext`, translated when shown rather than when defined."""
    return LazyString(string, variables)


# -- locales --------------------------------------------------------------------


def current_locale() -> str | None:
    """The request's locale as Flask-Babel chose it, or None without Flask-Babel."""
    if not babel_active():
        return None
    locale = babel_locale()
    return None if locale is None else str(locale)


def request_locale() -> str | None:
    """The locale of the request being answered: what an invitation's email is written
    in by default. None outside a request, without Flask-Babel, and when the app's
    selector chose something Babel cannot parse or that is no identifier kaleo stores
    (see :func:`clean_locale`): such a value is ignored, never stored."""
    if not has_request_context() or not babel_active() or not _request_locale_parses():
        return None
    locale = current_locale()
    return locale if locale is not None and _identifier(locale) else None


def clean_locale(locale: str | None) -> str | None:
    """``locale`` as stored (``pt_BR``), or None; a value that is no locale identifier
    is a :class:`ValueError`."""
    if locale is None:
        return None
    if not isinstance(locale, str) or not _identifier(locale):
        raise ValueError(f"{locale!r} is not a locale identifier such as 'fr' or 'pt_BR'")
    locale = locale.replace("-", "_")
    if babel_active() and _known_locale(locale) is None:
        raise ValueError(f"{locale!r} is not a locale Babel knows, such as 'fr' or 'pt_BR'")
    return locale


def _identifier(locale: str) -> bool:
    """Whether ``locale`` is written as a locale identifier (``fr``, ``pt_BR``,
    ``pt-BR``) that fits the ``locale`` column."""
    return len(locale) <= MAX_LOCALE_LENGTH and LOCALE_PATTERN.fullmatch(locale) is not None


def _request_locale_parses() -> bool:
    """Whether Babel can parse the locale the app's selector chose for this request."""
    from babel import UnknownLocaleError
    from flask_babel import get_locale

    try:
        get_locale()
    except (ValueError, UnknownLocaleError):
        return False
    return True


def _known_locale(locale: str) -> str | None:
    """``locale`` if Babel knows it (it can write an email in it), else None."""
    from babel import Locale
    from babel import UnknownLocaleError

    try:
        Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        return None
    return locale


@contextlib.contextmanager
def in_locale(locale: str | None) -> t.Iterator[None]:
    """Translate and format in ``locale`` inside the block (Flask-Babel's
    ``force_locale``). None: the request's locale, or outside a request the app's
    default. Nothing changes without Flask-Babel."""
    if not babel_active() or (locale is None and has_request_context()):
        yield
        return
    from flask_babel import force_locale
    from flask_babel import get_babel

    if locale is not None and _known_locale(locale) is None:
        locale = None  # stored, then no longer known: the default beats a stuck email
    forced = g.get(_FORCED)
    setattr(g, _FORCED, True)
    try:
        with force_locale(locale or get_babel().default_locale):
            yield
    finally:
        setattr(g, _FORCED, forced)


# -- numbers and dates ------------------------------------------------------------


def babel_locale() -> t.Any:
    """Flask-Babel's current ``babel.Locale``, chosen as ``_selected`` says."""
    from flask_babel import get_locale

    with _selected():
        return get_locale()


def format_number(number: int | float) -> str:
    """``number`` with the locale's digit grouping (``1 234`` in French); as Python
    writes it without Flask-Babel."""
    if not babel_active():
        return str(number)
    from babel.numbers import format_decimal

    return format_decimal(number, locale=babel_locale())


def format_datetime(
    value: dt.datetime, format: str = "medium", *, tzinfo: dt.tzinfo | None = None
) -> str:
    """``value`` written for the locale, in ``tzinfo`` (default: the visitor's time zone
    as Flask-Babel chose it), the zone stated by the ``long`` and ``full`` formats.
    Without Flask-Babel: English, in UTC, the zone always stated."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    if not babel_active():
        if format in ("long", "full"):
            return value.astimezone(dt.timezone.utc).strftime("%d %B %Y, %H:%M UTC")
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    from babel.dates import format_datetime as babel_format
    from flask_babel import get_timezone

    if tzinfo is None:
        with _selected():
            tzinfo = get_timezone()
    return babel_format(value, format, tzinfo=tzinfo, locale=babel_locale())


def format_expiry(value: dt.datetime) -> str:
    """An invitation's expiry, for its email: the long date and the short time (no
    seconds), in UTC, the zone stated in the locale's words (``UTC``, ``TU``...)."""
    if not babel_active():
        return format_datetime(value, "long")
    from babel.dates import format_date
    from babel.dates import format_time
    from babel.dates import get_datetime_format

    locale = babel_locale()
    utc = dt.timezone.utc
    when = value.replace(tzinfo=utc) if value.tzinfo is None else value.astimezone(utc)
    time = format_time(when, "short", tzinfo=utc, locale=locale)
    zone = format_time(when, "z", tzinfo=utc, locale=locale)
    pattern = str(get_datetime_format("long", locale=locale)).replace("'", "")
    date = format_date(when, "long", locale=locale)
    return pattern.replace("{0}", f"{time} {zone}").replace("{1}", date)
