"""Demo figures for the embedded default (``core.demo``): a plausible history per provider, so that ``make run``
shows benchmark charts. Values are made up, deterministic per provider, indicator and period."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time

from apps.providers.tables import Contract
from apps.quality.indicators import active_indicators, closed_periods, due_on, period_end
from apps.quality.tables import QualityFigure
from apps.tenancy.tables import Region
from core.clock import Clock, system_clock
from core.tenancy import RegionScope

DEMO_PERIODS = {"kwartaal": 6, "jaar": 3}
# (low, high) of plausible figures per unit; a few land outside the norm, as in real life.
RANGES = {"aantal": (0, 4), "score": (6.4, 8.6), "procent": (58, 96), "dagen": (18, 55), "euro": (6_500, 14_000)}
LEAVE_OPEN = ("90000001", "zuid-limburg")  # De Vlinder's last quarter in Zuid-Limburg: for the portal to show


def _value(kvk: str, key: str, period: str, unit: str) -> float:
    digest = hashlib.sha256(f"{kvk}:{key}:{period}".encode()).digest()
    share = int.from_bytes(digest[:4], "big") / 2**32
    low, high = RANGES.get(unit, (0, 10))
    value = low + share * (high - low)
    return float(round(value)) if unit in ("aantal", "dagen", "euro") else round(value, 1)


async def add_demo_figures(providers: dict, clock: Clock = system_clock) -> int:
    """Figures for every contracted demo provider over the last periods; run inside the demo's transaction."""
    today = clock.today()
    by_id = {provider.id: kvk for kvk, provider in providers.items()}
    added = 0
    for region in await Region.objects():
        scope = RegionScope(region.id)
        contracted = {row["provider"] for row in await scope.select(Contract, Contract.provider)}
        for indicator in await active_indicators(scope):
            if indicator.derived_from:
                continue
            periods = closed_periods(indicator.period, today, DEMO_PERIODS[indicator.period])
            for provider_id in sorted(contracted & set(by_id), key=str):
                kvk = by_id[provider_id]
                for period in periods:
                    if (kvk, region.slug) == LEAVE_OPEN and period == periods[-1]:
                        continue
                    due = due_on(period, indicator.due_days)
                    submitted = datetime.combine(min(due, period_end(period)), time(10), tzinfo=UTC)
                    await scope.new(
                        QualityFigure, provider=provider_id, indicator=indicator.id, period=period,
                        value=_value(kvk, indicator.key, period, indicator.unit), status="actueel", due_on=due,
                        late=False, source="demo", submitted_by_label="Demo (aanbieder)", submitted_at=submitted,
                    ).save()  # fmt: skip
                    added += 1
    return added
