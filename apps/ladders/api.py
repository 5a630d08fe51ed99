"""JSON API v1 about a region and its ladders (for the region's members), and the public term calculator.

- ``GET /api/v1/regions/{region_slug}``: municipalities valid today (CBS codes), role mailboxes, closed days,
  ladders with their versions;
- ``GET /api/v1/regions/{region_slug}/ladders[/{ladder_key}[/versions/{version}]]``: ladder definitions;
- ``GET /api/v1/calendar/add?from=2026-03-02&term=10%20werkdagen[&region=slug]``: when a term ends and why
  it moved. Public: it computes from the law's calendar and a region's closed days, which are public too.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter

from apps.accounts.guards import region_role
from apps.accounts.roles import REGION_ROLES
from apps.escalations.api import clock_of, region_context
from apps.escalations.schemas import API_ERRORS, iso
from apps.ladders.calendar import DutchCalendar
from apps.ladders.deadlines import due_date_for, region_calendar
from apps.ladders.tables import Ladder, LadderVersion
from apps.tenancy.services import municipalities_on
from apps.tenancy.tables import Region, RegionMailbox
from core.problems import READ_ERRORS, READS, problems
from core.tenancy import RegionScope


async def versions_of(scope: RegionScope, ladder_id) -> list[dict[str, Any]]:
    rows = (
        await scope.select(
            LadderVersion, LadderVersion.version, LadderVersion.created_at, LadderVersion.note, LadderVersion.sha256
        )
        .where(LadderVersion.ladder == ladder_id)
        .order_by(LadderVersion.version)
    )
    return [{**row, "created_at": iso(row["created_at"])} for row in rows]


async def ladder_of(scope: RegionScope, ladder_key: FromPath[str]) -> Ladder:
    ladder = await scope.objects(Ladder).where(Ladder.key == ladder_key).first()
    if ladder is None:
        raise NotFoundException("Deze regio heeft deze ladder niet.")
    return ladder


class RegionDetailApiController(Controller):
    path = "/api/v1/regions/{region_slug:str}"
    tags = ["regions"]
    guards = [region_role(*REGION_ROLES)]
    exception_handlers = API_ERRORS

    @get(
        "/",
        summary="A region: municipalities valid today, mailboxes, ladders with their versions",
        responses=READ_ERRORS,
        security=READS,
    )
    async def detail(self, request: Request, region_slug: FromPath[str]) -> dict:
        """For the region's members: the municipalities valid today (CBS codes), the role mailboxes, the closed days
        and the ladders with their versions."""
        scope, region, _ = await region_context(request, region_slug)
        today = clock_of(request).today()
        municipalities = await municipalities_on(scope, today)
        mailboxes = await scope.select(RegionMailbox, RegionMailbox.role, RegionMailbox.name, RegionMailbox.email)
        ladders = []
        for ladder in await scope.objects(Ladder).order_by(Ladder.key):
            versions = await versions_of(scope, ladder.id)
            ladders.append(
                {
                    "key": ladder.key,
                    "name": ladder.name,
                    "latest_version": versions[-1]["version"] if versions else 0,
                    "versions": versions,
                }
            )
        settings = region.settings or {}
        return {
            "slug": region.slug,
            "name": region.name,
            "description": settings.get("description", ""),
            "on": today.isoformat(),
            "municipalities": [
                {
                    "cbs_code": m.cbs_code,
                    "name": m.name,
                    "valid_from": m.valid_from and m.valid_from.isoformat(),
                    "valid_until": m.valid_until and m.valid_until.isoformat(),
                }
                for m in municipalities
            ],
            "mailboxes": sorted(mailboxes, key=lambda m: (m["role"], m["email"])),
            "closed_days": (settings.get("calendar") or {}).get("extra_closed_days") or [],
            "ladders": ladders,
        }

    @get("/ladders", summary="The region's ladders with their latest version", responses=READ_ERRORS, security=READS)
    async def ladders(self, request: Request, region_slug: FromPath[str]) -> list[dict]:
        """For the region's members: each ladder's key, name and latest version number."""
        scope, _, _ = await region_context(request, region_slug)
        found = []
        for ladder in await scope.objects(Ladder).order_by(Ladder.key):
            versions = await versions_of(scope, ladder.id)
            found.append(
                {"key": ladder.key, "name": ladder.name, "latest_version": versions[-1]["version"] if versions else 0}
            )
        return found

    @get(
        "/ladders/{ladder_key:str}",
        summary="A ladder: the latest definition and the list of versions",
        responses=READ_ERRORS,
        security=READS,
    )
    async def ladder(self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str]) -> dict:
        """For the region's members: the latest version's definition (steps, terms, categories) and every version."""
        scope, _, _ = await region_context(request, region_slug)
        ladder = await ladder_of(scope, ladder_key)
        versions = await versions_of(scope, ladder.id)
        latest = (
            await scope.objects(LadderVersion)
            .where(LadderVersion.ladder == ladder.id)
            .order_by(LadderVersion.version, ascending=False)
            .first()
        )
        return {
            "key": ladder.key,
            "name": ladder.name,
            "latest_version": latest.version if latest else 0,
            "definition": latest.definition if latest else None,
            "versions": versions,
        }

    # {version:str}, not :int: a path that is no number is a version that does not exist (404), and the route
    # still matches, so that without a session the answer is 401 like every other API path.
    @get(
        "/ladders/{ladder_key:str}/versions/{version:str}",
        summary="One version of a ladder, as published",
        responses=READ_ERRORS,
        security=READS,
    )
    async def version(
        self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str], version: FromPath[str]
    ) -> dict:
        """For the region's members: one published version with its note and SHA-256; a version that is no number does
        not exist (404)."""
        scope, _, _ = await region_context(request, region_slug)
        ladder = await ladder_of(scope, ladder_key)
        number = int(version) if version.isdigit() and len(version) < 9 else None
        row = (
            await scope.objects(LadderVersion)
            .where((LadderVersion.ladder == ladder.id) & (LadderVersion.version == number))
            .first()
            if number is not None
            else None
        )
        if row is None:
            raise NotFoundException("Deze ladder heeft deze versie niet.")
        return {
            "key": ladder.key,
            "name": ladder.name,
            "version": row.version,
            "created_at": iso(row.created_at),
            "note": row.note,
            "sha256": row.sha256,
            "definition": row.definition,
        }


class CalendarApiController(Controller):
    path = "/api/v1/calendar"
    tags = ["calendar"]
    exception_handlers = API_ERRORS

    @get(
        "/add",
        opt={"public": True},
        summary="When a term ends (Atw, plus a region's closed days) and why",
        responses=problems(400, 404),
    )
    async def add(
        self,
        start: Annotated[date, QueryParameter(name="from", description="start date, e.g. 2026-03-02")],
        term: Annotated[str, QueryParameter(max_length=60, description='e.g. "10 werkdagen", "2 weken", "1 april"')],
        region: Annotated[str | None, QueryParameter(max_length=64, description="region slug: its closed days")] = None,
    ) -> dict:
        """Public: the due date of a term from a start date under the Algemene termijnenwet, plus the closed days of a
        region when one is given (unknown region: 404), with the reasons it moved."""
        calendar = DutchCalendar()
        if region:
            row = await Region.select(Region.settings).where(Region.slug == region).output(load_json=True).first()
            if row is None:
                raise NotFoundException("Deze regio bestaat niet.")
            calendar = region_calendar(row["settings"] or {})
        due = due_date_for(start, term, calendar)
        return {
            "from": start.isoformat(),
            "term": term,
            "region": region,
            "due_date": due.due_date.isoformat(),
            "due_at": iso(due.due_at),
            "reasons": list(due.reasons),
        }
