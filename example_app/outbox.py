"""A development outbox: every email Flask-Mail dispatches (sent or, as here, suppressed)
is kept in memory for the /outbox page and printed on the console.

The outbox shows every invitation link, so it answers 404 unless the app runs in debug
mode (``flask run --debug``) or the signed-in user is staff. ``EXAMPLE_OUTBOX = True``
opens it outside debug mode (the browser tests' production-mode server), ``False``
closes it in debug mode too; unset, it follows ``app.debug``.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import re
import typing as t

import click
from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import render_template
from flask_login import current_user
from flask_mail import Message
from flask_mail import email_dispatched

LIMIT = 50
LINK = re.compile(r"https?://[^\s<>\"']+")
SETTING = "EXAMPLE_OUTBOX"

bp = Blueprint("outbox", __name__)


@dataclasses.dataclass(frozen=True)
class RecordedMail:
    subject: str
    sender: str
    recipients: tuple[str, ...]
    body: str
    html: str
    sent_at: dt.datetime
    links: tuple[str, ...]
    """The site's links in the text body (the invitation's accept link), not those an
    inviter wrote in their message: the page offers each as the invitation's."""

    @property
    def preview(self) -> str:
        """The HTML part for a sandboxed frame, its links opening in a new tab (the
        frame may open tabs, never run a script or reach the site's origin)."""
        return self.html.replace("<head>", '<head><base target="_blank" />', 1)


def init_app(app: Flask) -> None:
    app.extensions["example_outbox"] = collections.deque(maxlen=LIMIT)
    app.jinja_env.globals["example_outbox_open"] = is_open
    email_dispatched.connect(_record)


def is_open() -> bool:
    """Whether this request may see the outbox: debug mode (or ``EXAMPLE_OUTBOX``),
    or a signed-in staff member."""
    setting = current_app.config.get(SETTING)
    opened = current_app.debug if setting is None else bool(setting)
    return opened or bool(current_user.is_authenticated and current_user.is_staff)


@bp.route("/outbox")
def page() -> str:
    """The mail the app would have sent: a 404 for anyone else than staff, outside
    debug mode."""
    if not is_open():
        abort(404)
    return render_template("outbox.html", messages=messages())


def messages() -> list[RecordedMail]:
    """The recorded mail, newest first."""
    return list(reversed(current_app.extensions["example_outbox"]))


def _record(app: Flask, message: Message, **extra: t.Any) -> None:
    """Flask-Mail 0.10 sends ``email_dispatched`` with the app as sender."""
    box = app.extensions.get("example_outbox")
    if box is None:  # another app in the same process
        return
    mail = RecordedMail(
        subject=message.subject or "",
        sender=str(message.sender or ""),
        recipients=tuple(str(r) for r in message.recipients),
        body=message.body or "",
        html=message.html or "",
        sent_at=dt.datetime.now(dt.timezone.utc),
        links=_site_links(app, message.body or ""),
    )
    box.append(mail)
    click.echo(
        f"\n--- mail to {', '.join(mail.recipients)}: {mail.subject}\n{mail.body}\n---",
        err=True,
    )


def _site_links(app: Flask, body: str) -> tuple[str, ...]:
    site = app.config["KALEO_SITE_URL"].rstrip("/") + "/"
    return tuple(link for link in LINK.findall(body) if link.startswith(site))
