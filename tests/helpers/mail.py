"""Mail: the accept link and the text of a received email, Flask-Mail pointed at a
relay, a real SMTP server that keeps (or refuses) what it gets, and a relay that never
answers."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.message
import re
import selectors
import socket
import threading
import typing as t

from flask import Flask

from tests.helpers.processes import free_port
from tests.helpers.run import WAIT

LINK = re.compile(r"(https?://[^/\s\"]+)/invites/accept/([A-Za-z0-9_\-]+)")


def accept_link(text: str) -> tuple[str, str]:
    """The (scheme://host, token) of the one accept link in ``text``."""
    links: set[tuple[str, str]] = set(LINK.findall(text))
    assert len(links) == 1, f"expected one accept link, found {links}"
    return links.pop()


def message_text(message: email.message.Message, subtype: str) -> str:
    """The decoded ``text/<subtype>`` part of a received email."""
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"the email has no text/{subtype} part")


@contextlib.contextmanager
def mail_relay(app: Flask, port: int) -> t.Iterator[None]:
    """Flask-Mail sends for real (not suppressed) to the relay on 127.0.0.1:``port``
    inside the block; flask-kaleo's default transport follows its settings."""
    state = app.extensions["mail"]
    saved = (state.server, state.port, state.suppress)
    state.server, state.port, state.suppress = "127.0.0.1", port, False
    try:
        yield
    finally:
        state.server, state.port, state.suppress = saved


class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepts.

    It refuses (550) at RCPT TO the addresses in ``refuse``, and every recipient while
    ``refuse_at`` is "RCPT", or the message while it is "DATA" (keeping the refused
    message in ``refused``); ``rcpt_refusal`` is its answer at RCPT (a "450 ..."
    refuses for now, as a busy relay does). ``rcpt_count`` counts the RCPT commands:
    one per attempt to deliver. With ``drop_at_quit`` it accepts the message, then
    drops the connection when the client says QUIT, without answering. ``stop()``
    closes the port and ``start()`` listens on it again. With ``smtputf8`` it offers
    the SMTPUTF8 extension (RFC 6531), so it takes non-ASCII addresses.

    A slow relay: each message takes ``delay`` seconds at DATA. A held relay: while
    ``gate`` is an unset ``threading.Event``, the first message waits at DATA until it
    is set (``waiting`` is released when it arrives; later messages pass), so a test
    knows an email is at the relay and can act meanwhile.
    """

    def __init__(self, smtputf8: bool = False) -> None:
        self.smtputf8 = smtputf8
        self.mail_options: list[list[str]] = []
        """The options of each accepted message's MAIL FROM."""
        self.port = free_port()
        self.refuse: set[str] = set()
        self.refuse_at: t.Literal["RCPT", "DATA"] | None = None
        self.drop_at_quit = False
        self.rcpt_refusal = "550 5.1.1 Mailbox unavailable"
        self.rcpt_count = 0
        self.envelopes: list[tuple[str, list[str]]] = []
        self.messages: list[email.message.Message] = []
        self.refused: list[email.message.Message] = []
        self.dropped = 0
        """Connections dropped at QUIT."""
        self.delay = 0.0
        self.gate: threading.Event | None = None
        self.waiting = threading.Semaphore(0)
        self._held = False
        self._controller: t.Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def recipients(self) -> list[str]:
        return [address for _, recipients in self.envelopes for address in recipients]

    async def handle_RCPT(
        self, server: t.Any, session: t.Any, envelope: t.Any, address: str, options: t.Any
    ) -> str:
        self.rcpt_count += 1
        if self.refuse_at == "RCPT" or address.lower() in self.refuse:
            return self.rcpt_refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        if self.gate is not None and not self._held:
            self._held = True
            self.waiting.release()
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, WAIT)
        if self.delay:
            await asyncio.sleep(self.delay)
        received = email.message_from_bytes(envelope.original_content)
        if self.refuse_at == "DATA":
            self.refused.append(received)
            return "550 5.7.1 Message rejected"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.mail_options.append(list(envelope.mail_options))
        self.messages.append(received)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        if not self.drop_at_quit:
            return "221 Bye"
        self.dropped += 1
        server.transport.abort()  # the line drops: the client never hears 221
        raise asyncio.CancelledError  # ends this session's handler, as a lost line does


class SilentRelay:
    """A "mail relay" on 127.0.0.1 that accepts TCP connections and never says a word:
    no greeting, no answer, ever. A plain socket server on a thread.

    ``wait_for(n)`` returns once ``n`` clients have connected (proof that they are
    stalled in it); ``close()`` closes the port and every connection, which ends each
    client's wait at once (it reads the end of the stream).
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._connections: list[socket.socket] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _accept(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not selector.select(timeout=0.05):
                    continue
                connection, _ = self._listener.accept()
                with self._changed:
                    self._connections.append(connection)
                    self._changed.notify_all()

    @property
    def connections(self) -> int:
        with self._changed:
            return len(self._connections)

    def wait_for(self, count: int, timeout: float = WAIT) -> None:
        """Return once ``count`` clients have connected; fail after ``timeout`` s."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self._connections) >= count, timeout)
        assert arrived, f"{self.connections} of {count} clients reached the silent relay"

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(WAIT)
        self._listener.close()
        with self._changed:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
