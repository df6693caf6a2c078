"""Settings: a test app's ``KALEO_*`` settings changed while it runs."""

from __future__ import annotations

import typing as t

from flask import Flask

from flask_kaleo.config import configure


def reconfigure(app: Flask, **settings: t.Any) -> None:
    """Give ``app`` these settings as if it had started with them: kaleo reads its
    settings once, at ``init_app``, so ``app.config`` alone would not change them."""
    app.config.update(settings)
    configure(app, app.extensions["kaleo"].user_model)
