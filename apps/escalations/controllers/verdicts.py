"""The verdict on a document the provider delivered, from the escalation page: akkoord, or niet akkoord with a
reason (``apps.escalations.verdicts``); and on evidence the provider delivered for the escalation from its register:
geaccepteerd, or afgewezen with a reason (``apps.evidence.deliveries.review``). PRG without JavaScript; with htmx the
refreshed content, or only the form with its errors (``HX-Retarget``), as the page's other forms
(``controllers/escalations.py``)."""

from __future__ import annotations

from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import region_role
from apps.documents.tables import Document
from apps.escalations.context import EscalationError
from apps.escalations.controllers.escalations import NOTICES
from apps.escalations.verdicts import CHOOSE, REASON_REQUIRED, judge_document
from apps.escalations.views import escalation_context, load_escalation
from apps.escalations.workspace import TEAM, form_value, here, is_htmx
from apps.evidence import deliveries
from apps.evidence.deliveries import delivered_for_escalation
from apps.evidence.services import EvidenceError

NOTICE = "beoordeeld"
EVIDENCE_NOTICE = "bewijs_beoordeeld"


class VerdictPages(Controller):
    path = "/regio/{region_slug:str}/escalaties"
    include_in_schema = False

    @post("/{escalation_id:uuid}/beoordeling", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def judge(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        form = await request.form()
        values = {n: form_value(form, n) for n in ("document", "oordeel", "reden")}
        try:
            document = await h.scope.get(Document, values["document"]) if values["document"] else None
        except ValueError:
            document = None
        if document is None or document.escalation != loaded.escalation.id:
            raise NotFoundException()
        url = f"{h.base()}/escalaties/{escalation_id}"
        errors: dict[str, str] = {}
        try:
            await judge_document(h.scope, escalation_id, document.id, verdict=values["oordeel"],
                                 reason=values["reden"], actor=h.actor, clock=h.clock)  # fmt: skip
        except EscalationError as exc:
            text = str(exc)
            errors["oordeel" if text == CHOOSE else "reden" if text == REASON_REQUIRED else "algemeen"] = text
        if not errors:
            if not is_htmx(request):
                return Redirect(f"{url}?melding={NOTICE}#melding", status_code=HTTP_303_SEE_OTHER)
            context = await escalation_context(h, escalation_id, notice=NOTICES[NOTICE])
            return HTMXBlockTemplate(template_name="regio/escalatie.html",
                                     block_names=["inhoud", "gegevens", "melding_oob"],
                                     context={**context, "oob_melding": True})  # fmt: skip
        form_id = f"beoordeling-{document.id}"
        context = await escalation_context(h, escalation_id, forms={form_id: {"values": values, "errors": errors}})
        if not is_htmx(request):
            return Template("regio/escalatie.html", context=context, status_code=422)
        shown = next((d for d in context["documents"] if d["id"] == str(document.id) and d["judgeable"]), None)
        if shown is None:  # closed meanwhile: the page's content as it is now
            return HTMXBlockTemplate(template_name="regio/escalatie.html", block_names=["inhoud"], context=context)
        return HTMXTemplate(template_name="regio/formulier.html",
                            context={**context, "part": "beoordeling", "form_id": form_id, "document": shown},
                            re_target=f"#{form_id}", re_swap="outerHTML")  # fmt: skip

    @post("/{escalation_id:uuid}/bewijs-beoordeling", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def judge_evidence(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """The verdict on evidence delivered for this escalation: the register's review, and the escalation's."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        form = await request.form()
        values = {n: form_value(form, n) for n in ("bewijs", "oordeel", "reden")}
        delivered = {item["id"]: item for item in await delivered_for_escalation(h.scope, loaded.escalation)}
        if values["bewijs"] not in delivered:
            raise NotFoundException()
        url = f"{h.base()}/escalaties/{escalation_id}"
        form_id = f"bewijs-{values['bewijs']}"
        try:
            await deliveries.review(h.scope, loaded.escalation.provider, values["bewijs"], verdict=values["oordeel"],
                                    reason=values["reden"], actor=h.actor, clock=h.clock)  # fmt: skip
        except EvidenceError as exc:
            errors = {exc.field if exc.field in ("oordeel", "reden") else "algemeen": exc.message}
            context = await escalation_context(h, escalation_id, forms={form_id: {"values": values, "errors": errors}})
            if not is_htmx(request):
                return Template("regio/escalatie.html", context=context, status_code=422)
            shown = next((i for i in context["evidence"] if i["id"] == values["bewijs"] and i["judgeable"]), None)
            if shown is None:  # closed meanwhile: the page's content as it is now
                return HTMXBlockTemplate(template_name="regio/escalatie.html", block_names=["inhoud"], context=context)
            return HTMXTemplate(template_name="regio/_bewijs_formulier.html",
                                context={**context, "form_id": form_id, "item": shown},
                                re_target=f"#{form_id}", re_swap="outerHTML")  # fmt: skip
        if not is_htmx(request):
            return Redirect(f"{url}?melding={EVIDENCE_NOTICE}#melding", status_code=HTTP_303_SEE_OTHER)
        context = await escalation_context(h, escalation_id, notice=NOTICES[EVIDENCE_NOTICE])
        return HTMXBlockTemplate(template_name="regio/escalatie.html",
                                 block_names=["inhoud", "gegevens", "melding_oob"],
                                 context={**context, "oob_melding": True})  # fmt: skip
