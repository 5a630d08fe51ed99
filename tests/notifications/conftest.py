"""A real SMTP server (aiosmtpd) as the mail sink."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port


class Sink:
    """Records what arrives; can refuse recipients (550) to simulate permanent failures."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.stall: set[str] = set()  # recipients whose RCPT hangs (to kill a worker mid-send)
        self.stalled = threading.Event()
        self.stall_after_data: set[str] = set()  # recipients whose message is taken but the 250 to DATA hangs
        self.accepted = threading.Event()
        self.stall_quit: set[str] = set()  # recipients whose message gets its 250, after which the QUIT hangs
        self.answered = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd API)
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        if address in self.stall:
            self.stall.discard(address)
            self.stalled.set()
            await asyncio.sleep(30)  # the sender is killed meanwhile; no DATA follows
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        if stalled := self.stall_after_data.intersection(envelope.rcpt_tos):
            self.stall_after_data -= stalled
            self.accepted.set()
            await asyncio.sleep(30)  # the message is kept; the sender is killed before it hears the 250
        if stalled := self.stall_quit.intersection(envelope.rcpt_tos):
            self.stall_quit -= stalled
            session.stall_quit = True  # the 250 below goes out; the sender's QUIT then waits
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        if getattr(session, "stall_quit", False):
            # The sender has read the 250 (it sends QUIT only after that) and has not yet recorded the mail as
            # sent (that happens once the conversation is over): it is killed meanwhile.
            self.answered.set()
            await asyncio.sleep(30)
        return "221 Bye"


class Gate:
    """A port that takes a connection and never greets: a worker waiting here has claimed its notice and not
    yet begun an SMTP conversation; nothing it does reaches the sink."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"smtp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.reached = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._hold, daemon=True).start()

    def _hold(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed at the end of the test
                return
            self.held.append(connection)
            self.reached.set()

    def close(self):
        for connection in self.held:
            connection.close()
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        self.listener.close()


@pytest.fixture
def smtp_gate():
    gate = Gate()
    yield gate
    gate.close()


@pytest.fixture
def smtp_sink():
    sink = Sink()
    port = free_port()  # aiosmtpd's port=0 does not work: pick a free port first
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.url = f"smtp://127.0.0.1:{port}"
    yield sink
    controller.stop()
