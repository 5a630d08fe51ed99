"""The notifications' Dramatiq actor: idempotent, the outbox row says what is still to do."""

from __future__ import annotations

from uuid import UUID

import dramatiq

from apps.notifications import services as notifications
from apps.notifications.transports import Transport
from core.db import unit_of_work
from core.settings import load_settings
from core.worker_stop import at_worker_stop

_transports: dict[str, Transport] | None = None


def set_transports(transports: dict[str, Transport] | None) -> None:
    global _transports
    _transports = transports


def transports() -> dict[str, Transport]:
    """The transports built from this process's settings, once."""
    global _transports
    if _transports is None:
        _transports = notifications.transports_from_settings(load_settings())
    return _transports


@dramatiq.actor(queue_name="trede", max_retries=3)
@unit_of_work
async def deliver_notification(region_id: str, notification_id: str) -> None:
    """Send one notification from the outbox (a no-op when another worker already did)."""
    await notifications.deliver(UUID(region_id), UUID(notification_id), transports())


# Sends still in progress when the worker stops go back to the queue at once, not when the lease ends.
at_worker_stop("notices in progress", notifications.release_claims)
