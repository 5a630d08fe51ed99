"""In-app notices: the bell in the header (unread count on every page) and the person's list of notices.

An in-app notice is a ``notification`` row with channel ``inapp`` and ``recipient_user`` set; it is "sent" as soon
as a worker handles it and "read" when the person has seen it. Rows stay in their region: a person's notices are
read per region they belong to (and, for provider people, per region where their organisation has a contract).
"""

from __future__ import annotations

from uuid import UUID

from piccolo.columns.combination import WhereRaw

from apps.accounts.roles import DECIDES
from apps.accounts.tables import Membership
from apps.notifications.tables import Notification
from core import keyset
from core.clock import Clock, system_clock
from core.tenancy import ProviderScope, RegionScope, RegionsScope

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
    # The channel as a literal, not a parameter: the partial indexes notification_unread and notification_inapp
    # (WHERE channel = 'inapp') then serve every plan of the query, also a prepared statement's generic one.
    return WhereRaw("channel = 'inapp'") & (Notification.recipient_user == user_id)


async def unread_count(person) -> int:
    """The bell: one count over the person's unread notices in all their regions, read from the partial index
    notification_unread (recipient_user, region) WHERE read_at IS NULL AND channel = 'inapp'."""
    regions = await person_regions(person)
    return await unread_query(person.user_id, regions) if regions else 0


def unread_query(user_id: UUID, regions: list[UUID]):
    return RegionsScope(regions).count(Notification).where(_mine(user_id) & Notification.read_at.is_null())


PAGE_SIZE = 50


async def my_notices(person, *, after: str = "", before: str = "") -> keyset.Page:
    """One page of the person's notices in all their regions, newest first: keyset on (created_at, id), served
    by the partial index notification_inapp (recipient_user, created_at, id) WHERE channel = 'inapp'."""
    regions = await person_regions(person)
    if not regions:
        return keyset.Page([], None, None)
    scope = RegionsScope(regions)

    def query():
        return scope.select(
            Notification, Notification.id, Notification.region, Notification.template, Notification.payload,
            Notification.created_at, Notification.read_at,
        ).where(_mine(person.user_id))  # fmt: skip

    segments = [keyset.Segment("m", None, [(Notification.created_at, False), (Notification.id, False)])]
    return await keyset.first_page_if_stale(keyset.select_fetch(query), segments, PAGE_SIZE, after=after,
                                            before=before)  # fmt: skip


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
