"""The escalations' sweep jobs: missed deadlines (the ladder acts) and reminders before a term ends."""

from __future__ import annotations

import logging
from time import monotonic

from apps.escalations import deadlines, reminders, transitions
from apps.escalations import missed as missed_terms
from core import sweep
from core.clock import Clock
from core.tenancy import RegionScope

log = logging.getLogger("trede.sweep")

SWEEP_BUDGET_SECONDS = 45  # of the 60 s slot: the sweep's other jobs and the outbox follow
BATCH = 2000  # due deadlines read at a time: across 42 regions, sets of a few dozen per region (fewer statements each)
SET_SIZE = 100  # missed terms without ladder actions claimed and recorded in one transaction


@sweep.sweep_job("missed", order=sweep.DEADLINES)
async def act_on_missed_deadlines(clock: Clock) -> dict[str, int]:
    """Missed deadlines in due order, each claimed once (compare-and-set) and acted on as the ladder says.

    Bounded per run: batches until nothing is due (after downtime there may be more than one), and the time budget
    is checked before every deadline or set of deadlines, not only between batches, so that one sweep never runs
    into the next (a batch of 6,661 due deadlines once took 158 s). What is left stays open and due: the next run
    finds it first. Per region of a batch, the terms whose ladder does nothing more are claimed and recorded as a
    set (``missed.claim_quiet_together``); those with missed actions one by one.
    """
    missed = 0
    seen: set = set()  # acted on, lost to another worker, or failed: each at most once per sweep
    started = monotonic()
    ladders = missed_terms.Ladders()

    def spent() -> bool:
        if monotonic() - started < SWEEP_BUDGET_SECONDS:
            return False
        log.info("sweep budget of %s s spent; the remaining due deadlines wait for the next run", SWEEP_BUDGET_SECONDS)
        return True

    while True:
        batch = [due for due in await deadlines.due_deadlines(clock, limit=BATCH) if due.deadline_id not in seen]
        if not batch:
            break
        seen.update(due.deadline_id for due in batch)
        for region_id, (quiet, acting) in (await missed_terms.split_batch(batch, ladders)).items():
            scope = RegionScope(region_id)
            for start in range(0, len(quiet), SET_SIZE):
                if spent():
                    return {"missed": missed}
                chunk = quiet[start : start + SET_SIZE]
                try:
                    missed += await missed_terms.claim_quiet_together(scope, chunk, ladders, clock)
                except Exception:  # left open and due: the one-by-one path below takes them next run
                    log.exception("recording missed deadlines %s together failed", chunk)
            for deadline_id in acting:
                if spent():
                    return {"missed": missed}
                try:
                    missed += await transitions.act_on_missed_deadline(scope, deadline_id, clock)
                except Exception:  # one broken escalation must not stop the others; it stays due and is retried
                    log.exception("acting on missed deadline %s failed", deadline_id)
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
