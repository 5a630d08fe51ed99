"""The escalations' sweep jobs: missed deadlines (the ladder acts) and reminders before a term ends."""

from __future__ import annotations

import logging
from time import monotonic

from apps.escalations import deadlines, reminders, transitions
from core import sweep
from core.clock import Clock
from core.tenancy import RegionScope

log = logging.getLogger("trede.sweep")

SWEEP_BUDGET_SECONDS = 45  # of the 60 s slot: the sweep's other jobs and the outbox follow
BATCH = 500  # due deadlines read at a time


@sweep.sweep_job("missed", order=sweep.DEADLINES)
async def act_on_missed_deadlines(clock: Clock) -> dict[str, int]:
    """Missed deadlines in due order, each claimed once (compare-and-set) and acted on as the ladder says.

    Bounded per run: batches until nothing is due (after downtime there may be more than one), and the time budget
    is checked before every deadline, not only between batches, so that one sweep never runs into the next (a
    batch of 6,661 due deadlines once took 158 s). What is left stays open and due: the next run finds it first.
    """
    missed = 0
    seen: set = set()  # acted on, lost to another worker, or failed: each at most once per sweep
    started = monotonic()
    while True:
        batch = [due for due in await deadlines.due_deadlines(clock, limit=BATCH) if due.deadline_id not in seen]
        if not batch:
            break
        for due in batch:
            if monotonic() - started >= SWEEP_BUDGET_SECONDS:
                log.info("sweep budget of %s s spent; the remaining due deadlines wait for the next run",
                         SWEEP_BUDGET_SECONDS)  # fmt: skip
                return {"missed": missed}
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
