"""The scheduler: every minute (and at start-up) it claims the current slot and enqueues the sweep.

Safe with several schedulers: a slot is claimed once in the database (``claim_slot``). Slots missed while
no scheduler ran are not replayed one by one: the sweep always acts on everything due up to now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import dramatiq
from piccolo.engine import engine_finder

from core.broker import configure_broker
from core.clock import Clock, system_clock
from core.ledger import SWEEP_PERIOD_SECONDS, claim_slot, slot_of
from core.logs import configure_logging
from core.settings import Settings

log = logging.getLogger("trede.scheduler")


async def tick(clock: Clock = system_clock) -> bool:
    """Claim the current slot and enqueue its sweep; False when another scheduler already did."""
    slot = slot_of(clock.now())
    if not await claim_slot("sweep", slot, clock):
        return False
    dramatiq.get_broker().get_actor("sweep").send(slot)  # apps/workers' actor, by name: core knows no app
    return True


async def scheduler_loop(stop: asyncio.Event, clock: Clock = system_clock) -> None:
    while not stop.is_set():
        try:
            await tick(clock)
        except Exception:  # a database or broker hiccup must not end the loop; the next tick retries
            log.exception("scheduler tick failed")
        now = clock.now().timestamp()
        wait = SWEEP_PERIOD_SECONDS - (now % SWEEP_PERIOD_SECONDS) + 0.05
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)


async def run_scheduler_forever(settings: Settings) -> None:
    configure_logging(json_logs=settings.is_production)
    configure_broker(settings.broker_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("scheduler started (database %s)", engine_finder().engine_type)
    await scheduler_loop(stop)
