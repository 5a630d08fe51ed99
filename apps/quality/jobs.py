"""The quality figures' sweep job: reminders of figures due soon, notices and signals of missing ones."""

from __future__ import annotations

import logging

from apps.quality.watch import watch_figures
from core import sweep
from core.clock import Clock

log = logging.getLogger("trede.sweep")


@sweep.sweep_job("quality", order=sweep.QUALITY)
async def watch_figures_job(clock: Clock) -> dict[str, int]:
    try:
        watched = await watch_figures(clock)
    except Exception:  # the quality watch failing must not hold up the outbox
        log.exception("quality figures watch failed")
        return {}
    return {"figures_reminded": watched["reminded"], "figures_missing": watched["missing"]}
