"""Reminders before a term ends ("3 werkdagen" before, at 09:00): sent once, to the party that must act."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from apps.escalations.actions import notification_key
from apps.escalations.context import SHARED, load_context
from apps.escalations.deadlines import OPEN, DueDeadline, describe, local_date
from apps.escalations.tables import Deadline
from apps.notifications.tables import Notification
from apps.tenancy.tables import Region
from core.actor import SYSTEM
from core.clock import Clock, system_clock
from core.formatting import format_date_nl
from core.tenancy import RegionScope, RegionsScope
from core.transactions import write_transaction


def reminder_query(region_ids: list, now: datetime, limit: int):
    """Open deadlines of these regions whose reminder moment has come, oldest first: a range of the partial index
    ``deadline_open_remind_at`` (``EXPLAIN``-ed in tests/escalations/test_due_index.py)."""
    return (
        RegionsScope(region_ids).select(Deadline, Deadline.id, Deadline.region)
        .where((Deadline.status == OPEN) & Deadline.remind_at.is_not_null() & (Deadline.remind_at <= now))
        .order_by(Deadline.remind_at)
        .limit(limit)
    )  # fmt: skip


async def due_reminders(clock: Clock = system_clock, *, limit: int = 500) -> list[DueDeadline]:
    """FOR THE SWEEP ONLY: open deadlines whose reminder moment has come, in every active region, in one index
    range across the regions (``reminder_query``)."""
    regions = [row["id"] for row in await Region.select(Region.id).where(Region.active == True)]  # noqa: E712
    rows = await reminder_query(regions, clock.now(), limit)
    return [DueDeadline(UUID(str(r["region"])), r["id"]) for r in rows]


async def send_reminder(scope: RegionScope, deadline_id: UUID, clock: Clock = system_clock) -> bool:
    """Remind once: the claim clears ``remind_at`` (compare-and-set), so a second sweep finds nothing."""
    async with write_transaction():
        now = clock.now()
        claimed = await (
            scope.update(Deadline, {Deadline.remind_at: None})
            .where((Deadline.id == deadline_id) & (Deadline.status == OPEN) & (Deadline.remind_at <= now))
            .returning(Deadline.escalation)
        )
        if not claimed:
            return False
        ctx = await load_context(scope, claimed[0]["escalation"], clock)
        deadline = await scope.get(Deadline, deadline_id)
        info = describe(ctx, deadline)
        recipient = f"provider:{ctx.escalation.provider}"
        event = await ctx.event(
            "herinnering_verstuurd", actor=SYSTEM, visibility=SHARED, payload={**info, "ontvangers": [recipient]}
        )
        await scope.new(
            Notification,
            recipient=recipient,
            channel="email",
            template="termijn_herinnering",
            payload={
                "escalatie": ctx.escalation.reference,
                "escalation_id": str(ctx.escalation.id),
                "wat": info["titel"],
                "vervaldatum": format_date_nl(local_date(deadline.due_at)),
            },
            idempotency_key=notification_key(event.id, recipient),
            created_at=now,
        ).save()
        return True
