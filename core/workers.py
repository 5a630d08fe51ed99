"""Running Dramatiq workers: as their own process (`trede worker`) or inside the web process (embedded)."""

from __future__ import annotations

import logging
import signal
import threading

import dramatiq
from dramatiq import Worker

from core.broker import configure_broker
from core.logs import configure_logging
from core.settings import Settings
from core.tracing import flush_traces, trace_broker, tracer_provider
from core.worker_stop import run_stop_hooks

log = logging.getLogger("trede.worker")

def start_worker(broker: dramatiq.Broker, threads: int = 2) -> Worker:
    worker = Worker(broker, worker_threads=threads, worker_timeout=1000)
    worker.start()
    return worker


def run_worker_forever(settings: Settings, threads: int) -> None:
    configure_logging(json_logs=settings.is_production)
    broker = configure_broker(settings.broker_url)
    trace_broker(broker, tracer_provider(settings, "trede-worker"))  # a span per message when tracing is on
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = start_worker(broker, threads)
    log.info("worker started with %d threads on %s", threads, type(broker).__name__)
    stop.wait()
    log.info("worker stopping: finishing messages in progress")
    worker.stop(timeout=30_000)
    run_stop_hooks()
    flush_traces()

