"""The ledger of periodic and one-time work (table ``job_run``): a unique key per (job, time slot) or per
one-time event, so several schedulers enqueue each slot once and several workers act on an event once.

Core plumbing: the scheduler claims sweep slots here, and the apps' sweep jobs claim their one-time events
(evidence reminders, quality notices, the daily digest). The table is registered by ``apps/workers``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table

from core.clock import Clock, system_clock
from core.models import utcnow, uuid_pk

SWEEP_PERIOD_SECONDS = 60


class JobRun(Table, tablename="job_run"):
    id = uuid_pk()
    key = Varchar(length=120, unique=True)  # "<job>:<slot>", e.g. "sweep:29401234"
    job = Varchar(length=60, index=True)
    enqueued_at = Timestamptz(default=utcnow)
    finished_at = Timestamptz(null=True, default=None)


def slot_of(moment: datetime, period: int = SWEEP_PERIOD_SECONDS) -> int:
    return int(moment.timestamp()) // period


async def claim_slot(job: str, slot: int, clock: Clock = system_clock) -> bool:
    """Insert the ledger row for (job, slot); True only for the one caller whose insert won.

    Portable compare-and-set: the unique key makes the second insert fail on SQLite and PostgreSQL alike.
    """
    return await claim_key(f"{job}:{slot}", job, clock)


async def claim_key(key: str, job: str, clock: Clock = system_clock) -> bool:
    """Claim a key that names a one-time event (e.g. "evidence-expired:<id>", "sweep:<slot>"), once."""
    inserted = await JobRun.raw(
        "INSERT INTO job_run (id, key, job, enqueued_at) VALUES ({}, {}, {}, {}) "
        "ON CONFLICT (key) DO NOTHING RETURNING key",
        str(uuid.uuid4()), key, job, clock.now(),
    )  # fmt: skip
    return bool(inserted)


async def finish_slot(job: str, slot: int, clock: Clock = system_clock) -> None:
    await JobRun.update({JobRun.finished_at: clock.now()}).where(JobRun.key == f"{job}:{slot}")


async def last_finished(job: str) -> datetime | None:
    row = (
        await JobRun.select(JobRun.finished_at)
        .where((JobRun.job == job) & JobRun.finished_at.is_not_null())
        .order_by(JobRun.finished_at, ascending=False)
        .first()
    )
    return row["finished_at"] if row else None
