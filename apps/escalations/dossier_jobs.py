"""The dossier's worker side: the ``build_dossier`` actor builds one requested dossier in the background, and a
sweep job hands on the requests whose message was lost (the in-process broker keeps nothing across a restart) or
whose build was cut off. Loaded by ``apps.wiring`` once the broker is set; the web side only sends by name."""

from __future__ import annotations

import logging

import dramatiq

from apps.escalations import dossier, dossier_requests
from core import sweep
from core.clock import Clock, system_clock
from core.db import unit_of_work
from core.messages import send_by_name

log = logging.getLogger("trede.sweep")


@dramatiq.actor(queue_name="trede", max_retries=0, time_limit=15 * 60 * 1000)
@unit_of_work
async def build_dossier(region_id: str, request_id: str) -> None:
    """Build one requested dossier (a no-op when it is built already or another worker has it). Not retried: a
    failure is on the request, and the requester asks again."""
    await dossier.build_requested(region_id, request_id, system_clock)


@sweep.sweep_job("dossiers", order=sweep.REMINDERS + 5)  # a free number between reminders and digests
async def hand_on_stale_dossier_requests(clock: Clock) -> dict[str, int]:
    try:
        stale = await dossier_requests.stale_requests(clock)
    except Exception:  # must not hold up the outbox; the requests wait for the next run
        log.exception("handing on dossier requests failed")
        return {}
    for region_id, request_id in stale:
        send_by_name(dossier_requests.ACTOR, str(region_id), str(request_id))
    return {"dossiers_handed_on": len(stale)} if stale else {}
