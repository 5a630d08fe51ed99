"""Comparing figures (seed 002, step 1 "Analyse van gegevens": benchmark, historic data, other providers).

- ``spread``: median and P25–P75 of the providers' figures of one period (inclusive quartiles).
- ``benchmark``: every contracted provider's figure for one indicator and period, for the region.
- ``history``: one provider's figures over periods with the region's median and spread per period.
- ``provider_overview``: what a provider sees: its own figures and the regional median, never another provider's
  figure; the median only when at least ``MIN_PROVIDERS_FOR_MEDIAN`` providers gave a figure, so that nobody can
  work out a colleague's figure from it.
- Derived indicators (``derived_from`` an evidence kind) are computed from the evidence register on the period's
  last day: the share of people with that evidence whose evidence was valid that day.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from apps.evidence.tables import EvidenceItem
from apps.providers.tables import Contract, Provider
from apps.quality.indicators import (
    active_indicators,
    closed_periods,
    fmt,
    last_closed_period,
    norm_of,
    period_end,
    period_label,
)
from apps.quality.tables import QualityFigure, QualityIndicator
from apps.tenancy.tables import Region
from core.tenancy import ProviderScope, RegionScope

MIN_PROVIDERS_FOR_MEDIAN = 3
HISTORY_PERIODS = {"kwartaal": 8, "jaar": 5}


@dataclass(frozen=True)
class Spread:
    count: int
    p25: float
    median: float
    p75: float


def spread(values: list[float]) -> Spread | None:
    """Median and quartiles (inclusive method: P25 and P75 lie within the figures), or None without figures."""
    if not values:
        return None
    if len(values) == 1:
        return Spread(1, values[0], values[0], values[0])
    p25, median, p75 = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(len(values), p25, median, p75)


async def derived_values(provider_ids: list[UUID], kind: str, on: date) -> dict[UUID, float]:
    """Per provider: the share (%) of people in its evidence register with ``kind`` whose evidence was valid on
    ``on``. A person counts from their first evidence issued on or before ``on``. No people: no figure."""
    if not provider_ids:
        return {}
    rows = await EvidenceItem.select(
        EvidenceItem.provider, EvidenceItem.person, EvidenceItem.issued_on, EvidenceItem.valid_until
    ).where(EvidenceItem.provider.is_in(provider_ids) & (EvidenceItem.kind == kind) & (EvidenceItem.issued_on <= on))
    people: dict[UUID, dict[str, bool]] = defaultdict(dict)
    for row in rows:
        person = row["person"].strip().lower()
        valid = row["issued_on"] <= on <= row["valid_until"]
        people[row["provider"]][person] = people[row["provider"]].get(person, False) or valid
    return {provider: round(100 * sum(valid.values()) / len(valid), 1) for provider, valid in people.items() if valid}


async def contracted_providers(scope: RegionScope, on: date | None = None) -> dict[UUID, str]:
    """Providers with a contract in the region (on ``on``, when given), by id, with their names."""
    rows = await scope.select(
        Contract, Contract.provider, Contract.provider.name.as_alias("name"), Contract.valid_from, Contract.valid_until
    )
    found = {}
    for row in rows:
        if on is None or (row["valid_from"] <= on and (row["valid_until"] is None or row["valid_until"] >= on)):
            found[row["provider"]] = row["name"]
    return dict(sorted(found.items(), key=lambda item: item[1].lower()))


async def figures_of(scope: RegionScope, indicator: QualityIndicator, periods: list[str]) -> dict[str, dict]:
    """period -> provider id -> {value, figure_id, late}: the current figures (or derived values)."""
    result: dict[str, dict] = {period: {} for period in periods}
    if indicator.derived_from:
        providers = list(await contracted_providers(scope))
        for period in periods:
            values = await derived_values(providers, indicator.derived_from, period_end(period))
            result[period] = {p: {"value": v, "figure_id": None, "late": False} for p, v in values.items()}
        return result
    rows = await scope.select(
        QualityFigure, QualityFigure.id, QualityFigure.provider, QualityFigure.period, QualityFigure.value,
        QualityFigure.late,
    ).where(
        (QualityFigure.indicator == indicator.id) & (QualityFigure.status == "actueel")
        & QualityFigure.period.is_in(periods)
    )  # fmt: skip
    for row in rows:
        result[row["period"]][row["provider"]] = {"value": row["value"], "figure_id": row["id"], "late": row["late"]}
    return result


def _norm_state(indicator: QualityIndicator, value: float | None) -> str:
    norm = norm_of(indicator)
    if value is None or norm is None:
        return ""
    return "binnen de norm" if norm.holds(value) else "buiten de norm"


async def benchmark(scope: RegionScope, indicator: QualityIndicator, period: str) -> dict:
    """Every contracted provider's figure for one period, with the region's spread (for the region only)."""
    providers = await contracted_providers(scope)
    figures = (await figures_of(scope, indicator, [period]))[period]
    rows = []
    for provider_id, name in providers.items():
        figure = figures.get(provider_id)
        value = figure["value"] if figure else None
        rows.append({
            "provider_id": provider_id, "name": name, "value": value, "value_nl": fmt(value, indicator.unit),
            "figure_id": figure["figure_id"] if figure else None, "late": bool(figure and figure["late"]),
            "norm_state": _norm_state(indicator, value),
        })  # fmt: skip
    return {"rows": rows, "spread": spread([r["value"] for r in rows if r["value"] is not None])}


async def history(scope: RegionScope, indicator: QualityIndicator, provider_id: UUID | None, periods: list[str]):
    """One provider's figures over ``periods`` (oldest first) with the region's spread in each period."""
    figures = await figures_of(scope, indicator, periods)
    points = []
    for period in periods:
        own = figures[period].get(provider_id) if provider_id else None
        region_spread = spread([f["value"] for f in figures[period].values()])
        points.append({
            "period": period, "label": period_label(period), "value": own["value"] if own else None,
            "value_nl": fmt(own["value"] if own else None, indicator.unit),
            "figure_id": own["figure_id"] if own else None, "late": bool(own and own["late"]),
            "spread": region_spread, "norm_state": _norm_state(indicator, own["value"] if own else None),
        })  # fmt: skip
    return points


def periods_for(indicator: QualityIndicator, today: date) -> list[str]:
    return closed_periods(indicator.period, today, HISTORY_PERIODS.get(indicator.period, 5))


async def region_overview(scope: RegionScope, today: date) -> list[dict]:
    """Per active indicator: the last ended period, how many contracted providers gave a figure, the median and
    how many figures lie outside the norm."""
    out = []
    providers = await contracted_providers(scope)
    for indicator in await active_indicators(scope):
        period = last_closed_period(indicator.period, today)
        figures = (await figures_of(scope, indicator, [period]))[period]
        values = [f["value"] for provider, f in figures.items() if provider in providers]
        norm = norm_of(indicator)
        out.append({
            "indicator": indicator, "period": period, "period_label": period_label(period), "given": len(values),
            "providers": len(providers), "spread": spread(values),
            "outside": sum(1 for v in values if norm and not norm.holds(v)),
            "norm_text": norm.text(indicator.unit) if norm else "geen norm",
        })  # fmt: skip
    return out


async def provider_overview(provider_scope: ProviderScope, today: date) -> list[dict]:
    """What a provider sees per contract region: its own figures and the anonymised regional median per period.

    Other providers' figures are read here only to compute the median; they never leave this function."""
    regions = await Region.select(Region.id, Region.slug, Region.name).where(
        Region.id.is_in(list(provider_scope.region_ids)) if provider_scope.region_ids else Region.id.is_null()
    )
    provider = await Provider.objects().where(Provider.id == provider_scope.provider_id).first()
    out = []
    for region in sorted(regions, key=lambda r: r["name"]):
        scope = provider_scope.region_scope(region["id"])
        indicators = []
        for indicator in await active_indicators(scope):
            periods = periods_for(indicator, today)
            figures = await figures_of(scope, indicator, periods)
            points = []
            for period in periods:
                own = figures[period].get(provider.id)
                others = spread([f["value"] for f in figures[period].values()])
                shown = others if others and others.count >= MIN_PROVIDERS_FOR_MEDIAN else None
                points.append({
                    "period": period, "label": period_label(period), "value": own["value"] if own else None,
                    "value_nl": fmt(own["value"] if own else None, indicator.unit), "late": bool(own and own["late"]),
                    "median": shown.median if shown else None,
                    "median_nl": fmt(shown.median, indicator.unit) if shown else "te weinig aanbieders",
                    "norm_state": _norm_state(indicator, own["value"] if own else None),
                })  # fmt: skip
            norm = norm_of(indicator)
            indicators.append({"indicator": indicator, "points": points,
                               "norm_text": norm.text(indicator.unit) if norm else "geen norm"})  # fmt: skip
        out.append({"region": region, "indicators": indicators})
    return out
