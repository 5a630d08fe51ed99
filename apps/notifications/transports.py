"""Channels behind one small interface: e-mail over SMTP and in-app notices."""

from __future__ import annotations

import hashlib
import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import aiosmtplib

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_text(value: str) -> str:
    """A header value without control characters: a CR/LF in a provider's or step's name would make the mail
    library refuse the message (or, in a lesser library, start a new header). Each run becomes one space."""
    return " ".join(_CONTROL.sub(" ", value).split())


class DeliveryError(Exception):
    """``reason``: the Dutch sentence for the delivery page; ``str()``: the technical detail."""

    def __init__(self, detail: str, reason: str = ""):
        super().__init__(detail)
        self.reason = reason


class TemporaryFailure(DeliveryError):
    """Try again later (connection refused, 4xx)."""


class PermanentFailure(DeliveryError):
    """Will not succeed by retrying (5xx: unknown mailbox, refused sender)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    unsubscribe_url: str = ""  # List-Unsubscribe (the digest): where people switch it off
    reply_to: str = ""  # the region's mailbox: answers reach people, not noreply


class Transport(Protocol):
    async def send(self, recipient: str, rendered: Rendered, idempotency_key: str) -> None: ...


class MailBuilder:
    """The mail as every mail transport sends it (the SMTP one and the development mailbox)."""

    def __init__(self, mail_from: str, base_url: str = ""):
        self.mail_from = mail_from
        self.base_url = base_url  # for links in mails (List-Unsubscribe: /account)

    def message(self, recipient: str, rendered: Rendered, idempotency_key: str) -> EmailMessage:
        """The mail. Raises ``PermanentFailure`` for what no retry mends (an address with control characters)."""
        if _CONTROL.search(recipient) or _CONTROL.search(rendered.reply_to):
            reason = "Het e-mailadres is ongeldig (het bevat een regelovergang of stuurteken)."
            raise PermanentFailure(f"control character in address {recipient!r}", reason)
        message = EmailMessage()
        try:
            message["From"] = self.mail_from
            message["To"] = recipient
            if rendered.reply_to:
                message["Reply-To"] = rendered.reply_to
            message["Subject"] = header_text(rendered.subject)
            message["Date"] = format_datetime(datetime.now(AMSTERDAM))  # "+0100"/"+0200", never "-0000"
            message["Message-ID"] = message_id(idempotency_key, self.mail_from)
            message["Auto-Submitted"] = "auto-generated"
            if rendered.unsubscribe_url:
                message["List-Unsubscribe"] = f"<{rendered.unsubscribe_url}>"
                message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        except (ValueError, TypeError) as exc:  # the mail library refuses a header: no retry will mend it
            raise PermanentFailure(f"header refused: {exc}", "Het bericht kon niet worden opgesteld: een naam of "
                                   "adres bevat tekens die in een e-mail niet kunnen.") from exc
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message


class EmailTransport(MailBuilder):
    def __init__(self, smtp_url: str, mail_from: str, timeout: float = 30, base_url: str = ""):
        super().__init__(mail_from, base_url)
        parts = urlsplit(smtp_url)
        self.host = parts.hostname or "localhost"
        self.port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        self.use_tls = parts.scheme == "smtps"
        self.start_tls = parts.scheme == "smtp+starttls"
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    async def send(self, recipient: str, rendered: Rendered, idempotency_key: str) -> None:
        message = self.message(recipient, rendered, idempotency_key)
        try:
            await aiosmtplib.send(
                message,
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
                raise PermanentFailure(f"recipient refused: {exc}",
                                       f"De mailserver kent het adres {recipient} niet of weigert het.") from exc
            raise TemporaryFailure(str(exc), "De mailserver nam het adres tijdelijk niet aan.") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"{exc.code} {exc.message}", "De mailserver weigerde het bericht.") from exc
            raise TemporaryFailure(f"{exc.code} {exc.message}", "De mailserver nam het bericht tijdelijk niet "
                                   "aan; Trede probeert het later opnieuw.") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}",
                                   "De mailserver was niet bereikbaar; Trede probeert het later opnieuw.") from exc


def message_id(idempotency_key: str, mail_from: str) -> str:
    """One Message-ID per notification, the same on every resend (after a worker crash between the server's
    acceptance and our record of it): receiving systems drop the duplicate."""
    domain = mail_from.rsplit("@", 1)[-1].strip("> ") or "trede.localhost"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}.trede@{domain}>"


class MailFolderTransport(MailBuilder):
    """The development mailbox (``SMTP_URL=file://…``, never in production): each mail, exactly as it would go
    over SMTP, becomes a ``.eml`` file in the folder; ``/ontwikkeling/post`` lists them. Written under a
    temporary name and renamed, so the page never reads half a mail."""

    def __init__(self, folder: Path, mail_from: str, base_url: str = ""):
        super().__init__(mail_from, base_url)
        self.folder = Path(folder)

    async def send(self, recipient: str, rendered: Rendered, idempotency_key: str) -> None:
        message = self.message(recipient, rendered, idempotency_key)
        stamp = datetime.now(AMSTERDAM).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = self.folder / f".{name}.tmp"
            partial.write_bytes(message.as_bytes())
            partial.replace(self.folder / name)
        except OSError as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}",
                                   "Het ontwikkelpostvak kon de e-mail niet opslaan.") from exc


class InAppTransport:
    """In-app notices are read from the database (the bell); storing them is delivering them."""

    async def send(self, recipient: str, rendered: Rendered, idempotency_key: str) -> None:
        return None
