"""The account-holding region's pages (seed 004, issue 15 point 3): ``/regio/<slug>/accounthouder`` lists the
continuity escalations of the providers this region holds the account of, in every region; each has a read view
and the mediation step. Rules and queries in ``apps.escalations.account_region`` (through AccountRegionScope)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import region_role
from apps.escalations import account_region
from apps.escalations.context import MOTIVATION_REQUIRED, EscalationError
from apps.escalations.workspace import READERS, TEAM, form_value, here, new_key
from core import keyset

NOTICES = {"bemiddeling": "De stap is gezet en op de tijdlijn van de escalatie vastgelegd."}


class AccountRegionPages(Controller):
    path = "/regio/{region_slug:str}/accounthouder"
    include_in_schema = False

    @get("/", guards=[region_role(*READERS)])
    async def shared_list(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        after, before = keyset.cursors(request.query_params)
        found = await account_region.shared_escalations(h.region, h.clock, after=after, before=before)
        return Template("regio/accounthouder.html", context=h.context(
            "accounthouder", items=found.items, count=found.count, next=found.next, previous=found.previous))

    @get("/{escalation_id:uuid}", guards=[region_role(*READERS)])
    async def shared_page(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Template:
        h = await here(request, region_slug)
        notice = NOTICES.get(request.query_params.get("melding", ""), "")
        return await self._page(h, escalation_id, notice=notice)

    async def _page(self, h, escalation_id: UUID, *, notice: str = "", values: dict | None = None,
                    errors: dict | None = None, status_code: int = 200) -> Template:  # fmt: skip
        view = await account_region.shared_escalation(h.region, escalation_id, h.clock)
        if view is None:
            raise NotFoundException()
        context = h.context("accounthouder", **view, notice=notice, values=values or {"sleutel": new_key()},
                            errors=errors or {}, url=f"{h.base()}/accounthouder/{escalation_id}")  # fmt: skip
        return Template("regio/accounthouder_escalatie.html", context=context, status_code=status_code)

    @post("/{escalation_id:uuid}/bemiddeling", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def mediate(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        h = await here(request, region_slug)
        if await account_region.shared_escalation(h.region, escalation_id, h.clock) is None:
            raise NotFoundException()
        form = await request.form()
        values = {
            "motivering": form_value(form, "motivering"),
            "sleutel": form_value(form, "sleutel")[:64] or new_key(),
        }
        try:
            await account_region.mediate(h.region, escalation_id, actor=h.actor, motivation=values["motivering"],
                                         idempotency_key=values["sleutel"], clock=h.clock)  # fmt: skip
        except EscalationError as exc:
            field = "motivering" if str(exc) == MOTIVATION_REQUIRED else "algemeen"
            return await self._page(h, escalation_id, values=values, errors={field: str(exc)}, status_code=422)
        return Redirect(f"{h.base()}/accounthouder/{escalation_id}?melding=bemiddeling#melding",
                        status_code=HTTP_303_SEE_OTHER)  # fmt: skip
