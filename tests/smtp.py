"""A real SMTP server on 127.0.0.1 (aiosmtpd) that can refuse chosen recipients, and a
fixture that points the app's Flask-Mail at it."""

from __future__ import annotations

import socket
import typing as t

import pytest
from aiosmtpd.controller import Controller
from flask import Flask


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
