"""The extension of the app under test: each test app builds its own ``Kaleo``, found
through the app (``app.extensions["kaleo"]``), never through a module global."""

from __future__ import annotations

import typing as t

from flask import Flask
from flask import current_app

from flask_kaleo import Kaleo
from tests.hostapp import User


def kaleo_of(app: Flask) -> Kaleo[User]:
    """The ``Kaleo`` that ``app`` set up."""
    return t.cast("Kaleo[User]", app.extensions["kaleo"])


def current_kaleo() -> Kaleo[User]:
    """The ``Kaleo`` of the current app (inside an app context)."""
    return kaleo_of(current_app)
