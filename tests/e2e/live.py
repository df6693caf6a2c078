"""The example app on a live server, as the e2e tests see it."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import typing as t
from pathlib import Path

from flask import Flask
from flask import request
from werkzeug.serving import make_server

from tests.helpers import reconfigure

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
"""Screenshots: those the tests take on purpose, and those of failed tests."""

PageFactory = t.Callable[..., "Page"]
GATE_TIMEOUT = 10.0


@dataclasses.dataclass
class LiveServer:
    """The example app served on 127.0.0.1, with helpers that reach its database."""

    app: Flask
    url: str
    gate: threading.Event | None = None

    def __call__(self, path: str) -> str:
        return self.url + path

    def make_member(self, email: str, password: str, invitations: int) -> None:
        from example_app.demo import add_member
        from example_app.extensions import db

        with self.app.app_context():
            add_member(email, password, invitations)
            db.session.commit()

    def hold_invites(self) -> threading.Event:
        """Make the invite endpoint wait until the returned event is set: a barrier that
        lets a test look at the page while a request is in flight."""
        self.gate = threading.Event()
        return self.gate

    def _wait_at_gate(self) -> None:
        gate = self.gate
        if gate is not None and request.endpoint == "kaleo.invite":
            self.gate = None
            gate.wait(GATE_TIMEOUT)


@contextlib.contextmanager
def serve(app: Flask, db: t.Any) -> t.Iterator[LiveServer]:
    """``app`` on a threaded server on 127.0.0.1, its emailed links pointing there;
    stopped, and ``db``'s connections closed, afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    live = LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    reconfigure(app, KALEO_SITE_URL=live.url)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
