"""The daily digest (opt-in): each morning one mail per person and region with the deadlines of this week."""

from __future__ import annotations

from datetime import time as clock_time
from datetime import timedelta

from apps.accounts.roles import REGION_ROLES
from apps.accounts.tables import Membership, User
from apps.escalations.tables import Deadline
from apps.ladders.calendar import AMSTERDAM, DutchCalendar, format_date_nl
from apps.notifications.tables import Notification
from apps.tenancy.tables import Region
from core.clock import Clock, system_clock
from core.ledger import claim_slot
from core.tenancy import RegionScope, UserScope

SEND_FROM = clock_time(7, 0)  # Dutch time: in the inbox before the working day starts
HORIZON = timedelta(days=7)


async def send_daily_digests(clock: Clock = system_clock) -> int:
    """Once each working day, from 07:00: a digest per opted-in person and region (nothing due, no mail)."""
    local = clock.now().astimezone(AMSTERDAM)
    if local.time() < SEND_FROM or not DutchCalendar().is_working_day(local.date()):
        return 0
    if not await claim_slot("digest", local.date().toordinal(), clock):
        return 0  # another scheduler or an earlier sweep today already did
    now = clock.now()
    regions = {row["id"]: row["name"] for row in await Region.select(Region.id, Region.name)}
    queued = 0
    opted_in = (User.digest_opt_in == True) & (User.active == True)  # noqa: E712
    for user in await User.select(User.id, User.email).where(opted_in):
        if not user["email"]:
            continue
        memberships = await UserScope(user["id"]).select(Membership, Membership.region, Membership.role)
        region_ids = {m["region"] for m in memberships if m["region"] and m["role"] in REGION_ROLES}
        for region_id in sorted(region_ids, key=str):
            scope = RegionScope(region_id)
            rows = (
                await scope.select(
                    Deadline, Deadline.due_at, Deadline.term, Deadline.key, Deadline.escalation.reference,
                    Deadline.escalation.provider.name,
                )
                .where((Deadline.status == "open") & (Deadline.due_at <= now + HORIZON))
                .where(Deadline.escalation.status != "closed")
                .order_by(Deadline.due_at)
                .limit(200)
            )  # fmt: skip
            if not rows:
                continue
            items = [
                {
                    "escalatie": row["escalation.reference"],
                    "aanbieder": row["escalation.provider.name"],
                    "termijn": row["key"].replace("_", " "),
                    "vervaldatum": format_date_nl(row["due_at"].astimezone(AMSTERDAM).date()),
                    "verlopen": row["due_at"] < now,
                }
                for row in rows
            ]
            await scope.new(
                Notification, recipient=user["email"], recipient_user=user["id"], channel="email",
                template="dagoverzicht", created_at=now,
                payload={"datum": format_date_nl(local.date()), "regio": regions.get(region_id, ""), "items": items,
                         "aantal": len(items)},
                idempotency_key=f"digest:{local.date().isoformat()}:{user['id']}:{region_id}",
            ).save()  # fmt: skip
            queued += 1
    return queued

