"""The register of intake stops in force in the region: a page, CSV and JSON, for every member of the region
(municipalities must follow them)."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Response, Template

from apps.accounts.guards import region_role
from apps.escalations.overview import (
    intake_stop_count,
    intake_stop_page,
    intake_stops,
    intake_stops_csv,
    intake_stops_json,
)
from apps.escalations.workspace import MEMBERS, here
from core.csvexport import csv_response


class IntakeStopPages(Controller):
    path = "/regio/{region_slug:str}"
    include_in_schema = False

    @get("/instroomstops", guards=[region_role(*MEMBERS)])
    async def register_page(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        query = request.query_params
        found = await intake_stop_page(h, after=(query.get("na") or "")[:300], before=(query.get("voor") or "")[:300])
        context = h.context("instroomstops", stops=found.rows, total=await intake_stop_count(h), next=found.next,
                            previous=found.previous)  # fmt: skip
        return Template("regio/instroomstops.html", context=context)

    @get("/instroomstops.csv", guards=[region_role(*MEMBERS)])
    async def register_csv(self, request: Request, region_slug: FromPath[str]) -> Response:
        h = await here(request, region_slug)
        return csv_response(intake_stops_csv(await intake_stops(h)), f"instroomstops-{h.region.slug}.csv")

    @get("/instroomstops.json", guards=[region_role(*MEMBERS)])
    async def register_json(self, request: Request, region_slug: FromPath[str]) -> Response:
        h = await here(request, region_slug)
        body = intake_stops_json(h.region, h.clock.today(), await intake_stops(h))
        return Response(body, media_type="application/json")
