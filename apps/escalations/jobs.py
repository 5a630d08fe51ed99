"""The escalations' sweep jobs: missed deadlines (the ladder acts) and reminders before a term ends."""

from __future__ import annotations

import logging
import time

from apps.escalations import deadlines, reminders, transitions
from core import sweep
from core.clock import Clock
from core.tenancy import RegionScope

log = logging.getLogger("trede.sweep")

SWEEP_BUDGET_SECONDS = 45


@sweep.sweep_job("missed", order=sweep.DEADLINES)
async def act_on_missed_deadlines(clock: Clock) -> dict[str, int]:
    """Missed deadlines in due order, each claimed once (compare-and-set) and acted on as the ladder says."""
    missed = 0
    seen: set = set()  # acted on, lost to another worker, or failed: each at most once per sweep
    started = time.monotonic()
    # Batches until nothing is due (after downtime there may be more than one batch), within a time budget
    # so that one sweep does not run into the next; what is left waits for the next minute.
    while time.monotonic() - started < SWEEP_BUDGET_SECONDS:
        batch = [due for due in await deadlines.due_deadlines(clock) if due.deadline_id not in seen]
        if not batch:
            break
        for due in batch:
            seen.add(due.deadline_id)
            try:
                missed += await transitions.act_on_missed_deadline(RegionScope(due.region_id), due.deadline_id, clock)
            except Exception:  # one broken escalation must not stop the others; it stays due and is retried
                log.exception("acting on missed deadline %s failed", due.deadline_id)
    return {"missed": missed}


@sweep.sweep_job("reminded", order=sweep.REMINDERS)
async def send_reminders(clock: Clock) -> dict[str, int]:
    """Reminders whose moment has come, each sent once."""
    reminded = 0
    for due in await reminders.due_reminders(clock):
        try:
            reminded += await reminders.send_reminder(RegionScope(due.region_id), due.deadline_id, clock)
        except Exception:
            log.exception("reminder for deadline %s failed", due.deadline_id)
    return {"reminded": reminded}
