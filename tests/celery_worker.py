"""The Celery worker's entry point: ``celery -A tests.celery_worker worker``."""

from tests.queue_app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
