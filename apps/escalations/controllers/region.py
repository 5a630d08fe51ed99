"""The region's home page (``/regio/<slug>``): what needs attention, the dashboard, and the way to each part."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from apps.accounts.guards import region_role
from apps.escalations import signals
from apps.escalations.dashboard import region_dashboard
from apps.escalations.letter_receipts import ACKNOWLEDGE_WORKING_DAYS, unconfirmed, unconfirmed_where
from apps.escalations.letters import letter_title
from apps.escalations.overview import Filters, intake_stop_count, intake_stop_page, overview_where
from apps.escalations.tables import Escalation, LetterDelivery, Signal, StepProposal
from apps.escalations.tally import region_tally
from apps.escalations.today import needs_me_today
from apps.escalations.workspace import MEMBERS, READERS, here
from core.formatting import nl_date

REVIEW_PAGE = 100
DASHBOARD_STOPS = 15  # the newest stops in force on the dashboard; the register has them all


class RegionPages(Controller):
    path = "/regio/{region_slug:str}"
    include_in_schema = False

    @get("/", guards=[region_role(*MEMBERS)])
    async def region_home(self, request: Request, region_slug: FromPath[str]) -> Template:
        """The region's workspace: what needs attention, and the way to each part."""
        h = await here(request, region_slug)
        now = h.clock.now()
        # the count here and on the dashboard, the newest ones listed there: a count and a page, however many
        counts = {"instroomstops": await intake_stop_count(h)}
        stops = (await intake_stop_page(h, size=DASHBOARD_STOPS)).rows if h.reads_escalations else []
        if h.reads_escalations:
            counts["nieuwe_signalen"] = await h.scope.count(Signal).where(Signal.status == signals.NEW)
            tally = await region_tally(h.scope)  # the database keeps it with every change: nothing is scanned
            counts["lopend"] = tally.open_total()
            counts["te_beoordelen"] = await h.scope.count(StepProposal).where(StepProposal.status == "open")
            counts["ontvangst_open"] = await h.scope.count(LetterDelivery).where(unconfirmed_where(now))
            counts["verlopen"] = await h.scope.count(Escalation).where(
                overview_where(h.scope, Filters(verlopen=True), now)
            )
        dashboard = await region_dashboard(h, stops, tally, counts["instroomstops"]) if h.reads_escalations else None
        # what needs a person of the team today; a municipality's access team sees the signals it filed
        today = await needs_me_today(h, dashboard, counts) if dashboard and h.can_decide else None
        mine = await signals.signals_filed_by(h.scope, h.actor.user_id, size=5) if not h.reads_escalations else None
        return Template("regio/index.html", context=h.context("regio", counts=counts, dashboard=dashboard,
                                                              today=today, mine=mine))  # fmt: skip

    @get("/te-beoordelen", guards=[region_role(*READERS)])
    async def to_review(self, request: Request, region_slug: FromPath[str]) -> Template:
        """What the ladder proposed and a person must decide (a letter, a measure): the oldest first."""
        h = await here(request, region_slug)
        is_open = StepProposal.status == "open"
        total = await h.scope.count(StepProposal).where(is_open)
        rows = await h.scope.select(
            StepProposal,
            StepProposal.escalation,
            StepProposal.escalation.reference.as_alias("reference"),
            StepProposal.escalation.provider.name.as_alias("provider"),
            StepProposal.step_title,
            StepProposal.letter,
            StepProposal.reason,
            StepProposal.proposed_at,
        ).where(is_open).order_by(StepProposal.proposed_at).limit(REVIEW_PAGE)
        items = [
            {
                **row,
                "url": f"{h.base()}/escalaties/{row['escalation']}#te-beoordelen",
                "letter_title": letter_title(row["letter"]) if row["letter"] else "",
                "since": nl_date(row["proposed_at"]),
            }
            for row in rows
        ]
        # Formal letters without a receipt after the working days to acknowledge: chase them before relying on them.
        letters, letters_total = await unconfirmed(h.scope, h.clock.now(), REVIEW_PAGE)
        for letter in letters:
            letter["url"] = f"{h.base()}/escalaties/{letter['escalation']}#brieven"
        context = h.context("te-beoordelen", items=items, total=total, more=max(0, total - len(items)),
                            letters=letters, letters_total=letters_total,
                            letters_more=max(0, letters_total - len(letters)),
                            acknowledge_days=ACKNOWLEDGE_WORKING_DAYS)  # fmt: skip
        return Template("regio/te_beoordelen.html", context=context)
