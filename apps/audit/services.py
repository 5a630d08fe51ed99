"""Reading the audit log: filters (period, actor, action, target, region) and CSV, always through a scope.

A region lead reads their own region (RegionScope); the platform admin reads every region (one scope per region)
and the entries without a region — logins, role changes, platform-wide actions — through PlatformScope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from apps.audit.tables import AuditEntry
from apps.ladders.calendar import AMSTERDAM
from apps.tenancy.tables import Region
from core import keyset
from core.csvexport import CsvSheet
from core.formatting import nl_datetime
from core.tenancy import PlatformScope, RegionScope, RegionsScope

PAGE_SIZE = 200
PLATFORM = "platform"  # the region filter's value for entries that belong to no region
PLATFORM_LABEL = "Platform (geen regio)"
CSV_LIMIT = 50_000
CSV_COLUMNS = ("tijdstip", "regio", "actie", "door", "doel_soort", "doel", "details")


@dataclass(frozen=True)
class AuditFilter:
    start: date | None = None
    end: date | None = None  # inclusive
    actor: str = ""
    action: str = ""
    target: str = ""
    region: str = ""  # slug, or PLATFORM for the platform-wide entries; only the platform admin chooses

    @classmethod
    def from_query(cls, *, van: str = "", tot: str = "", door: str = "", actie: str = "", doel: str = "",
                   regio: str = "") -> tuple[AuditFilter, dict[str, str]]:  # fmt: skip
        errors = {}
        days = {}
        for name, raw in (("van", van), ("tot", tot)):
            try:
                days[name] = date.fromisoformat(raw) if raw else None
            except ValueError:
                days[name] = None
                errors[name] = "Vul een datum in als jjjj-mm-dd."
        if days["van"] and days["tot"] and days["tot"] < days["van"]:
            errors["tot"] = "De einddatum ligt vóór de begindatum."
        return cls(days["van"], days["tot"], door.strip()[:100], actie.strip()[:80], doel.strip()[:80],
                   regio.strip()[:64]), errors  # fmt: skip

    def query_string(self) -> str:
        from urllib.parse import urlencode

        values = {"van": self.start.isoformat() if self.start else "", "tot": self.end.isoformat() if self.end else "",
                  "door": self.actor, "actie": self.action, "doel": self.target, "regio": self.region}  # fmt: skip
        return urlencode({k: v for k, v in values.items() if v})


def _where(scope: RegionScope | PlatformScope, wanted: AuditFilter):
    return _filtered(scope, wanted).order_by(AuditEntry.at, ascending=False)


def _filtered(scope: RegionScope | PlatformScope | RegionsScope, wanted: AuditFilter):
    query = scope.select(
        AuditEntry, AuditEntry.id, AuditEntry.region, AuditEntry.at, AuditEntry.action, AuditEntry.actor_label,
        AuditEntry.target_type, AuditEntry.target_id, AuditEntry.detail,
    )  # fmt: skip
    if wanted.start:
        query = query.where(AuditEntry.at >= _utc_midnight(wanted.start))
    if wanted.end:
        query = query.where(AuditEntry.at < _utc_midnight(wanted.end + timedelta(days=1)))
    if wanted.actor:
        query = query.where(AuditEntry.actor_label.ilike(f"%{_like(wanted.actor)}%"))
    if wanted.action:  # "admin" finds admin.region.create, admin.region.logo, ...
        query = query.where(AuditEntry.action.ilike(f"{_like(wanted.action)}%"))
    if wanted.target:
        query = query.where(
            AuditEntry.target_id.ilike(f"%{_like(wanted.target)}%")
            | AuditEntry.target_type.ilike(f"%{_like(wanted.target)}%")
        )
    return query


def _utc_midnight(day: date) -> datetime:
    """The start of ``day`` in the Netherlands, in UTC (timestamps are stored in UTC, on SQLite as text)."""
    return datetime.combine(day, time(), AMSTERDAM).astimezone(UTC)


def _like(text: str) -> str:
    return text.replace("%", "").replace("_", "")  # wildcards typed by a person are taken literally-ish: dropped


async def regions_for(region: Region | None, wanted: AuditFilter) -> list[Region]:
    """The regions to read: the lead's own region, or (platform admin) all of them or the one filtered on."""
    if region is not None:
        return [region]
    if wanted.region == PLATFORM:
        return []
    query = Region.objects().order_by(Region.name)
    if wanted.region:
        query = query.where(Region.slug == wanted.region)
    return list(await query)


