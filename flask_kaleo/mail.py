"""The invitation email: its link, its templates and its delivery through Flask-Mail."""

from __future__ import annotations

import smtplib

from flask import current_app
from flask import has_request_context
from flask import render_template
from flask import request
from flask import url_for
from flask_mail import Message
from werkzeug.routing import BuildError

from .exceptions import ConfigurationError
from .exceptions import DeliveryFailed
from .models import JoinInvitationMixin


def accept_url(token: str) -> str:
    """The absolute accept link, from the request's host or from ``SERVER_NAME``."""
    try:
        return url_for("kaleo.accept", token=token, _external=True)
    except BuildError as error:
        raise ConfigurationError(
            "The 'kaleo' blueprint is not registered: call"
            " app.register_blueprint(flask_kaleo.blueprint, url_prefix='/invites')"
        ) from error
    except RuntimeError as error:
        raise ConfigurationError(
            "Cannot build the invitation link outside a request: set SERVER_NAME"
            " (and PREFERRED_URL_SCHEME) in the app's config"
        ) from error


def site_name() -> str:
    configured = current_app.config["KALEO_SITE_NAME"]
    if configured:
        return str(configured)
    if has_request_context():
        return request.host
    return str(current_app.config.get("SERVER_NAME") or "our site")


def default_sender() -> str:
    """``noreply@<host>`` for an app that configured no sender at all: the request's
    host, else ``SERVER_NAME``, without a port."""
    host = request.host if has_request_context() else current_app.config.get("SERVER_NAME")
    return f"noreply@{(host or 'localhost').split(':')[0]}"


def send_invitation(invitation: JoinInvitationMixin, *, inviter_label: str) -> Message:
    """Render and send the email for ``invitation``; raise DeliveryFailed when the
    mail server cannot be reached or refuses it.

    ``inviter_label`` is how the inviter appears in the subject and the body.
    """
    mail = current_app.extensions.get("mail")
    if mail is None:
        raise ConfigurationError(
            "Flask-Mail is not set up on this app: call mail.init_app(app) before sending"
            " invitations"
        )
    config = current_app.config
    sender = config["KALEO_EMAIL_SENDER"] or mail.default_sender or default_sender()
    assert invitation.token, "only a freshly issued invitation carries its token"
    site = site_name()
    context = {
        "invitation": invitation,
        "inviter_label": inviter_label,
        "site_name": site,
        "accept_url": accept_url(invitation.token),
    }
    subject = config["KALEO_EMAIL_SUBJECT"].format(inviter=inviter_label, site=site)
    message = Message(
        subject=" ".join(subject.split()),  # no header injection through a display name
        recipients=[invitation.email],
        sender=sender,
        body=render_template(config["KALEO_EMAIL_TEXT_TEMPLATE"], **context),
        html=render_template(config["KALEO_EMAIL_HTML_TEMPLATE"], **context),
    )
    try:
        mail.send(message)
    except (smtplib.SMTPException, OSError) as error:
        current_app.logger.warning("flask-kaleo could not deliver an invitation: %s", error)
        raise DeliveryFailed(
            "The invitation email could not be delivered, so nothing was spent."
            " Please try again in a moment."
        ) from error
    return message
