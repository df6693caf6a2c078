"""kaleo's Jinja helpers: ``{% trans %}`` in the ``flask_kaleo`` domain, and the page's
language and direction, installed on the app's environment by :func:`setup_templates`."""

from __future__ import annotations

import typing as t

from flask import Flask
from jinja2 import pass_context
from jinja2.runtime import Context

from .. import i18n
from . import sent_list


def text_direction() -> str:
    """``"rtl"`` when the current locale is written right to left, else ``"ltr"``."""
    locale = i18n.babel_locale() if i18n.babel_active() else None
    if locale is None:
        return "ltr"
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


def language_tag() -> str:
    """The current locale as an HTML ``lang`` value (``pt-BR``); ``en`` by default."""
    return (i18n.current_locale() or "en").replace("_", "-")


def _for_template(
    context: Context, text: str, english: str, variables: dict[str, t.Any], named: bool
) -> str:
    """What ``{% trans %}`` expects back: newstyle callables fill the placeholders
    (escaping the values under autoescape); oldstyle ones leave ``{% trans %}``'s to
    the template, but a direct call with ``named`` placeholders is filled here."""
    if not context.environment.newstyle_gettext and not named:  # type: ignore[attr-defined]
        return text
    return i18n.fill(text, english, variables, escape=context.eval_ctx.autoescape)


@pass_context
def template_gettext(context: Context, string: str, /, **variables: t.Any) -> str:
    """kaleo's templates bind ``gettext`` to this: ``{% trans %}`` in the flask_kaleo
    domain, whatever the app's own templates use."""
    return _for_template(context, i18n.translate(string), string, variables, bool(variables))


@pass_context
def template_ngettext(
    context: Context, singular: str, plural: str, num: int, /, **variables: t.Any
) -> str:
    named = bool(variables)
    variables.setdefault("num", num)
    text = i18n.translate_plural(singular, plural, num)
    return _for_template(context, text, singular if num == 1 else plural, variables, named)


def setup_templates(app: Flask) -> None:
    """Give the app's Jinja environment the ``{% trans %}`` tag (with English
    callables, unless Flask-Babel or the app installed theirs) and kaleo's helpers.

    kaleo's templates start with ``{% set gettext, ngettext = kaleo_gettext,
    kaleo_ngettext %}``, so their strings come from the ``flask_kaleo`` domain even
    after Flask-Babel installs the app's own ``gettext`` in the environment."""
    env = app.jinja_env
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
        env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        kaleo_gettext=template_gettext,
        kaleo_ngettext=template_ngettext,
        kaleo_text_direction=text_direction,
        kaleo_language=language_tag,
        kaleo_sent_page=sent_list.sent_page,
        kaleo_sent_url=sent_list.sent_url,
        kaleo_state_count=sent_list.state_count,
        kaleo_resend_at=sent_list.resend_at,
    )
    env.filters.update(kaleo_number=i18n.format_number, kaleo_datetime=i18n.format_datetime)
