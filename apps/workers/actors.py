"""Dramatiq actors. Each is idempotent: the database says what is still to do, the message only wakes us."""

from __future__ import annotations

from uuid import UUID

import dramatiq

from apps.notifications import services as notifications
from apps.workers import runtime, services


@dramatiq.actor(queue_name="trede", max_retries=5)
async def sweep(slot: int) -> None:
    """The periodic sweep for one time slot (enqueued once per slot by the scheduler)."""
    await services.run_sweep(slot)


@dramatiq.actor(queue_name="trede", max_retries=3)
async def deliver_notification(region_id: str, notification_id: str) -> None:
    """Send one notification from the outbox (a no-op when another worker already did)."""
    await notifications.deliver(UUID(region_id), UUID(notification_id), runtime.transports())
