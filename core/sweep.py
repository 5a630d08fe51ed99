"""The sweep's jobs: what each app does every minute, registered by the app, run in order by the worker.

An app declares a job with ``@sweep_job(name, order=…)`` in its ``jobs.py``; ``apps/wiring.py`` imports those
modules (it is what the broker loads, so every process that runs actors has them). ``apps.workers`` runs
``registered_jobs()`` and knows no app. A job takes the clock and returns counts to log, e.g.
``{"reminded": 2}``; the counts of all jobs make the sweep's result. Jobs run in ``order``: missed deadlines
first, the outbox last, so that what the earlier jobs wrote leaves in the same minute.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from core.clock import Clock

Job = Callable[[Clock], Awaitable[Mapping[str, int]]]

# The order numbers in use (a new job picks a free one between them).
DEADLINES, REMINDERS, DIGESTS, EVIDENCE, QUALITY, OUTBOX, METRICS = 10, 20, 30, 40, 50, 90, 95


@dataclass(frozen=True)
class SweepJob:
    name: str
    order: int
    run: Job  # catches what must not stop the other jobs; what it raises fails the sweep (retried)


_JOBS: dict[str, SweepJob] = {}


def sweep_job(name: str, *, order: int) -> Callable[[Job], Job]:
    """Register the decorated coroutine function as the sweep job ``name`` (again: replaced, not doubled)."""

    def register(run: Job) -> Job:
        _JOBS[name] = SweepJob(name, order, run)
        return run

    return register


def registered_jobs() -> list[SweepJob]:
    return sorted(_JOBS.values(), key=lambda job: (job.order, job.name))
