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
from email.utils import parseaddr

from flask import current_app

from ..config import current_config
from ..exceptions import ConfigurationError
from ..exceptions import DeliveryError

if t.TYPE_CHECKING:
    from flask_mail import Message


@dataclasses.dataclass(frozen=True)
class OutgoingEmail:
    """One rendered invitation email."""

    subject: str
    text: str
    html: str
    recipient: str
    sender: str
    message_id: str
    """The ``Message-ID`` header, ``<...@site host>``: made from the site's host, so
    no DNS look-up of this machine's name is needed for each email."""


class MailSettings(t.Protocol):
    """What the SMTP transport reads of Flask-Mail's state (``app.extensions["mail"]``)."""

    server: str
    port: int
    use_tls: bool
    use_ssl: bool
    username: str | None
    password: str | None


Transport = t.Callable[[OutgoingEmail, float], None]
"""``transport(email, timeout)``: deliver ``email`` within ``timeout`` seconds per
network operation, or raise :class:`~flask_kaleo.DeliveryError`."""


def flask_mail_transport(email: OutgoingEmail, timeout: float) -> None:
    """Send ``email`` over SMTP with Flask-Mail's settings, each operation bounded by
    ``timeout`` seconds.

    Once the relay has accepted the message (its answer to DATA), the email counts as
    delivered: a connection that fails while saying goodbye changes nothing.

    The message is built here (the text and HTML bodies as alternatives). An address
    (recipient or sender) that is not plain ASCII (only with ``KALEO_SMTPUTF8``) is
    sent with the SMTPUTF8 extension: ``MAIL FROM ... SMTPUTF8`` and UTF-8 headers. A
    relay without SMTPUTF8 refuses it for good (:class:`~flask_kaleo.DeliveryError`,
    permanent). Flask-Mail's ``Message`` is made only for what listens to its
    ``email_dispatched`` signal (``mail.record_messages()``, a development outbox).
    """
    from flask_mail import email_dispatched

    mail = current_app.extensions.get("mail")
    if mail is None:
        raise ConfigurationError(
            "Flask-Mail is not set up on this app: call mail.init_app(app) before sending"
            " invitations, or give flask-kaleo a transport of your own"
        )
    if not mail.suppress:
        utf8 = not (email.recipient + parseaddr(email.sender)[1]).isascii()
        try:
            data = mime_message(email, utf8=utf8)
        except UnicodeError as error:
            raise DeliveryError(f"the email cannot be encoded: {error}", permanent=True) from error
        options = ["SMTPUTF8"] if utf8 else []
        _send_smtp(mail, email.sender, [email.recipient], data, options, timeout)
    if email_dispatched.receivers:  # what mail.record_messages() listens to
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        email_dispatched.send(app, message=_flask_mail_message(email))


def mime_message(email: OutgoingEmail, *, utf8: bool = False) -> bytes:
    """``email`` as the bytes a relay gets: with ``utf8`` an RFC 6532 message (UTF-8
    headers, addresses as they are), else one whose headers are all ASCII."""
    message = EmailMessage(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
    message["Subject"] = email.subject
    message["From"] = email.sender
    message["To"] = email.recipient
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = email.message_id
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message.as_bytes()


def _flask_mail_message(email: OutgoingEmail) -> Message:
    """``email`` as the Flask-Mail ``Message`` its signal's receivers expect."""
    from flask_mail import Message

    message = Message(
        subject=email.subject,
        recipients=[email.recipient],
        sender=email.sender,
        body=email.text,
        html=email.html,
    )
    message.msgId = email.message_id
    return message


def _send_smtp(
    mail: MailSettings,
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
