"""How the HTTP layer and the CLI find the extension: through the app."""

from __future__ import annotations

import typing as t

from flask import Flask
from flask import current_app

if t.TYPE_CHECKING:
    from .extension import Kaleo


def get_kaleo(app: Flask | None = None) -> Kaleo[object]:
    """The :class:`~flask_kaleo.Kaleo` set up on ``app`` (by default the current app).
    Its users are typed as ``object``: a ``Kaleo[User]`` of your own keeps ``User``."""
    extensions = (current_app if app is None else app).extensions
    try:
        return t.cast("Kaleo[object]", extensions["kaleo"])
    except KeyError:
        raise RuntimeError(
            "flask-kaleo is not set up on this app: did you forget kaleo.init_app(app)?"
        ) from None
