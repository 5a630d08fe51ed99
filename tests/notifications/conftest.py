"""A real SMTP server (aiosmtpd) as the mail sink."""

from __future__ import annotations

import asyncio
import email
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
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink():
    sink = Sink()
    port = free_port()  # aiosmtpd's port=0 does not work: pick a free port first
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.url = f"smtp://127.0.0.1:{port}"
    yield sink
    controller.stop()
