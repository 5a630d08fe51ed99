"""The sweep's Dramatiq actor. Idempotent: the database says what is still to do, the message only wakes us."""

from __future__ import annotations

import dramatiq

from apps.workers import services
from core.db import unit_of_work


@dramatiq.actor(queue_name="trede", max_retries=5)
@unit_of_work
async def sweep(slot: int) -> None:
    """The periodic sweep for one time slot (enqueued once per slot by the scheduler)."""
    await services.run_sweep(slot)
