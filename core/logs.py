"""Logs: one handler on the root logger for every process (web, worker, scheduler), JSON lines in production.

Every request gets an id (the caller's ``X-Request-ID`` when it is sane, else a new one), echoed in the
response and put on every log line written while handling it, together with the region once the
request's code knows it (``set_region``). The web process writes exactly one access line per request
(``trede.access``, from ``request_context_middleware``): uvicorn's own access log is off and uvicorn and
Litestar configure no handlers of their own, so nothing is logged twice or in another format.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
region_var: contextvars.ContextVar[str] = contextvars.ContextVar("region", default="")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("trede.access")


def set_region(slug: str) -> None:
    """Called by code that resolved the request's region, so the log lines name it."""
    region_var.set(slug)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.region = region_var.get()
        record.__dict__.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}{request_id}{region}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure_logging(json_logs: bool, level: int = logging.INFO) -> None:
    """Our handler on the root logger (on standard error); every other logger propagates to it."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if json_logs:
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler._trede = True  # type: ignore[attr-defined]  # ours: replaced when the app is built again
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, "_trede", False)]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers would print in their own format if a handler were left on them
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our access line replaces it, with request id and region
    logging.captureWarnings(json_logs)  # a library's warning becomes a log line too, not a bare stderr line


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        id_token = request_id_var.set(request_id)
        region_token = region_var.set("")
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={"method": scope["method"], "path": scope["path"], "status": status,
                       "client": scope["client"][0] if scope.get("client") else "",
                       "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
            )  # fmt: skip
            request_id_var.reset(id_token)
            region_var.reset(region_token)

    return middleware
