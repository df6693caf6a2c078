"""Delivering invitations through Celery: the recipe of the docs.

With ``KALEO_DELIVERY = "queue"``, flask-kaleo commits each invitation and hands its id
to the function set with ``kaleo.delivery_queue``; here that queues a Celery task,
which a Celery worker runs in the app's context. flask-kaleo counts the attempts: while
one may pass, ``kaleo.deliver`` raises and the task is retried; after
``KALEO_DELIVERY_ATTEMPTS`` (or a permanent refusal) it gives the invitation back.

In the app factory: ``celery_init_app(app)`` (Flask's Celery pattern, which also sets the
app's delivery queue), with the broker in ``app.config["CELERY"]``; then run
``celery -A tests.celery_worker worker``.
"""

from __future__ import annotations

import typing as t

from celery import Celery
from celery import Task
from celery import shared_task
from flask import Flask
from flask import current_app

from flask_kaleo import DeliveryError
from flask_kaleo import get_kaleo
from tests.helpers import kaleo_of


def queue_delivery(invitation_id: int) -> None:
    deliver_invitation.delay(invitation_id)


@shared_task(bind=True, max_retries=None)  # flask-kaleo bounds the attempts
def deliver_invitation(self: Task, invitation_id: int) -> None:
    try:
        get_kaleo().deliver(invitation_id)
    except DeliveryError as error:  # a passing failure: try again, backing off
        backoff = current_app.config["KALEO_DELIVERY_BACKOFF"] * 2**self.request.retries
        raise self.retry(exc=error, countdown=backoff) from error


def celery_init_app(app: Flask) -> Celery:
    """Flask's Celery pattern: every task runs inside the app's context; the app's
    invitations are queued as Celery tasks."""

    class FlaskTask(Task):
        def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    kaleo_of(app).delivery_queue(queue_delivery)
    return celery_app
