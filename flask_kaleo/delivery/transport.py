"""Handing a rendered email to a mail relay, within a time limit.

The default transport sends through SMTP with Flask-Mail's settings (``MAIL_SERVER``,
``MAIL_PORT``, ``MAIL_USE_TLS``, ``MAIL_USE_SSL``, ``MAIL_USERNAME``,
``MAIL_PASSWORD``), honours ``MAIL_SUPPRESS_SEND`` and ``mail.record_messages()``, and
bounds every SMTP operation by the timeout, which Flask-Mail itself cannot. An app can
give any other transport (an HTTP mail API, Flask-Mailman, ...) with the same contract:
see :meth:`Kaleo.transport <flask_kaleo.Kaleo.transport>`.
"""

from __future__ import annotations

import dataclasses
import smtplib
import typing as t
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from email.utils import make_msgid
from email.utils import parseaddr

from flask import current_app

from ..config import current_config
from ..exceptions import ConfigurationError
from ..exceptions import DeliveryError


@dataclasses.dataclass(frozen=True)
class OutgoingEmail:
    """One rendered invitation email."""

    subject: str
    text: str
    html: str
    recipient: str
    sender: str


Transport = t.Callable[[OutgoingEmail, float], None]
"""``transport(email, timeout)``: deliver ``email`` within ``timeout`` seconds per
network operation, or raise :class:`~flask_kaleo.DeliveryError`."""


def flask_mail_transport(email: OutgoingEmail, timeout: float) -> None:
    """Send ``email`` over SMTP with Flask-Mail's settings, each operation bounded by
    ``timeout`` seconds.

    Once the relay has accepted the message (its answer to DATA), the email counts as
    delivered: a connection that fails while saying goodbye changes nothing.

    An address (recipient or sender) that is not plain ASCII (only with
    ``KALEO_SMTPUTF8``) is sent with the SMTPUTF8 extension: ``MAIL FROM ... SMTPUTF8``
    and UTF-8 headers, which Flask-Mail cannot build, so the message is built here. A
    relay without SMTPUTF8 refuses it for good (:class:`~flask_kaleo.DeliveryError`, permanent).
    """
    from flask_mail import Message
    from flask_mail import email_dispatched

    mail = current_app.extensions.get("mail")
    if mail is None:
        raise ConfigurationError(
            "Flask-Mail is not set up on this app: call mail.init_app(app) before sending"
            " invitations, or give flask-kaleo a transport of your own"
        )
    message = Message(
        subject=email.subject,
        recipients=[email.recipient],
        sender=email.sender,
        body=email.text,
        html=email.html,
    )
    if not mail.suppress:
        try:
            if (email.recipient + parseaddr(email.sender)[1]).isascii():
                data, options = message.as_bytes(), message.mail_options
            else:
                data, options = _smtputf8_message(email), ["SMTPUTF8"]
        except UnicodeError as error:
            raise DeliveryError(f"the email cannot be encoded: {error}", permanent=True) from error
        _send_smtp(mail, email.sender, [email.recipient], data, options, timeout)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    email_dispatched.send(app, message=message)  # what mail.record_messages() listens to


def _smtputf8_message(email: OutgoingEmail) -> bytes:
    """``email`` as an RFC 6532 message: UTF-8 headers, addresses as they are."""
    message = EmailMessage(policy=policy.SMTPUTF8)
    message["Subject"] = email.subject
    message["From"] = email.sender
    message["To"] = email.recipient
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid()
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message.as_bytes()


def _send_smtp(
    mail: t.Any,
    sender: str,
    recipients: list[str],
    data: bytes,
    mail_options: list[str],
    timeout: float,
) -> None:
    try:
        smtp_class = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        relay = smtp_class(mail.server, mail.port, timeout=timeout)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"could not reach the mail relay: {error}") from error
    try:
        if mail.use_tls:
            relay.starttls()
        if mail.username and mail.password:
            relay.login(mail.username, mail.password)
        relay.sendmail(sender, recipients, data, mail_options)
    except (smtplib.SMTPException, OSError, UnicodeError) as error:
        relay.close()  # no polite QUIT to a relay that just failed: it could stall again
        if isinstance(error, UnicodeError):  # an address that needs SMTPUTF8
            raise DeliveryError(f"the email cannot be encoded: {error}", permanent=True) from error
        raise DeliveryError(
            f"the mail relay did not take the email: {error}", permanent=_is_permanent(error)
        ) from error
    try:
        relay.quit()
    except (smtplib.SMTPException, OSError):  # the email is out: a dropped goodbye is fine
        relay.close()


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer is final, and so is a relay without SMTPUTF8 for a non-ASCII
    address; anything else (4xx, a timeout, a dropped line) may pass."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def log_transport(email: OutgoingEmail, timeout: float) -> None:
    """Development mail (``KALEO_DELIVERY = "log"``): send nothing, and write the email's
    text, accept link included, to the app's log, as a warning so that ``flask run``
    shows it without ``--debug``. Always succeeds: the invitation counts as delivered."""
    current_app.logger.warning(
        "KALEO_DELIVERY is 'log': this email was not sent.\nTo: %s\nFrom: %s\nSubject: %s\n\n%s",
        email.recipient,
        email.sender,
        email.subject,
        _indented(email.text),
    )


def _indented(text: str) -> str:
    """The body, each line indented: an invitee's message cannot start a line that
    looks like one of the log's own records."""
    return "\n".join("    " + line for line in text.splitlines())


def active_transport(configured: Transport) -> Transport:
    """The transport to use now: :func:`log_transport` when ``KALEO_DELIVERY`` is
    ``"log"`` (whatever transport the app gave), else ``configured``."""
    return log_transport if current_config().delivery == "log" else configured
