"""The evidence register's sweep job: reminders before evidence expires, signals once it has."""

from __future__ import annotations

import logging

from apps.evidence.watch import watch_evidence
from core import sweep
from core.clock import Clock

log = logging.getLogger("trede.sweep")


@sweep.sweep_job("evidence", order=sweep.EVIDENCE)
async def watch_evidence_job(clock: Clock) -> dict[str, int]:
    try:
        watched = await watch_evidence(clock)
    except Exception:  # the evidence watch failing must not hold up the outbox
        log.exception("evidence watch failed")
        return {}
    return {"evidence_reminded": watched["reminded"], "evidence_expired": watched["expired"]}
