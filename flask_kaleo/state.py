"""How the HTTP layer and the CLI find the extension: through the current app."""

from __future__ import annotations

import typing as t

from flask import current_app

if t.TYPE_CHECKING:
    from .extension import Kaleo


def get_kaleo() -> Kaleo[t.Any]:
    """The :class:`~flask_kaleo.Kaleo` set up on the current app."""
    try:
        return t.cast("Kaleo[t.Any]", current_app.extensions["kaleo"])
    except KeyError:
        raise RuntimeError(
            "flask-kaleo is not set up on this app: did you forget kaleo.init_app(app)?"
        ) from None
