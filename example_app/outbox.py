"""A development outbox: every email Flask-Mail dispatches (sent or, as here, suppressed)
is kept in memory for the /outbox page and printed on the console."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import re
import typing as t

import click
from flask import Flask
from flask import current_app
from flask_mail import Message
from flask_mail import email_dispatched

LIMIT = 50
LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclasses.dataclass(frozen=True)
class RecordedMail:
    subject: str
    sender: str
    recipients: tuple[str, ...]
    body: str
    sent_at: dt.datetime

    @property
    def links(self) -> list[str]:
        """The links in the text body (the invitation's accept link)."""
        return LINK.findall(self.body)


def init_app(app: Flask) -> None:
    app.extensions["example_outbox"] = collections.deque(maxlen=LIMIT)
    email_dispatched.connect(_record)


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
        sent_at=dt.datetime.now(dt.timezone.utc),
    )
    box.append(mail)
    click.echo(
        f"\n--- mail to {', '.join(mail.recipients)}: {mail.subject}\n{mail.body}\n---",
        err=True,
    )
