"""The region's view of a provider's evidence (/regio/{region_slug}/aanbieders/{provider_id}/bewijs): the items of a
provider under contract with the region, their validity, the escalations each was delivered for, and the purchasing
team's accept/reject with a reason (``deliveries.review``: also a verdict on those escalations)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import PERSON, region_role
from apps.accounts.roles import DECIDES
from apps.documents.controllers import REGION_READERS, download_response, region_scope_of
from apps.escalations.workspace import here
from apps.evidence import deliveries
from apps.evidence import services as evidence
from apps.portal.views import evidence_row
from apps.tenancy.tables import Region
from core import keyset
from core.clock import AMSTERDAM, system_clock
from core.formatting import format_date_nl


async def _page(request: Request, region_slug: str, provider_id: UUID, *, errors: dict | None = None,
                values: dict | None = None, status_code: int = 200) -> Template:  # fmt: skip
    scope = await region_scope_of(region_slug)
    provider = await evidence.under_contract(scope, provider_id)
    if provider is None:
        raise NotFoundException()
    person = request.scope["state"][PERSON]
    actor = person.region_actor(scope.region_id)
    region = await Region.objects().where(Region.id == scope.region_id).first()
    after, before = keyset.cursors(request.query_params)
    page_items, found = await evidence.item_page(provider.id, after=after, before=before)
    reviews = await evidence.reviews_in_region(scope, provider.id, page_items)
    delivered_for = await deliveries.escalations_of_items(scope, [item.id for item in page_items])
    today = system_clock.today()
    items = []
    for item in page_items:
        row = evidence_row(item, today)
        review = reviews.get(item.id)
        if review:
            row["review"] = {
                "verdict": review["verdict"],
                "verdict_text": evidence.VERDICTS[review["verdict"]],
                "reason": review["reason"],
                "by": review["reviewed_by_label"],
                "at": format_date_nl(review["reviewed_at"].astimezone(AMSTERDAM).date()),
            }
        row["escalations"] = delivered_for.get(item.id, [])
        items.append(row)
    session = dict(request.session or {})
    flash = session.pop("flash", "") if status_code == 200 else ""
    if flash:
        request.set_session(session)
    nav = (await here(request, region_slug)).context("bewijs")  # the region's navigation (base.html)
    return Template(
        "portaal/regio_bewijs.html",
        context={
            **nav, "region": region, "provider": provider, "items": items, "errors": errors or {}, "flash": flash,
            "values": values or {},
            "next": found.next, "previous": found.previous,
            "may_review": bool(actor and actor.has_any(DECIDES)),
        },
        status_code=status_code,
    )  # fmt: skip


class RegionEvidenceController(Controller):
    path = "/regio/{region_slug:str}/aanbieders/{provider_id:uuid}/bewijs"
    include_in_schema = False
    guards = [region_role(*REGION_READERS)]

    @get("/")
    async def page(self, request: Request, region_slug: FromPath[str], provider_id: FromPath[UUID]) -> Template:
        return await _page(request, region_slug, provider_id)

    @post("/{evidence_id:uuid}/beoordeling", guards=[region_role(*DECIDES)], status_code=HTTP_303_SEE_OTHER)
    async def review(
        self, request: Request, region_slug: FromPath[str], provider_id: FromPath[UUID], evidence_id: FromPath[UUID]
    ) -> Response:
        scope = await region_scope_of(region_slug)
        if await evidence.region_item(scope, provider_id, evidence_id) is None:
            raise NotFoundException()
        person = request.scope["state"][PERSON]
        form = await request.form()
        typed = {"oordeel": str(form.get("oordeel") or ""), "reden": str(form.get("reden") or "")}
        try:
            reviewed = await deliveries.review(
                scope, provider_id, evidence_id, verdict=typed["oordeel"], reason=typed["reden"],
                actor=person.region_actor(scope.region_id), clock=getattr(request.app.state, "clock", system_clock),
            )  # fmt: skip
        except evidence.EvidenceError as exc:
            return await _page(request, region_slug, provider_id, errors={str(evidence_id): exc.message},
                               values={str(evidence_id): typed}, status_code=422)  # fmt: skip
        flash = "Uw beoordeling is vastgelegd."
        if reviewed.escalations:
            flash += f" Ze staat ook op de tijdlijn van escalatie {', '.join(reviewed.escalations)}; de aanbieder " \
                     "heeft bericht."
        request.set_session({**(request.session or {}), "flash": flash})
        return Redirect(f"/regio/{region_slug}/aanbieders/{provider_id}/bewijs#bewijs-{evidence_id}",
                        status_code=HTTP_303_SEE_OTHER)  # fmt: skip

    @get("/{evidence_id:uuid}/bestand")
    async def file(
        self, request: Request, region_slug: FromPath[str], provider_id: FromPath[UUID], evidence_id: FromPath[UUID]
    ) -> Response:
        scope = await region_scope_of(region_slug)
        item = await evidence.region_item(scope, provider_id, evidence_id)
        if item is None or not item.object_key:
            raise NotFoundException()
        return download_response(request, item.object_key, item.original_filename, item.content_type, item.size)