def reads_platform(region: Region | None, wanted: AuditFilter) -> bool:
    """The platform admin (no region of their own) also reads platform-wide entries, unless filtering a region."""
    return region is None and wanted.region in ("", PLATFORM)


async def entries(
    regions: list[Region], wanted: AuditFilter, *, platform: bool = False, limit: int = PAGE_SIZE, offset: int = 0
) -> list[dict]:
    """Newest first, across ``regions`` (and the platform-wide entries when ``platform``); each row carries the
    name of its region."""
    sources: list[tuple[RegionScope | PlatformScope, str, str]] = [
        (RegionScope(region.id), region.name, region.slug) for region in regions
    ]
    if platform:
        sources.append((PlatformScope(), PLATFORM_LABEL, PLATFORM))
    rows = []
    for scope, name, slug in sources:
        for row in await _where(scope, wanted).limit(limit + offset):
            rows.append({**row, "region_name": name, "region_slug": slug})
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows[offset : offset + limit]


async def entry_page(regions: list[Region], wanted: AuditFilter, *, platform: bool = False, after: str = "",
                     before: str = "") -> keyset.Page:  # fmt: skip
    """One page of the log, newest first, by keyset on (at, id): one query for the regions together (the index
    audit_entry_region_at serves each region's range) and one for the platform-wide entries, whatever the
    number of rows; each row carries the name and slug of its region."""
    names = {region.id: (region.name, region.slug) for region in regions}
    fetches = []
    if regions:
        scope = RegionScope(regions[0].id) if len(regions) == 1 else RegionsScope([r.id for r in regions])
        fetches.append(keyset.select_fetch(lambda: _filtered(scope, wanted)))
    if platform:
        fetches.append(keyset.select_fetch(lambda: _filtered(PlatformScope(), wanted)))
    segments = [keyset.Segment("a", None, [(AuditEntry.at, False), (AuditEntry.id, False)])]
    if not fetches:
        return keyset.Page([], None, None)
    found = await keyset.first_page_if_stale(keyset.merged_fetch(*fetches), segments, PAGE_SIZE, after=after,
                                             before=before)  # fmt: skip
    for row in found.rows:
        row["region_name"], row["region_slug"] = names.get(row["region"], (PLATFORM_LABEL, PLATFORM))
    return found


# The platform admin runs the platform, not the cases: of a region's decisions on escalations, signals and
# documents they see who did what and when, but not which case or its content (that stays with the region).
PLATFORM_DETAIL_PREFIXES = (
    "admin.", "ladder.", "tenants.", "invitation.", "audit.", "role.", "notification.", "login.", "logout.", "session.",
)
HIDDEN = "(alleen zichtbaar voor de regio)"


def for_platform_admin(row: dict) -> dict:
    if row["action"].startswith(PLATFORM_DETAIL_PREFIXES):
        return row
    return {**row, "target_id": HIDDEN, "detail": {}}


def when(moment: datetime) -> str:
    """The one date format of the pages, "6 april 2026, 14:05" (the CSV keeps the full timestamp)."""
    return nl_datetime(moment)


def to_csv(rows: list[dict]) -> str:
    """The entries in the dialect of every export (core.csvexport): BOM, ``;``, formulas kept as text."""
    sheet = CsvSheet(CSV_COLUMNS)
    for row in rows:
        sheet.row((
            row["at"], row["region_name"], row["action"], row["actor_label"], row["target_type"],
            row["target_id"], json.dumps(row["detail"], ensure_ascii=False, sort_keys=True, default=str),
        ))  # fmt: skip
    return sheet.take()
