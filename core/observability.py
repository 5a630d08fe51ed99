"""Operations: Prometheus metrics (the logs are in ``core.logs``).

``/metrics`` serves the request metrics of this process plus
Trede's own gauges: deadlines due and overdue, failed notifications, and the broker's queue depth.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest

from apps.escalations.tables import Deadline
from apps.notifications.tables import Notification
from apps.tenancy.tables import Region
from core.tenancy import RegionScope

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
