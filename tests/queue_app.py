"""The host app as a worker process loads it (``FLASK_APP=tests.queue_app``).

The test that starts the worker says how to build it, in environment variables:

- ``KALEO_TEST_DATABASE_URL``: the test's database;
- ``KALEO_TEST_CONFIG``: the app's config as JSON (the test app's ``KALEO_*`` settings
  and the SMTP server's ``MAIL_*``; ``CELERY`` sets up the Celery recipe);
- ``KALEO_TEST_SIGNAL_LOG``: a file where every ``invite_undeliverable`` signal the
  worker sends is written, one JSON line each.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import typing as t

from flask import Flask

from flask_kaleo import signals
from tests import hostapp


def _durations(value: dict[str, t.Any]) -> t.Any:
    """The durations ``worker_env`` wrote as ``{"seconds": ...}``."""
    return dt.timedelta(seconds=value["seconds"]) if set(value) == {"seconds"} else value


def create_app() -> Flask:
    config = json.loads(os.environ.get("KALEO_TEST_CONFIG", "{}"), object_hook=_durations)
    app = hostapp.create_app(os.environ["KALEO_TEST_DATABASE_URL"], **config)
    if "CELERY" in config:
        from tests.celery_app import celery_init_app

        celery_init_app(app)
    log = os.environ.get("KALEO_TEST_SIGNAL_LOG")
    if log:

        @signals.invite_undeliverable.connect_via(app)
        def record(sender: Flask, invitation: t.Any, inviter: t.Any) -> None:
            line = {"invitation": invitation.id, "inviter": inviter.id, "status": invitation.status}
            with open(log, "a") as file:
                file.write(json.dumps(line) + "\n")

    return app
