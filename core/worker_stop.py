"""What an app gives back when its worker stops in order (registered by the app's actors module, run by
``core.workers``). Apart from ``core.workers`` so that an app's actors never import the worker process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("trede.worker")

STOP_HOOKS: list[tuple[str, Callable[[], Awaitable[int]]]] = []


def at_worker_stop(what: str, release: Callable[[], Awaitable[int]]) -> None:
    """Run ``release`` (returns how many it released) when a worker process stops."""
    STOP_HOOKS.append((what, release))


def run_stop_hooks() -> None:
    """Work still in progress when the worker stopped goes back to the queue now, not when its lease ends."""
    for what, release in STOP_HOOKS:
        try:
            released = asyncio.run(release())
        except Exception:  # the database is away too: the sweep reclaims them when the lease ends
            log.exception("could not release the %s", what)
            continue
        if released:
            log.info("released %d %s", released, what)
