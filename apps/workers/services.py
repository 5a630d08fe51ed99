"""Periodic work: claiming time slots (several schedulers, one enqueue per slot) and the sweep itself."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime

from apps.workers.tables import JobRun
from core.clock import Clock, system_clock
from core.tenancy import RegionScope

log = logging.getLogger("trede.sweep")

SWEEP_PERIOD_SECONDS = 60
SWEEP_BUDGET_SECONDS = 45


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


async def run_sweep(slot: int, clock: Clock = system_clock) -> dict[str, int]:
    """The sweep of one slot, acting on everything due up to now (so time spent down is caught up):

    1. missed deadlines, in due order: each claimed once (compare-and-set) and acted on as the ladder says;
    2. reminders whose moment has come, each sent once;
    3. notifications that are due (again), handed to the workers — nothing is lost when the broker lost a
       message, the row is still pending;
    then it records that the slot was swept.
    """
    from apps.escalations.deadlines import due_deadlines
    from apps.escalations.reminders import due_reminders, send_reminder
    from apps.escalations.transitions import act_on_missed_deadline
    from apps.notifications.services import due_for_delivery
    from apps.workers.actors import deliver_notification

    done = {"missed": 0, "reminded": 0, "queued": 0}
    seen: set = set()  # acted on, lost to another worker, or failed: each at most once per sweep
    started = time.monotonic()
    # Batches until nothing is due (after downtime there may be more than one batch), within a time budget
    # so that one sweep does not run into the next; what is left waits for the next minute.
    while time.monotonic() - started < SWEEP_BUDGET_SECONDS:
        batch = [due for due in await due_deadlines(clock) if due.deadline_id not in seen]
        if not batch:
            break
        for due in batch:
            seen.add(due.deadline_id)
            try:
                done["missed"] += await act_on_missed_deadline(RegionScope(due.region_id), due.deadline_id, clock)
            except Exception:  # one broken escalation must not stop the others; it stays due and is retried
                log.exception("acting on missed deadline %s failed", due.deadline_id)
    for due in await due_reminders(clock):
        try:
            done["reminded"] += await send_reminder(RegionScope(due.region_id), due.deadline_id, clock)
        except Exception:
            log.exception("reminder for deadline %s failed", due.deadline_id)
    from apps.evidence.watch import watch_evidence
    from apps.notifications.digest import send_daily_digests

    try:
        done["digests"] = await send_daily_digests(clock)
    except Exception:
        log.exception("daily digests failed")
    try:
        watched = await watch_evidence(clock)
        done["evidence_reminded"], done["evidence_expired"] = watched["reminded"], watched["expired"]
    except Exception:
        log.exception("evidence watch failed")
    from apps.quality.watch import watch_figures

    try:
        watched = await watch_figures(clock)
        done["figures_reminded"], done["figures_missing"] = watched["reminded"], watched["missing"]
    except Exception:
        log.exception("quality figures watch failed")
    for region_id, notification_id in await due_for_delivery(clock):
        deliver_notification.send(str(region_id), str(notification_id))
        done["queued"] += 1
    await JobRun.update({JobRun.finished_at: clock.now()}).where(JobRun.key == f"sweep:{slot}")
    if any(done.values()):
        log.info("sweep %s: %s", slot, done)
    return done


async def last_sweep() -> datetime | None:
    row = (
        await JobRun.select(JobRun.finished_at)
        .where((JobRun.job == "sweep") & JobRun.finished_at.is_not_null())
        .order_by(JobRun.finished_at, ascending=False)
        .first()
    )
    return row["finished_at"] if row else None
