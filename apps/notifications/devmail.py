"""The development mailbox: with ``SMTP_URL=file://…`` (the embedded default of ``make run``; refused in
production) every outgoing mail is a ``.eml`` file under ``var/mail``, and ``/ontwikkeling/post`` lists them
with their links clickable, so that a newcomer can follow an invitation without a mail server.

The route exists only in an app whose settings have such a folder (``create_app`` adds it then, and never in
production). It is public there: the newcomer it serves has no account yet.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

from litestar import Controller, Request, get
from litestar.response import Template

from core.formatting import nl_datetime

MAX_SHOWN = 200
_LINK = re.compile(r"https?://[^\s<>\"')\]]+")


def _when(header) -> str:
    """The mail's Date header as every page writes a moment: "7 december 2026, 18:04"."""
    try:
        return nl_datetime(parsedate_to_datetime(str(header))) if header else ""
    except (TypeError, ValueError):
        return str(header)


def read_mailbox(folder: Path, limit: int = MAX_SHOWN) -> list[dict]:
    """The mails in the folder, newest first: headers, the text part and the links in it."""
    if not folder.is_dir():
        return []
    mails = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        mails.append({
            "id": path.stem, "from": str(message["From"] or ""), "to": str(message["To"] or ""),
            "subject": str(message["Subject"] or ""), "date": _when(message["Date"]), "text": text,
            "links": list(dict.fromkeys(link.rstrip(".,;:") for link in _LINK.findall(text))),
        })  # fmt: skip
    return mails


class DevMailboxController(Controller):
    path = "/ontwikkeling/post"
    include_in_schema = False

    @get("/", opt={"public": True})
    async def index(self, request: Request) -> Template:
        folder = request.app.state.settings.dev_mailbox
        return Template("ontwikkeling/post.html", context={"mails": read_mailbox(folder), "folder": str(folder)})
