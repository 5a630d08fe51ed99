"""Helpers of the quality tests: regions, providers with contracts, an actor, figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

from apps.providers.tables import Contract, Provider
from apps.quality.indicators import indicator_by_key
from apps.quality.services import FigureInput, submit_figures
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import FrozenClock
from core.tenancy import ProviderScope, RegionScope


def clock_at(year: int, month: int, day: int, hour: int = 10) -> FrozenClock:
    return FrozenClock(datetime(year, month, day, hour, tzinfo=UTC))


async def region(slug: str) -> RegionScope:
    row = await Region.objects().where(Region.slug == slug).first()
    return RegionScope(row.id)


async def provider_in(scope: RegionScope, kvk: str, name: str, valid_from: date = date(2025, 1, 1)) -> Provider:
    provider = await Provider.objects().where(Provider.kvk_number == kvk).first()
    if provider is None:
        provider = Provider(kvk_number=kvk, name=name)
        await provider.save()
    await scope.new(Contract, provider=provider.id, reference=f"DVO-{kvk}-{scope.region_id.hex[:6]}", kind="dvo",
                    valid_from=valid_from).save()  # fmt: skip
    return provider


def actor_of(provider: Provider) -> Actor:
    return Actor(
        label=f"Medewerker {provider.name}", roles=frozenset({"aanbieder_medewerker"}), provider_id=provider.id
    )


async def submit(scope: RegionScope, provider: Provider, key: str, period: str, value: float, clock, note: str = ""):
    indicator = await indicator_by_key(scope, key)
    provider_scope = await ProviderScope.for_provider(provider.id)
    return await submit_figures(provider_scope, scope.region_id, [FigureInput(indicator, period, value, note)],
                                actor=actor_of(provider), clock=clock)  # fmt: skip
