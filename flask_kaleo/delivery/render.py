"""The invitation email: its link, its sender, its subject and its two bodies.

Links, the site's name and the default sender come from ``KALEO_SITE_URL`` or
``SERVER_NAME``; the request's ``Host`` header, which anyone can forge, is used only
where the app trusts it (debug or testing mode, or Flask's ``TRUSTED_HOSTS``).
"""

from __future__ import annotations

from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask import has_request_context
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.routing import BuildError
from werkzeug.routing import MapAdapter

from .. import i18n
from ..config import current_config
from ..exceptions import ConfigurationError
from ..models import JoinInvitationMixin
from .transport import OutgoingEmail


def _site() -> tuple[MapAdapter | None, str]:
    """URLs bound to the configured site (None when only a request can tell) and the
    site's host (and port): as configured, else as the trusted request says."""
    adapter = _site_adapter()
    if adapter is not None:
        return adapter, adapter.server_name
    return None, request.host if has_request_context() else "localhost"


def _site_adapter() -> MapAdapter | None:
    """URLs bound to the configured site, or None when only a request can tell."""
    config = current_app.config
    site_url = current_config().site_url
    if site_url:
        parts = urlsplit(site_url)
        return current_app.url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
        )
    if config.get("SERVER_NAME"):
        return current_app.url_map.bind(
            config["SERVER_NAME"],
            script_name=config["APPLICATION_ROOT"],
            url_scheme=config["PREFERRED_URL_SCHEME"],
        )
    return None


def accept_url(token: str) -> str:
    """The absolute accept link."""
    return external_url("kaleo.accept", token)


def join_url(token: str) -> str:
    """The absolute link of a shareable link (:mod:`flask_kaleo.core.links`)."""
    return external_url("kaleo.join", token)


def external_url(endpoint: str, token: str) -> str:
    """The absolute URL of a kaleo page that takes a token, on the configured site."""
    return _external_url(_site_adapter(), endpoint, token)


def _external_url(adapter: MapAdapter | None, endpoint: str, token: str) -> str:
    try:
        if adapter is not None:
            return adapter.build(endpoint, {"token": token}, force_external=True)
        if has_request_context():
            return url_for(endpoint, token=token, _external=True)
    except BuildError as error:
        raise ConfigurationError(
            "The 'kaleo' blueprint is not registered: call"
            " app.register_blueprint(flask_kaleo.web.blueprint, url_prefix='/invites')"
        ) from error
    raise ConfigurationError(
        "Cannot build the invitation link outside a request: set KALEO_SITE_URL (or"
        " SERVER_NAME and PREFERRED_URL_SCHEME) in the app's config"
    )


def site_host() -> str:
    """The site's host (and port), as configured, else as the trusted request says."""
    return _site()[1]


def site_name(host: str | None = None) -> str:
    """``KALEO_SITE_NAME``, else the host of the site's links (``host`` if known
    already) without its port: "beta.example.com", never "127.0.0.1:5000"."""
    return current_config().site_name or _domain(host or site_host())


def default_sender(host: str | None = None) -> str:
    """``noreply@<host>`` for an app that configured no sender at all."""
    return f"noreply@{_domain(host or site_host())}"


def _domain(host: str) -> str:
    """The host without its port (an IPv6 literal keeps its brackets)."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.split(":")[0]


def _sender(host: str) -> str:
    mail = current_app.extensions.get("mail")
    sender = (mail.default_sender if mail is not None else None) or default_sender(host)
    return sender if isinstance(sender, str) else f"{sender[0]} <{sender[1]}>"


def _message_id(host: str) -> str:
    """A new ``Message-ID`` at the site's host: no look-up of this machine's name."""
    return make_msgid(domain=_domain(host))


NOTICE_TEXT_TEMPLATE = "kaleo/email/notice.txt"
NOTICE_HTML_TEMPLATE = "kaleo/email/notice.html"


def render_notice(recipient: str, locale: str | None = None) -> OutgoingEmail:
    """The short "someone tried to invite you" notice to a member (with
    ``KALEO_MEMBER_PRIVACY = "notify"``), in ``locale``: no link, no inviter, never the inviter's
    message."""
    host = site_host()
    site = site_name(host)
    context = {"site_name": site}
    with i18n.in_locale(locale):
        subject = i18n.gettext("Someone tried to invite you to %(site_name)s", site_name=site)
        return OutgoingEmail(
            subject=" ".join(subject.split()),
            text=render_template(NOTICE_TEXT_TEMPLATE, **context),
            html=render_template(NOTICE_HTML_TEMPLATE, **context),
            recipient=recipient,
            sender=_sender(host),
            message_id=_message_id(host),
        )


TEXT_TEMPLATE = "kaleo/email/invitation.txt"
HTML_TEMPLATE = "kaleo/email/invitation.html"
SUBJECT_TEMPLATE = "kaleo/email/invitation_subject.txt"
REMINDER_TEXT_TEMPLATE = "kaleo/email/reminder.txt"
REMINDER_HTML_TEMPLATE = "kaleo/email/reminder.html"


def render_invitation(
    invitation: JoinInvitationMixin, token: str, *, inviter_label: str, reminder: bool = False
) -> OutgoingEmail:
    """The email for ``invitation``, carrying the link of ``token``.

    ``inviter_label`` is how the inviter appears in the subject and the body; a
    ``reminder`` uses the reminder templates and says so in the subject. The subject
    and bodies are written in ``invitation.locale`` (with Flask-Babel), its expiry
    (``expires``) in that locale's words, in UTC, the zone stated.
    """
    adapter, host = _site()
    site = site_name(host)
    text, html = TEXT_TEMPLATE, HTML_TEMPLATE
    if reminder:
        text, html = REMINDER_TEXT_TEMPLATE, REMINDER_HTML_TEMPLATE
    expires = invitation.expires_at
    with i18n.in_locale(invitation.locale):
        context = {
            "invitation": invitation,
            "inviter_label": inviter_label,
            "site_name": site,
            "accept_url": _external_url(adapter, "kaleo.accept", token),
            "expires": expires and i18n.format_expiry(expires),
        }
        subject = render_template(SUBJECT_TEMPLATE, **context).strip()
        if reminder:
            subject = i18n.gettext("Reminder: %(subject)s", subject=subject)
        return OutgoingEmail(
            subject=" ".join(subject.split()),  # no header injection through a display name
            text=render_template(text, **context),
            html=render_template(html, **context),
            recipient=invitation.email,
            sender=_sender(host),
            message_id=_message_id(host),
        )
