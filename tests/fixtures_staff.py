"""Fixtures of the staff, lifecycle and CLI tests (loaded with ``pytest_plugins``):
a CSRF token for any client, the permission hooks set for one test, and a real SMTP
server on 127.0.0.1 (aiosmtpd) that can refuse chosen recipients."""

from __future__ import annotations

import socket
import typing as t

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from tests.hostapp import kaleo


@pytest.fixture
def csrf(app: Flask) -> t.Callable[[FlaskClient], str]:
    """A function giving a client's CSRF token, whatever its page shows (a staff member
    with no invitations has no invite form to read it from)."""
    app.add_url_rule("/_test_csrf", "test_csrf", lambda: generate_csrf())

    def token(client: FlaskClient) -> str:
        return client.get("/_test_csrf").get_data(as_text=True)

    return token


@pytest.fixture
def manage_hook() -> t.Iterator[t.Callable[[t.Callable[[t.Any], bool]], None]]:
    """Set the manage permission on the shared extension for one test only."""
    saved = kaleo.permissions.manage_hook

    def use(hook: t.Callable[[t.Any], bool]) -> None:
        kaleo.manage_permission(hook)

    yield use
    kaleo.permissions.manage_hook = saved


@pytest.fixture
def invite_hook() -> t.Iterator[t.Callable[[t.Callable[[t.Any], bool]], None]]:
    """Set the invite permission on the shared extension for one test only."""
    saved = kaleo.permissions.invite_hook

    def use(hook: t.Callable[[t.Any], bool]) -> None:
        kaleo.invite_permission(hook)

    yield use
    kaleo.permissions.invite_hook = saved


class Recorder:
    """Accepts mail, except for the addresses in ``refuse`` (a 550 at RCPT TO)."""

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.delivered: list[t.Any] = []

    async def handle_RCPT(
        self, server: t.Any, session: t.Any, envelope: t.Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        self.delivered.append(envelope)
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return [address for envelope in self.delivered for address in envelope.rcpt_tos]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(app: Flask) -> t.Iterator[Recorder]:
    """Real delivery over SMTP for this test (Flask-Mail stops suppressing sends)."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    state = app.extensions["mail"]
    saved = (state.server, state.port, state.suppress)
    state.server, state.port, state.suppress = "127.0.0.1", controller.port, False
    try:
        yield recorder
    finally:
        state.server, state.port, state.suppress = saved
        controller.stop()
