"""Periodic work: claiming time slots (several schedulers, one enqueue per slot) and the sweep itself."""

from __future__ import annotations

import uuid
from datetime import datetime

from apps.workers.tables import JobRun
from core.clock import Clock, system_clock

SWEEP_PERIOD_SECONDS = 60


def slot_of(moment: datetime, period: int = SWEEP_PERIOD_SECONDS) -> int:
    return int(moment.timestamp()) // period


async def claim_slot(job: str, slot: int, clock: Clock = system_clock) -> bool:
    """Insert the ledger row for (job, slot); True only for the one caller whose insert won.

    Portable compare-and-set: the unique key makes the second insert fail on SQLite and PostgreSQL alike.
    """
    key = f"{job}:{slot}"
    inserted = await JobRun.raw(
        "INSERT INTO job_run (id, key, job, enqueued_at) VALUES ({}, {}, {}, {}) "
        "ON CONFLICT (key) DO NOTHING RETURNING key",
        str(uuid.uuid4()),
        key,
        job,
        clock.now(),
    )
    return bool(inserted)


async def run_sweep(slot: int, clock: Clock = system_clock) -> None:
    """The sweep of one slot: hand every notification that is due (again) to the workers, then record
    that the slot was swept. Nothing is lost when the broker lost a message: the row is still pending."""
    from apps.notifications.services import due_for_delivery
    from apps.workers.actors import deliver_notification

    for region_id, notification_id in await due_for_delivery(clock):
        deliver_notification.send(str(region_id), str(notification_id))
    await JobRun.update({JobRun.finished_at: clock.now()}).where(JobRun.key == f"sweep:{slot}")


async def last_sweep() -> datetime | None:
    row = (
        await JobRun.select(JobRun.finished_at)
        .where((JobRun.job == "sweep") & JobRun.finished_at.is_not_null())
        .order_by(JobRun.finished_at, ascending=False)
        .first()
    )
    return row["finished_at"] if row else None
