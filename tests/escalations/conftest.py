"""Fixtures for the escalation engine: the shipped regions, a provider, people in roles and a frozen clock."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest

from apps.accounts.roles import Role
from apps.accounts.tables import User
from apps.escalations.tables import Deadline, Measure, TimelineEvent
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import AMSTERDAM, FrozenClock
from core.tenancy import RegionScope


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A Dutch local moment (aware)."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(at(2026, 3, 2))  # Monday 2 March 2026, 10:00


@pytest.fixture
async def scopes(synced) -> dict[str, RegionScope]:
    regions = await Region.select(Region.id, Region.slug)
    return {row["slug"]: RegionScope(row["id"]) for row in regions}


@pytest.fixture
async def zl(scopes) -> RegionScope:
    return scopes["zuid-limburg"]


@pytest.fixture
async def provider(db) -> Provider:
    provider = Provider(kvk_number="90000042", name="Jeugdzorg De Proef B.V.")
    await provider.save()
    return provider


async def _person(name: str, *roles: str, provider_id: UUID | None = None) -> Actor:
    user = User(issuer="https://idp.example", subject=name.lower().replace(" ", "-"), name=name)
    await user.save()
    return Actor(label=name, user_id=user.id, roles=frozenset(roles), provider_id=provider_id)


@pytest.fixture
async def medewerker(db) -> Actor:
    return await _person("Mira Medewerker", Role.INKOOP_MEDEWERKER)


@pytest.fixture
async def lead(db) -> Actor:
    return await _person("Lotte Leider", Role.INKOOP_LEAD)


@pytest.fixture
async def waarnemer(db) -> Actor:
    return await _person("Wim Waarnemer", Role.WAARNEMER)


@pytest.fixture
async def provider_user(provider) -> Actor:
    return await _person("Anna Aanbieder", Role.AANBIEDER_MEDEWERKER, provider_id=provider.id)


# A missed term whose ladder notifies and suggests the next step writes these events, in this order.
MISSED_NOTIFY_SUGGEST = ["termijn_verlopen", "melding_verstuurd", "volgende_stap_voorgesteld"]


# --- reading back what happened -------------------------------------------------------------------------------


async def events(scope: RegionScope, escalation_id) -> list[TimelineEvent]:
    """All events, oldest first."""
    return (
        await scope.objects(TimelineEvent)
        .where(TimelineEvent.escalation == escalation_id)
        .order_by(TimelineEvent.sequence)
    )


async def kinds(scope: RegionScope, escalation_id, since: int = 0) -> list[str]:
    return [e.kind for e in await events(scope, escalation_id) if e.sequence > since]


async def last_sequence(scope: RegionScope, escalation_id) -> int:
    found = await events(scope, escalation_id)
    return found[-1].sequence if found else 0


async def deadlines(scope: RegionScope, escalation_id) -> dict[str, Deadline]:
    """The escalation's deadlines by term key (the latest row per key)."""
    rows = await scope.objects(Deadline).where(Deadline.escalation == escalation_id).order_by(Deadline.starts_at)
    return {row.key: row for row in rows}


def due_day(deadline: Deadline):
    return deadline.due_at.astimezone(AMSTERDAM).date()


async def notices(scope: RegionScope, event_id) -> list[Notification]:
    rows = await scope.objects(Notification).order_by(Notification.recipient)
    return [n for n in rows if n.payload.get("event_id") == str(event_id)]


async def measures(scope: RegionScope, escalation_id) -> list[Measure]:
    return await scope.objects(Measure).where(Measure.escalation == escalation_id).order_by(Measure.started_at)
