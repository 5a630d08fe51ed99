"""Running Dramatiq workers: as their own process (`trede worker`) or inside the web process (embedded)."""

from __future__ import annotations

import logging
import signal
import threading

import dramatiq
from dramatiq import Worker

from core.broker import configure_broker
from core.settings import Settings

log = logging.getLogger("trede.worker")


def start_worker(broker: dramatiq.Broker, threads: int = 2) -> Worker:
    worker = Worker(broker, worker_threads=threads, worker_timeout=1000)
    worker.start()
    return worker


def run_worker_forever(settings: Settings, threads: int) -> None:
    logging.basicConfig(level=logging.INFO)
    broker = configure_broker(settings.broker_url)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = start_worker(broker, threads)
    log.info("worker started with %d threads on %s", threads, type(broker).__name__)
    stop.wait()
    log.info("worker stopping: finishing messages in progress")
    worker.stop(timeout=30_000)
    _release_unfinished_notices()


def _release_unfinished_notices() -> None:
    """Sends still in progress when the worker stopped go back to the queue now, not when the lease ends."""
    import asyncio

    from apps.notifications.services import release_claims

    try:
        released = asyncio.run(release_claims())
    except Exception:  # the database is away too: the sweep reclaims them when the lease ends
        log.exception("could not release the notices in progress")
        return
    if released:
        log.info("released %d notices in progress", released)
