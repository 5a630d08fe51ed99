"""The notifications' sweep jobs: the daily digest, and the outbox handed to the workers (last, so that what
the other jobs wrote in this sweep leaves in the same minute; nothing is lost when the broker lost a message,
the row is still pending)."""

from __future__ import annotations

import logging

from apps.notifications.actors import deliver_notification
from apps.notifications.digest import send_daily_digests
from apps.notifications.services import due_for_delivery
from core import sweep
from core.clock import Clock

log = logging.getLogger("trede.sweep")


@sweep.sweep_job("digests", order=sweep.DIGESTS)
async def send_digests(clock: Clock) -> dict[str, int]:
    try:
        return {"digests": await send_daily_digests(clock)}
    except Exception:  # the digest failing must not hold up the outbox
        log.exception("daily digests failed")
        return {}


@sweep.sweep_job("queued", order=sweep.OUTBOX)
async def queue_due_notifications(clock: Clock) -> dict[str, int]:
    queued = 0
    for region_id, notification_id in await due_for_delivery(clock):
        deliver_notification.send(str(region_id), str(notification_id))
        queued += 1
    return {"queued": queued}
