"""Operations: Prometheus metrics on ``/metrics`` (the logs are in ``core.logs``).

``/metrics`` serves the request metrics of this process plus Trede's own gauges: deadlines due and overdue and
failed notifications per region, and the broker's queue depth. It answers only a scraper that sends
``Authorization: Bearer <METRICS_TOKEN>`` (the counts per region are not public); without METRICS_TOKEN the
route answers 404. A scrape counts no rows: the sweep computes the domain figures once a minute and stores
them (``core.snapshots``), and a web process reads the stored figures at most every ``READ_EVERY_SECONDS``,
so every web process serves the same figures and a fast scraper costs the database nothing.
"""

from __future__ import annotations

import hmac
import time
from datetime import datetime, timedelta

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Response
from piccolo.query.functions.aggregate import Count
from prometheus_client import REGISTRY, Gauge, generate_latest

from apps.escalations.tables import Deadline
from apps.notifications.tables import Notification
from apps.tenancy.tables import Region
from core.clock import Clock
from core.snapshots import read_snapshot, store_snapshot
from core.sweep import METRICS, sweep_job
from core.tenancy import RegionsScope

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
COMPUTED_AT = Gauge(
    "trede_domain_metrics_computed_timestamp_seconds", "When the sweep last computed the per-region gauges"
)
GAUGES = {"deadlines_due": DEADLINES_DUE, "deadlines_overdue": DEADLINES_OVERDUE,
          "notifications_failed": NOTIFICATIONS_FAILED}  # fmt: skip
SNAPSHOT = "domain"
READ_EVERY_SECONDS = 15.0


async def compute_domain_figures(now: datetime) -> dict[str, dict[str, int]]:
    """Per region slug: open deadlines due within 24 hours and overdue, failed notifications (three grouped
    queries over every region, each on an index)."""
    regions = {row["id"]: row["slug"] for row in await Region.select(Region.id, Region.slug)}
    figures = {slug: dict.fromkeys(GAUGES, 0) for slug in regions.values()}
    scope = RegionsScope(list(regions))
    is_open = Deadline.status == "open"
    queries = {
        "deadlines_overdue": (Deadline, is_open & (Deadline.due_at < now)),
        "deadlines_due": (Deadline, is_open & (Deadline.due_at >= now) & (Deadline.due_at < now + timedelta(hours=24))),
        "notifications_failed": (Notification, Notification.status == "failed"),
    }
    for name, (table, where) in queries.items():
        rows = await scope.select(table, table.region, Count(alias="n")).where(where).group_by(table.region)
        for row in rows:
            if row["region"] in regions:
                figures[regions[row["region"]]][name] = row["n"]
    return figures


@sweep_job("domain-metrics", order=METRICS)
async def refresh_domain_metrics(clock: Clock) -> dict[str, int]:
    """Once per sweep: compute the per-region figures and store them for every web process's /metrics."""
    now = clock.now()
    await store_snapshot(SNAPSHOT, await compute_domain_figures(now), now)
    return {}


class _StoredFigures:
    """The stored figures as last read by this process, read again when older than READ_EVERY_SECONDS."""

    read_at: float | None = None

    async def apply(self) -> None:
        if self.read_at is not None and time.monotonic() - self.read_at < READ_EVERY_SECONDS:
            return
        self.read_at = time.monotonic()
        stored = await read_snapshot(SNAPSHOT)
        for gauge in GAUGES.values():
            gauge.clear()  # a region that is gone loses its series
        if stored is None:  # no sweep ran yet: no per-region gauges rather than zeros that look true
            return
        figures, computed_at = stored
        for slug, counts in figures.items():
            for name, gauge in GAUGES.items():
                gauge.labels(slug).set(counts.get(name, 0))
        COMPUTED_AT.set(computed_at.timestamp())


stored_figures = _StoredFigures()


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


def _authorised(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode("latin-1", "replace"), f"Bearer {token}".encode())


@get("/metrics", opt={"public": True, "skip_session": True}, include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus scrape endpoint: request metrics of this process and Trede's gauges (no personal data).

    Public to the router, guarded by its own token: 404 when METRICS_TOKEN is not set, 401 without the token.
    """
    token = request.app.state.settings.metrics_token
    if not token:
        raise NotFoundException()
    if not _authorised(request, token):
        return Response(
            {"status_code": 401, "detail": "Bearer-token voor /metrics ontbreekt of klopt niet."},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    await stored_figures.apply()
    QUEUE_DEPTH.labels("trede").set(queue_depth(request.app.state.broker, "trede"))
    # Litestar adds "; charset=utf-8" to a text/ type: name it once
    return Response(generate_latest(REGISTRY), media_type="text/plain; version=0.0.4")
