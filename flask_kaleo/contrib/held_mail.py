"""Flask-Security-Too's emails held while a registration's transaction is open: they
leave once it commits, and are dropped if it rolls back (used by
:func:`flask_kaleo.contrib.security.wire`)."""

from __future__ import annotations

import functools
import logging
import typing as t

import sqlalchemy as sa
from flask import has_request_context
from flask import request

_HELD_MAIL = "kaleo_mail_after_commit"

logger = logging.getLogger(__name__)


Send = t.Callable[..., None]


def sent_after_commit(send: Send) -> Send:
    """Flask-Security-Too's ``MailUtil.send_mail``, holding its messages while a
    registration's accept keeps rows locked (see :func:`hold_mail_until_commit`)."""

    @functools.wraps(send)
    def send_mail(*args: object, **kwargs: object) -> None:
        held = request.environ.get(_HELD_MAIL) if has_request_context() else None
        if held is None:
            send(*args, **kwargs)
        else:
            held.append(functools.partial(send, *args, **kwargs))

    return send_mail


def hold_mail_until_commit(session: sa.orm.Session) -> None:
    """Until this transaction ends, Flask-Security-Too's emails wait: they leave once
    it commits (its register view commits after ``register_user`` returns, and sends
    the welcome and confirmation emails before that) and are dropped if it rolls back,
    as the account they speak of then does not exist."""
    held: list[t.Callable[[], None]] = []
    environ = request.environ
    environ[_HELD_MAIL] = held

    def release(session: sa.orm.Session) -> None:
        """Send what was held. The account is committed by now: an email that fails
        is logged (as a failed send outside a transaction would be), not raised, so
        the registration still succeeds and the other emails still leave."""
        if environ.get(_HELD_MAIL) is held:
            del environ[_HELD_MAIL]
        while held:
            try:
                held.pop(0)()
            except Exception:
                logger.exception("flask-kaleo: a Flask-Security-Too email was not sent")

    def drop(session: sa.orm.Session) -> None:
        if environ.get(_HELD_MAIL) is held:
            del environ[_HELD_MAIL]
        held.clear()

    sa.event.listen(session, "after_commit", release, once=True)
    sa.event.listen(session, "after_rollback", drop, once=True)
