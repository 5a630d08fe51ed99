"""Applying ``tenants/`` to the database (``trede tenants sync``) and reading regions back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID

from apps.escalations.tables import Escalation, Signal
from apps.ladders import services as ladders
from apps.ladders.texts import municipalities_phrase
from apps.quality.indicators import sync_indicators  # the quality app builds on tenancy, not the reverse
from apps.tenancy.loader import LoadedRegion, Problem, load_tenants
from apps.tenancy.tables import Municipality, Region, RegionMailbox
from core.audit import audit
from core.clock import Clock, system_clock
from core.tenancy import RegionScope, RegionsScope
from core.transactions import write_transaction


class SyncRefused(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class RegionChange:
    slug: str
    created: bool = False
    changed: bool = False
    municipalities_added: list[str] = field(default_factory=list)
    municipalities_removed: list[str] = field(default_factory=list)
    ladder_versions: list[str] = field(default_factory=list)  # "kwaliteit v2"
    skipped: bool = False  # the region is managed on the admin pages; its file is not applied

    def describe(self) -> str:
        if self.skipped:
            return f"{self.slug}: unchanged (managed on the admin pages; the file is not applied)"
        if self.created:
            head = "created"
        elif self.changed or self.ladder_versions or self.municipalities_added or self.municipalities_removed:
            head = "updated"
        else:
            return f"{self.slug}: unchanged"
        parts = [head]
        if self.municipalities_added and not self.created:
            parts.append(f"municipalities added: {', '.join(self.municipalities_added)}")
        if self.municipalities_removed:
            parts.append(f"municipalities removed: {', '.join(self.municipalities_removed)}")
        if self.ladder_versions:
            parts.append(f"published {', '.join(self.ladder_versions)}")
        return f"{self.slug}: " + "; ".join(parts)

    def describe_nl(self) -> str:
        """The same in Dutch, for the audit log that people read (``describe`` is the CLI's output)."""
        parts = ["aangemaakt" if self.created else "bijgewerkt"]
        if self.municipalities_added and not self.created:
            parts.append(f"gemeenten toegevoegd: {', '.join(self.municipalities_added)}")
        if self.municipalities_removed:
            parts.append(f"gemeenten vervallen: {', '.join(self.municipalities_removed)}")
        if self.ladder_versions:
            versions = ", ".join(v.replace(" v", " versie ") for v in self.ladder_versions)
            parts.append(f"ladders gepubliceerd: {versions}")
        return "; ".join(parts)


# Columns and tables of their own; every other section of the region file is kept whole in Region.settings, so a
# section added to the schema (apps/tenancy/schema.py) is stored and exported (apps/tenancy/export.py) unchanged.
FROM_FILE = "Ingelezen uit het regiobestand"  # the note of a ladder version the sync published from the file
NOT_IN_SETTINGS = frozenset({"slug", "name", "municipalities", "mailboxes", "ladders"})
# Region.source_file of a region created or imported on the admin pages (/beheer/regios): it lives in the database,
# and `trede tenants sync` never changes it, even when tenants/ holds a file with the same slug (see tenants/README).
MANAGED_IN_ADMIN = "beheer"


def _settings_of(loaded: LoadedRegion) -> dict:
    return loaded.region.model_dump(mode="json", exclude=set(NOT_IN_SETTINGS))


async def _sync_region(loaded: LoadedRegion, clock: Clock) -> RegionChange:
    spec = loaded.region
    change = RegionChange(slug=spec.slug)
    region = await Region.objects().where(Region.slug == spec.slug).first()
    if region is None:
        region = Region(
            slug=spec.slug,
            name=spec.name,
            settings=_settings_of(loaded),
            source_file=loaded.file,
            source_sha256=loaded.sha256,
            synced_at=clock.now(),
        )
        await region.save()
        change.created = True
    elif region.source_sha256 != loaded.sha256:
        region.name = spec.name
        region.settings = _settings_of(loaded)
        region.source_file = loaded.file
        region.source_sha256 = loaded.sha256
        region.synced_at = clock.now()
        await region.save()
        change.changed = True
    else:
        return change  # byte-for-byte the same content as the last sync
    scope = RegionScope(region.id)

    existing = {m.cbs_code: m for m in await scope.objects(Municipality)}
    wanted = {m.cbs_code: m for m in spec.municipalities}
    for code, item in wanted.items():
        values = {
            Municipality.name: item.name,
            Municipality.access_team_email: str(item.access_team_email),
            Municipality.contacts: [c.model_dump(mode="json") for c in item.contacts],
            Municipality.valid_from: item.valid_from,
            Municipality.valid_until: item.valid_until,
        }
        if code in existing:
            await scope.update(Municipality, values).where(Municipality.cbs_code == code)
        else:
            await scope.new(Municipality, cbs_code=code, **{c._meta.name: v for c, v in values.items()}).save()
            change.municipalities_added.append(code)
    for code, row in existing.items():
        if code in wanted:
            continue
        signals = await scope.count(Signal).where(Signal.municipality == row.id)
        disputes = await scope.count(Escalation).where(Escalation.case_municipality == row.id)
        if signals or disputes:
            what = "signals" if signals else "disputes about a case"
            raise SyncRefused(
                [
                    Problem(
                        loaded.file,
                        "municipalities",
                        f"{code} ({row.name}) cannot be removed: {what} refer to it; end it with valid_until instead",
                    )
                ]
            )
        await scope.delete(Municipality).where(Municipality.id == row.id)
        change.municipalities_removed.append(code)

    await scope.delete(RegionMailbox)
    for mailbox in spec.mailboxes:
        await scope.new(RegionMailbox, role=mailbox.role, name=mailbox.name, email=str(mailbox.email)).save()

    for key, ladder in loaded.ladders.items():
        # a file read again for another change keeps what the ladder editor published since
        published = await ladders.publish(scope, ladder, note=FROM_FILE, clock=clock, keep_later_edits=True)
        if published.created:
            change.ladder_versions.append(f"{key} v{published.version}")

    await sync_indicators(scope, spec.indicators)
    return change


async def apply_region(loaded: LoadedRegion, *, clock: Clock = system_clock) -> RegionChange:
    """Apply one validated region (from a file, or built on the admin pages) inside the caller's transaction.

    ``loaded.file`` becomes ``Region.source_file``: ``MANAGED_IN_ADMIN`` for regions of the admin pages.
    """
    return await _sync_region(loaded, clock)


async def sync_tenants(
    folder: Path, *, clock: Clock = system_clock, actor_label: str = "trede tenants sync"
) -> list[RegionChange]:
    """Apply every region file of ``folder``, all in one transaction, or nothing at all."""
    result = load_tenants(folder)
    if not result.ok:
        raise SyncRefused(result.problems)
    changes = []
    async with write_transaction():
        managed_in_admin = {
            row["slug"] for row in await Region.select(Region.slug).where(Region.source_file == MANAGED_IN_ADMIN)
        }
        for loaded in result.regions:
            if loaded.region.slug in managed_in_admin:
                changes.append(RegionChange(slug=loaded.region.slug, skipped=True))
                continue
            change = await _sync_region(loaded, clock)
            changes.append(change)
            if change.describe() != f"{change.slug}: unchanged":
                region = await Region.objects().where(Region.slug == change.slug).first()
                await audit(
                    "tenants.sync",
                    region_id=region.id,
                    actor_label=actor_label,
                    target_type="region",
                    target_id=change.slug,
                    detail={"samenvatting": change.describe_nl(), "bestand": loaded.file},
                    clock=clock,
                )
    return changes


@dataclass(frozen=True)
class RegionSummary:
    slug: str
    name: str
    municipalities: int  # valid today
    ladders: list[dict]


async def list_regions(*, on: date | None = None, clock: Clock = system_clock) -> list[RegionSummary]:
    regions = await Region.objects().where(Region.active == True).order_by(Region.name)  # noqa: E712
    found = await region_summaries(regions, on or clock.today())
    return [RegionSummary(slug=r.slug, name=r.name, municipalities=found[r.id][0], ladders=found[r.id][1])
            for r in regions]  # fmt: skip


async def region_summaries(regions: list[Region], day: date) -> dict[UUID, tuple[int, list[dict]]]:
    """Per region: how many municipalities belong to it on ``day`` and its ladders with their latest version. Three
    queries for all regions together, never a query per region (issue 20: the list of regions is every visitor's
    first page)."""
    scope = RegionsScope([region.id for region in regions])
    valid = (Municipality.valid_from.is_null() | (Municipality.valid_from <= day)) & (
        Municipality.valid_until.is_null() | (Municipality.valid_until >= day)
    )
    counts: dict[UUID, int] = {}
    for row in await scope.select(Municipality, Municipality.region).where(valid):
        counts[row["region"]] = counts.get(row["region"], 0) + 1
    ladders_of = await ladders.ladders_by_region(scope)
    return {region.id: (counts.get(region.id, 0), ladders_of.get(region.id, [])) for region in regions}


async def municipalities_on(scope: RegionScope, day: date) -> list[Municipality]:
    """The municipalities that belong to the region on ``day`` (mergers end and start municipalities)."""
    rows = await scope.objects(Municipality).order_by(Municipality.name)
    return [
        m
        for m in rows
        if (m.valid_from is None or m.valid_from <= day) and (m.valid_until is None or day <= m.valid_until)
    ]


async def municipality_count_on(scope: RegionScope, day: date) -> int:
    """How many municipalities belong to the region on ``day``: their validity only, no row objects."""
    rows = await scope.select(Municipality, Municipality.valid_from, Municipality.valid_until)
    return sum(1 for m in rows if (m["valid_from"] is None or m["valid_from"] <= day)
               and (m["valid_until"] is None or day <= m["valid_until"]))  # fmt: skip


async def text_values(scope: RegionScope, region_name: str, day: date) -> dict[str, str]:
    """What a ladder's placeholders say for this region on ``day`` (apps.ladders.texts): "16 gemeenten"."""
    return {"regio": region_name, "gemeenten": municipalities_phrase(await municipality_count_on(scope, day))}


async def region_by_slug(slug: str) -> Region | None:
    return await Region.objects().where(Region.slug == slug).first()
