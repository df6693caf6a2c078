"""Queued delivery on RQ (``KALEO_DELIVERY = "rq"``; ``pip install 'flask-kaleo[rq]'``).

A job carries only the invitation's id: the worker mints the token when it builds the
email, so no link ever rests in Redis. Its job id names the invitation and the sending
(``kaleo-deliver-<id>-<when the sending began>``), so a sweep does not queue a second
job for a sending whose job still waits. ``flask kaleo worker`` runs a worker inside the
app; a plain ``rq worker`` finds the app through ``FLASK_APP``.
"""

from __future__ import annotations

import datetime as dt
import os
import typing as t

from flask import Flask
from flask import current_app
from flask import has_app_context

from ..config import RQ_QUEUE
from ..config import current_config
from ..state import get_kaleo

if t.TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

JOB = "flask_kaleo.delivery.rq.deliver_job"
_loaded_app: Flask | None = None


def connection() -> Redis:
    """The app's Redis connection (``KALEO_REDIS_URL``), with timeouts."""
    from redis import Redis

    extensions = current_app.extensions
    if "kaleo.redis" not in extensions:
        config = current_config()
        timeout = config.mail_timeout.total_seconds()
        extensions["kaleo.redis"] = Redis.from_url(
            config.redis_url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
    return t.cast("Redis", extensions["kaleo.redis"])


def queue() -> Queue:
    from rq import Queue

    return Queue(RQ_QUEUE, connection=connection())


def retry_delays() -> list[int]:
    """Seconds before each retry (``KALEO_DELIVERY_RETRIES``)."""
    return [round(wait.total_seconds()) for wait in current_config().delivery_retries]


WAITING = frozenset({"queued", "scheduled", "deferred", "started"})
"""The states of a job that will still run (or runs now)."""


def job_id(invitation_id: int, sending: dt.datetime) -> str:
    """The one job id of the invitation's sending that began at ``sending``."""
    return f"kaleo-deliver-{invitation_id}-{round(sending.timestamp() * 1_000_000)}"


def enqueue(invitation_id: int, sending: dt.datetime) -> None:
    """Queue a job for the sending, unless one still waits for it.

    RQ saves a job under an id that exists over the old one and queues it again, so
    a finished or failed job of the sending is replaced; a waiting one is kept. Two
    sweeps at once may still queue it twice: the delivery's lease makes the second
    job find nothing to do."""
    from rq import Retry

    jobs = queue()
    name = job_id(invitation_id, sending)
    existing = jobs.fetch_job(name)
    if existing is not None and existing.get_status(refresh=False) in WAITING:
        return
    delays = retry_delays()
    retry = Retry(max=len(delays), interval=delays) if delays else None
    jobs.enqueue_call(
        JOB,
        args=(invitation_id,),
        job_id=name,
        retry=retry,
        description=f"kaleo invitation {invitation_id}",
    )


def deliver_job(invitation_id: int) -> str:
    """The job: deliver one invitation, in a fresh app context of its own."""
    app = current_app._get_current_object() if has_app_context() else _app()  # type: ignore[attr-defined]
    with app.app_context():
        return get_kaleo().deliver(invitation_id)


def _app() -> Flask:
    """The app of a plain ``rq worker`` process, loaded once from ``FLASK_APP``."""
    global _loaded_app
    if _loaded_app is None:
        from flask.cli import ScriptInfo

        # ScriptInfo does not read FLASK_APP itself (the flask command's --app does).
        _loaded_app = ScriptInfo(app_import_path=os.environ.get("FLASK_APP")).load_app()
    return _loaded_app


def work(*, burst: bool) -> None:
    """Run a worker for the app's queue in this process (``flask kaleo worker``).

    With ``burst``, it queues the retries that are due, delivers what is queued and
    exits; a retry due later waits for the next run. A burst worker does not listen for
    RQ's commands (``rq`` CLI's shutdown, stop-job): RQ's listener thread can hold the
    exit for up to a minute (it waits for Redis in one-minute reads), and a burst
    worker ends on its own."""
    from rq import SimpleWorker

    class BurstWorker(SimpleWorker):
        def subscribe(self) -> None:
            """Nothing: no listener thread to wait for at the exit."""

    worker = (BurstWorker if burst else SimpleWorker)([queue()], connection=connection())
    worker.work(burst=burst, with_scheduler=True)
