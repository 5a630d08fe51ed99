"""The region's home page (``/regio/<slug>``): what needs attention, the dashboard, and the way to each part."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from apps.accounts.guards import region_role
from apps.escalations import signals
from apps.escalations.dashboard import region_dashboard
from apps.escalations.overview import Filters, intake_stops, overview_where
from apps.escalations.tables import Escalation, Signal
from apps.escalations.workspace import MEMBERS, here


class RegionPages(Controller):
    path = "/regio/{region_slug:str}"
    include_in_schema = False

    @get("/", guards=[region_role(*MEMBERS)])
    async def region_home(self, request: Request, region_slug: FromPath[str]) -> Template:
        """The region's workspace: what needs attention, and the way to each part."""
        h = await here(request, region_slug)
        now = h.clock.now()
        counts = {"instroomstops": len(await intake_stops(h))}
        if h.reads_escalations:
            counts["nieuwe_signalen"] = await h.scope.count(Signal).where(Signal.status == signals.NEW)
            counts["lopend"] = await h.scope.count(Escalation).where(Escalation.status != "closed")
            counts["verlopen"] = await h.scope.count(Escalation).where(
                overview_where(h.scope, Filters(verlopen=True), now)
            )
        dashboard = await region_dashboard(h) if h.reads_escalations else None
        return Template("regio/index.html", context=h.context("regio", counts=counts, dashboard=dashboard))
