"""The scheduler claims each time slot once, however many schedulers run; the worker runs the sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import dramatiq
from dramatiq import Worker

from apps.workers.services import last_sweep
from core.broker import configure_broker
from core.clock import FrozenClock
from core.ledger import JobRun, claim_slot, slot_of
from core.scheduler import tick


async def test_a_slot_is_claimed_once(db):
    assert await claim_slot("sweep", 42) is True
    assert await claim_slot("sweep", 42) is False
    assert await claim_slot("sweep", 43) is True
    assert await JobRun.count() == 2


async def test_two_schedulers_racing_enqueue_one_sweep_per_slot(db):
    broker = configure_broker("stub://")
    broker.flush_all()
    clock = FrozenClock(datetime(2026, 11, 24, 9, 0, 10, tzinfo=UTC))
    results = await asyncio.gather(*(tick(clock) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert len(broker.queues["trede"].queue) == 1
    clock.advance(minutes=1)
    assert await tick(clock) is True
    assert len(broker.queues["trede"].queue) == 2
    broker.flush_all()


async def test_the_worker_runs_the_sweep(db):
    broker = configure_broker("stub://")
    broker.flush_all()
    clock = FrozenClock(datetime(2026, 11, 24, 9, 0, 10, tzinfo=UTC))
    assert await last_sweep() is None
    await tick(clock)
    worker = Worker(broker, worker_timeout=100)
    worker.start()
    try:
        await asyncio.to_thread(broker.join, "trede", fail_fast=True)
        await asyncio.to_thread(worker.join)
    finally:
        worker.stop()
    row = await JobRun.objects().where(JobRun.key == f"sweep:{slot_of(clock.now())}").first()
    assert row.finished_at is not None
    assert await last_sweep() is not None
    assert dramatiq.get_broker() is broker
