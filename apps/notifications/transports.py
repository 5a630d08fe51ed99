"""Channels behind one small interface: e-mail over SMTP and in-app notices."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib


class TemporaryFailure(Exception):
    """Try again later (connection refused, 4xx)."""


class PermanentFailure(Exception):
    """Will not succeed by retrying (5xx: unknown mailbox, refused sender)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Transport(Protocol):
    async def send(self, recipient: str, rendered: Rendered, idempotency_key: str) -> None: ...


class EmailTransport:
    def __init__(self, smtp_url: str, mail_from: str, timeout: float = 30):
        parts = urlsplit(smtp_url)
        self.host = parts.hostname or "localhost"
        self.port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        self.use_tls = parts.scheme == "smtps"
        self.start_tls = parts.scheme == "smtp+starttls"
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.mail_from = mail_from
        self.timeout = timeout

    def message(self, recipient: str, rendered: Rendered, idempotency_key: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = recipient
        message["Subject"] = rendered.subject
        message["Date"] = formatdate(localtime=False)
        # Stable per notification: a receiving system can recognise a resend after a worker crash.
        domain = self.mail_from.rsplit("@", 1)[-1].strip("> ") or "trede.localhost"
        message["Message-ID"] = make_msgid(idstring=idempotency_key.replace(":", ".")[:60], domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message

    async def send(self, recipient: str, rendered: Rendered, idempotency_key: str) -> None:
        try:
            await aiosmtplib.send(
                self.message(recipient, rendered, idempotency_key),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.start_tls or None,
                tls_context=ssl.create_default_context() if (self.use_tls or self.start_tls) else None,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"ontvanger geweigerd: {exc}") from exc
            raise TemporaryFailure(str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"{exc.code} {exc.message}") from exc
            raise TemporaryFailure(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc


class InAppTransport:
    """In-app notices are read from the database (the bell); storing them is delivering them."""

    async def send(self, recipient: str, rendered: Rendered, idempotency_key: str) -> None:
        return None
