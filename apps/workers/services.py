"""The sweep: every registered job (``core.sweep``) in order for one time slot; apps/workers knows no app."""

from __future__ import annotations

import logging
from datetime import datetime

from core.clock import Clock, system_clock
from core.ledger import finish_slot, last_finished
from core.sweep import registered_jobs

log = logging.getLogger("trede.sweep")


async def run_sweep(slot: int, clock: Clock = system_clock) -> dict[str, int]:
    """The sweep of one slot, acting on everything due up to now (so time spent down is caught up).

    The jobs the apps registered run in their order (apps/wiring.py loads them): missed deadlines, reminders,
    the daily digest, the evidence and quality watches, and last the outbox. Then the slot is recorded as swept.
    """
    jobs = registered_jobs()
    if not jobs:
        raise RuntimeError("no sweep jobs registered: core.broker.configure_broker loads them (apps/wiring.py)")
    done: dict[str, int] = {}
    for job in jobs:
        done.update(await job.run(clock))
    await finish_slot("sweep", slot, clock)
    if any(done.values()):
        log.info("sweep %s: %s", slot, done)
    return done


async def last_sweep() -> datetime | None:
    return await last_finished("sweep")
