"""Audit log pages: the platform admin sees every region (/beheer/audit), a purchasing team lead their own
region (/regio/<slug>/audit). Filters by period, actor, action, target (and region for the admin); CSV export."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from apps.accounts.guards import PERSON, platform_admin, region_role
from apps.accounts.roles import Role
from apps.audit import services
from apps.audit.descriptions import action_nl, details_nl, target_nl
from apps.tenancy.services import region_by_slug
from apps.tenancy.tables import Region
from core import keyset
from core.audit import audit
from core.csvexport import csv_response


async def _page(request: Request, region: Region | None, filters: dict) -> Template:
    wanted, errors = services.AuditFilter.from_query(**filters)
    regions = await services.regions_for(region, wanted)
    platform = services.reads_platform(region, wanted)
    after, before = keyset.cursors(request.query_params)
    found = keyset.Page([], None, None) if errors else await services.entry_page(
        regions, wanted, platform=platform, after=after, before=before
    )  # fmt: skip
    rows = [services.for_platform_admin(r) for r in found.rows] if region is None else found.rows
    all_regions = [] if region else await Region.objects().order_by(Region.name)
    base = f"/regio/{region.slug}/audit" if region else "/beheer/audit"
    query = wanted.query_string()
    return Template("beheer/audit.html", status_code=422 if errors else 200, context={
        "rows": [{**r, "when": services.when(r["at"]), "action_nl": action_nl(r["action"]),
                  "target_nl": target_nl(r["target_type"] or ""), "details_nl": details_nl(r["detail"])}
                 for r in rows], "filters": filters, "errors": errors,
        "base": base, "query": query, "pager": f"{query}&" if query else "", "next": found.next,
        "previous": found.previous, "all_regions": all_regions, "region": region,
        "section": "audit" if region else None, "reads_escalations": True, "region_lead": True,
        "admin": region is None, "hidden": services.HIDDEN,
    })  # fmt: skip


async def _csv(request: Request, region: Region | None, filters: dict) -> Response:
    wanted, errors = services.AuditFilter.from_query(**filters)
    if errors:
        return Response({"detail": "; ".join(errors.values())}, status_code=400)
    regions = await services.regions_for(region, wanted)
    platform = services.reads_platform(region, wanted)
    rows = await services.entries(regions, wanted, platform=platform, limit=services.CSV_LIMIT)
    if region is None:
        rows = [services.for_platform_admin(r) for r in rows]
    person = request.scope["state"][PERSON]
    # Exporting the log is itself recorded (who took a copy, with which filter).
    await audit("audit.export", region_id=region.id if region else None, actor_id=person.user_id,
                actor_label=person.label, target_type="audit", target_id=wanted.query_string()[:80],
                detail={"rows": len(rows), "filter": wanted.query_string()})  # fmt: skip
    name = f"auditlog-{region.slug if region else 'alle-regios'}.csv"
    return csv_response(services.to_csv(rows), name)


def _filters(van, tot, door, actie, doel, regio="") -> dict:
    return {"van": van, "tot": tot, "door": door, "actie": actie, "doel": doel, "regio": regio}


class PlatformAuditController(Controller):
    path = "/beheer/audit"
    include_in_schema = False
    guards = [platform_admin]

    @get("/")
    async def index(self, request: Request, van: FromQuery[str] = "", tot: FromQuery[str] = "",
                    door: FromQuery[str] = "", actie: FromQuery[str] = "", doel: FromQuery[str] = "",
                    regio: FromQuery[str] = "") -> Template:  # fmt: skip
        return await _page(request, None, _filters(van, tot, door, actie, doel, regio))

    @get("/export.csv")
    async def export(self, request: Request, van: FromQuery[str] = "", tot: FromQuery[str] = "",
                     door: FromQuery[str] = "", actie: FromQuery[str] = "", doel: FromQuery[str] = "",
                     regio: FromQuery[str] = "") -> Response:  # fmt: skip
        return await _csv(request, None, _filters(van, tot, door, actie, doel, regio))


class RegionAuditController(Controller):
    path = "/regio/{region_slug:str}/audit"
    include_in_schema = False
    guards = [region_role(Role.INKOOP_LEAD)]

    @get("/")
    async def index(self, request: Request, region_slug: FromPath[str], van: FromQuery[str] = "",
                    tot: FromQuery[str] = "", door: FromQuery[str] = "", actie: FromQuery[str] = "",
                    doel: FromQuery[str] = "") -> Template:  # fmt: skip
        return await _page(request, await _region(region_slug), _filters(van, tot, door, actie, doel))

    @get("/export.csv")
    async def export(self, request: Request, region_slug: FromPath[str], van: FromQuery[str] = "",
                     tot: FromQuery[str] = "", door: FromQuery[str] = "", actie: FromQuery[str] = "",
                     doel: FromQuery[str] = "") -> Response:  # fmt: skip
        return await _csv(request, await _region(region_slug), _filters(van, tot, door, actie, doel))


async def _region(slug: str) -> Region:
    region = await region_by_slug(slug)
    if region is None:
        raise NotFoundException()
    return region
