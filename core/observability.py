"""Operations: JSON logs that carry the request id and the region, and Prometheus metrics.

Every request gets an id (the caller's ``X-Request-ID`` when it is sane, else a new one), echoed in the
response and put on every log line written while handling it, together with the region once the
request's code knows it (``set_region``). ``/metrics`` serves the request metrics of this process plus
Trede's own gauges: deadlines due and overdue, failed notifications, and the broker's queue depth.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from litestar import Request, get
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest
from pythonjsonlogger.json import JsonFormatter

from apps.escalations.tables import Deadline
from apps.notifications.tables import Notification
from apps.tenancy.tables import Region
from core.tenancy import RegionScope

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
        return True


def configure_logging(json_logs: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if json_logs:
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}{request_id}{region}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler._trede = True  # type: ignore[attr-defined]  # ours: replaced when the app is built again
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, "_trede", False)]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("uvicorn.access",):  # our access log replaces it, with request id and region
        logging.getLogger(noisy).disabled = True


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
                       "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
            )  # fmt: skip
            request_id_var.reset(id_token)
            region_var.reset(region_token)

    return middleware


prometheus_config = PrometheusConfig(
    app_name="trede",
    prefix="trede",
    group_path=True,  # label by route template, not by every id in a path
    exclude=["^/metrics", "^/static"],
)

DEADLINES_DUE = Gauge("trede_deadlines_due", "Open deadlines due within 24 hours", ["region"])
DEADLINES_OVERDUE = Gauge("trede_deadlines_overdue", "Open deadlines past their due moment", ["region"])
NOTIFICATIONS_FAILED = Gauge("trede_notifications_failed", "Notifications that failed for good", ["region"])
QUEUE_DEPTH = Gauge("trede_queue_depth", "Messages waiting in the broker queue", ["queue"])


async def refresh_domain_metrics(broker) -> None:
    """Recompute the gauges at scrape time (cheap indexed counts per region)."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    for region in await Region.select(Region.id, Region.slug):
        scope = RegionScope(region["id"])
        is_open = Deadline.status == "open"
        DEADLINES_OVERDUE.labels(region["slug"]).set(
            await scope.count(Deadline).where(is_open & (Deadline.due_at < now))
        )
        DEADLINES_DUE.labels(region["slug"]).set(
            await scope.count(Deadline).where(
                is_open & (Deadline.due_at >= now) & (Deadline.due_at < now + timedelta(hours=24))
            )
        )
        NOTIFICATIONS_FAILED.labels(region["slug"]).set(
            await scope.count(Notification).where(Notification.status == "failed")
        )
    QUEUE_DEPTH.labels("trede").set(queue_depth(broker, "trede"))


def queue_depth(broker, queue: str) -> int:
    kind = type(broker).__name__
    if kind == "StubBroker":
        stub_queue = broker.queues.get(queue)
        return stub_queue.qsize() if stub_queue is not None else 0
    if kind == "RedisBroker":
        return int(broker.client.llen(f"{broker.namespace}:{queue}"))
    if kind == "RabbitmqBroker":
        return int(broker.get_queue_message_counts(queue)[0])
    return 0


@get("/metrics", opt={"public": True}, include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus scrape endpoint: request metrics of this process and Trede's gauges (no personal data)."""
    await refresh_domain_metrics(request.app.state.broker)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
