"""In-app notices: the bell in the header (unread count on every page) and the person's list of notices.

An in-app notice is a ``notification`` row with channel ``inapp`` and ``recipient_user`` set; it is "sent" as soon
as a worker handles it and "read" when the person has seen it. Rows stay in their region: a person's notices are
read per region they belong to (and, for provider people, per region where their organisation has a contract).
"""

from __future__ import annotations

from uuid import UUID

from apps.accounts.roles import DECIDES
from apps.accounts.tables import Membership
from apps.notifications.tables import Notification
from core.clock import Clock, system_clock
from core.tenancy import ProviderScope, RegionScope

INAPP = "inapp"


async def add_for_people(scope: RegionScope, user_ids: list[UUID], *, template: str, payload: dict, key: str,
                         clock: Clock = system_clock) -> int:  # fmt: skip
    """One in-app notice per person (idempotent by ``key`` + person)."""
    added = 0
    for user_id in user_ids:
        idempotency_key = f"{key}:inapp:{user_id}"
        if await scope.exists(Notification).where(Notification.idempotency_key == idempotency_key):
            continue
        await scope.new(
            Notification, recipient=str(user_id), recipient_user=user_id, channel=INAPP, template=template,
            payload=payload, idempotency_key=idempotency_key, created_at=clock.now(),
        ).save()  # fmt: skip
        added += 1
    return added


async def purchasing_team(scope: RegionScope) -> list[UUID]:
    """The people of the region's purchasing team (they see the region's notices in the app too)."""
    rows = await scope.select(Membership, Membership.user).where(Membership.role.is_in(sorted(DECIDES)))
    return sorted({row["user"] for row in rows}, key=str)


async def person_regions(person) -> list[UUID]:
    regions = set(person.region_roles)
    for provider_id in person.provider_roles:
        regions |= (await ProviderScope.for_provider(provider_id)).region_ids
    return sorted(regions, key=str)


def _mine(user_id: UUID):
    return (Notification.channel == INAPP) & (Notification.recipient_user == user_id)


async def unread_count(person) -> int:
    total = 0
    for region_id in await person_regions(person):
        total += await RegionScope(region_id).count(Notification).where(
            _mine(person.user_id) & Notification.read_at.is_null()
        )
    return total


async def my_notices(person, limit: int = 50) -> list[dict]:
    rows: list[dict] = []
    for region_id in await person_regions(person):
        rows += await (
            RegionScope(region_id)
            .select(Notification, Notification.id, Notification.region, Notification.template, Notification.payload,
                    Notification.created_at, Notification.read_at)  # fmt: skip
            .where(_mine(person.user_id))
            .order_by(Notification.created_at, ascending=False)
            .limit(limit)
        )
    return sorted(rows, key=lambda row: row["created_at"], reverse=True)[:limit]


async def mark_all_read(person, clock: Clock = system_clock) -> None:
    for region_id in await person_regions(person):
        await RegionScope(region_id).update(Notification, {Notification.read_at: clock.now()}).where(
            _mine(person.user_id) & Notification.read_at.is_null()
        )


async def open_notice(person, notification_id: UUID, clock: Clock = system_clock) -> dict | None:
    """One of the person's own notices, marked read now (opening it is reading it); None when it is not theirs."""
    for region_id in await person_regions(person):
        scope = RegionScope(region_id)
        row = await (
            scope.select(Notification, Notification.id, Notification.region, Notification.template,
                         Notification.payload, Notification.read_at)  # fmt: skip
            .where(_mine(person.user_id) & (Notification.id == notification_id))
            .first()
        )
        if row is not None:
            if row["read_at"] is None:
                await scope.update(Notification, {Notification.read_at: clock.now()}).where(
                    Notification.id == notification_id
                )
            return row
    return None
