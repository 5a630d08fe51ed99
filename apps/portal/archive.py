"""The portal's archive (/portaal/archief): the organisation's closed escalations in every contract region, newest
closed first, keyset-paged, filtered by region, by the year closed and on the reference. Read through
``ProviderScope`` only, so another organisation's escalations never show; each row links to the escalation page,
which keeps a closed escalation's letters, documents and timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from apps.escalations.deadlines import local_date
from apps.escalations.tables import Escalation
from apps.escalations.timeline import outcome_nl
from apps.portal import views
from apps.tenancy.tables import Region
from core import keyset
from core.clock import AMSTERDAM, Clock, system_clock
from core.db import contains_ignoring_case
from core.tenancy import ProviderScope

SEGMENTS = [
    keyset.Segment("a", (Escalation.status == "closed") & Escalation.closed_at.is_not_null(),
                   [(Escalation.closed_at, False), (Escalation.id, False)]),
]  # fmt: skip


@dataclass(frozen=True)
class Filters:
    regio: str = ""  # a region's slug, one of the organisation's contract regions
    jaar: str = ""  # the year closed, e.g. "2026"
    kenmerk: str = ""  # part of the reference

    @classmethod
    def of(cls, query) -> Filters:
        year = str(query.get("jaar") or "").strip()
        reference = str(query.get("kenmerk") or "").strip()[:40]
        return cls(
            regio=str(query.get("regio") or "").strip()[:80],
            jaar=year if year.isdigit() and len(year) == 4 else "",
            kenmerk=reference.replace("%", "").replace("_", ""),  # typed text, never a LIKE pattern
        )

    def query_string(self) -> str:
        """The filters for the pager's links (so "volgende" keeps them)."""
        return urlencode({k: v for k, v in (("regio", self.regio), ("jaar", self.jaar), ("kenmerk", self.kenmerk))
                          if v})  # fmt: skip


async def region_choices(scope: ProviderScope) -> list[dict]:
    """The organisation's contract regions, by name (Region is the platform's list, not region-owned)."""
    rows = await Region.select(Region.id, Region.name, Region.slug).where(Region.id.is_in(list(scope.region_ids)))\
        if scope.region_ids else []  # fmt: skip
    return sorted(rows, key=lambda r: r["name"])


async def year_choices(scope: ProviderScope, clock: Clock) -> list[str]:
    """From the year the first of the organisation's escalations was closed to this year, newest first."""
    first = await scope.select(Escalation, Escalation.closed_at).where(SEGMENTS[0].condition)\
        .order_by(Escalation.closed_at).limit(1)  # fmt: skip
    if not first:
        return []
    start = first[0]["closed_at"].astimezone(AMSTERDAM).year
    return [str(y) for y in range(max(clock.today().year, start), start - 1, -1)]


def _condition(filters: Filters, regions: list[dict]):
    condition = None

    def add(term):
        nonlocal condition
        condition = term if condition is None else condition & term

    region = next((r for r in regions if r["slug"] == filters.regio), None)
    if region is not None:
        add(Escalation.region == region["id"])
    if filters.jaar:
        year = int(filters.jaar)
        add(Escalation.closed_at >= datetime(year, 1, 1, tzinfo=AMSTERDAM))
        add(Escalation.closed_at < datetime(year + 1, 1, 1, tzinfo=AMSTERDAM))
    if filters.kenmerk:
        add(contains_ignoring_case(Escalation.reference, filters.kenmerk))
    return condition


async def closed_escalations(scope: ProviderScope, filters: Filters, clock: Clock = system_clock, *,
                             after: str = "", before: str = "") -> dict:  # fmt: skip
    """One page of the archive and what its filter form offers."""
    regions = await region_choices(scope)
    names = {r["id"]: r["name"] for r in regions}
    condition = _condition(filters, regions)

    def make_query():
        query = scope.select(Escalation)
        return query.where(condition) if condition is not None else query

    found = await keyset.first_page_if_stale(keyset.select_fetch(make_query), SEGMENTS, views.PAGE_SIZE,
                                             after=after, before=before)  # fmt: skip
    specs = await views.specs_for(scope, found.rows)
    rows = [
        {
            "id": row["id"],
            "reference": row["reference"],
            "summary": row["summary"],
            "region_name": names.get(row["region"], ""),
            "step_title": views._step_title(specs.get(row["ladder_version"]), row["current_step"]),
            "opened_on": views.date_nl(local_date(row["opened_at"])),
            "closed_on": views.date_nl(local_date(row["closed_at"])),
            "closed_iso": local_date(row["closed_at"]).isoformat(),
            "outcome": outcome_nl(row["outcome"], specs.get(row["ladder_version"])) if row["outcome"] else "",
        }
        for row in found.rows
    ]
    return {
        "rows": rows,
        "next": found.next,
        "previous": found.previous,
        "regions": regions,
        "years": await year_choices(scope, clock),
        "filtered": condition is not None,
    }
