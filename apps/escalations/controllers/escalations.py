"""The escalation pages: the overview with filters and CSV export, the escalation page with its timeline, and the
forms that take a step, lift a measure, close, change a deadline, record a receipt, post a message or a note.

Every form works without JavaScript (POST, then redirect: PRG); with htmx the same form posts in the background
and only the changed part of the page is swapped (``HTMXBlockTemplate``). Validation errors are shown next to the
field with what was typed; htmx requests get them as 200 with ``HX-Retarget`` (htmx 2 swaps no 4xx), other
requests as 422 with the full page.
"""

from __future__ import annotations

import re
from datetime import date
from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect, Response, Stream, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup

from apps.accounts.guards import region_role
from apps.documents.uploads import CsrfRejected, UploadRejected, discard, receive_upload
from apps.escalations import services
from apps.escalations.chosen_terms import checked_term
from apps.escalations.context import MEASURE_LABELS, MOTIVATION_REQUIRED, EscalationError, load_context
from apps.escalations.letter_fields import FORM_PREFIX, LetterFieldsError, first_values, preview_texts, typed_fields
from apps.escalations.letter_receipts import record_letter_receipt
from apps.escalations.letter_sending import METHODS, PORTAL
from apps.escalations.letters import letters_of, pdf_of, previews
from apps.escalations.overview import Filters, overview, overview_csv, providers_for_filter, region_ladders
from apps.escalations.preconditions import ReceiptUnproved, check_preconditions
from apps.escalations.tables import Deadline, TimelineEvent
from apps.escalations.timeline import TIMELINE_PAGE, deliveries, describe_event, page_of_events
from apps.escalations.views import (
    CLOSE_OUTCOMES,
    action_options,
    escalation_context,
    load_escalation,
    measures_of,
    open_proposals,
    step_states,
)
from apps.escalations.workspace import READERS, TEAM, Here, R, form_value, here, is_htmx, new_key
from apps.tenancy.services import municipalities_on
from core.csvexport import csv_response
from core.edge import int_query
from core.formatting import iso
from core.security import current_csrf_token

UPLOAD_OPT = {"exclude_from_csrf": True}  # checked while streaming, see apps.documents.uploads
DEADLINE_ACTIONS = {"opschorten": "opgeschort", "hervatten": "hervat", "verlengen": "verlengd"}  # -> notice

OPEN_ID = re.compile(r"(beoordeling|bewijs)-[0-9a-f-]{36}|brief-ontvangst")  # forms a link may open

NOTICES = {
    "stap": "De stap is gezet en op de tijdlijn vastgelegd.",
    "opgeheven": "De maatregel is opgeheven en op de tijdlijn vastgelegd.",
    "bericht": "Uw bericht aan de aanbieder staat op de tijdlijn.",
    "notitie": "Uw interne notitie staat op de tijdlijn.",
    "geopend": "De escalatie is geopend.",
    "gekoppeld": "Het signaal is aan deze escalatie gekoppeld.",
    "afgesloten": "De escalatie is afgesloten en op de tijdlijn vastgelegd.",
    "opgeschort": "De termijn is opgeschort en op de tijdlijn vastgelegd.",
    "hervat": "De termijn loopt weer; de nieuwe vervaldatum staat bij de termijnen.",
    "verlengd": "De termijn is verlengd en op de tijdlijn vastgelegd.",
    "ontvangst": "De ontvangst is vastgelegd en geldt als aanlevering.",
    "brief-ontvangst": "De ontvangst van de brief is vastgelegd en staat op de tijdlijn.",
    "beoordeeld": "Uw oordeel over het document staat op de tijdlijn; de aanbieder heeft bericht. Bij ‘niet akkoord’ "
                  "loopt de termijn weer.",
    "bewijs_beoordeeld": "Uw oordeel over het bewijs staat in het bewijsregister en op de tijdlijn; de aanbieder heeft "
                         "bericht. Bij ‘afgewezen’ loopt de termijn weer.",
    "dossier": "Het dossier wordt gemaakt. U krijgt een melding als het klaar is; de link staat dan ook hieronder.",
}


class EscalationPages(Controller):
    path = "/regio/{region_slug:str}/escalaties"
    include_in_schema = False

    @get("/", guards=[region_role(*READERS)])
    async def overview_page(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        filters = Filters.from_query(request.query_params)
        ladders = await region_ladders(h.scope)
        now = h.clock.now()
        result = await overview(h.scope, filters, ladders, now)
        providers, all_providers = await providers_for_filter(h.scope, filters.aanbieder)
        context = h.context(
            "escalaties",
            filters=filters,
            providers=providers,
            all_providers=all_providers,
            step_options=ladders.step_options(),
            category_options=ladders.category_options(),
            **result,
        )
        if is_htmx(request) and request.headers.get("hx-target") == "resultaten":
            return HTMXBlockTemplate(template_name="regio/escalaties.html", block_name="resultaten", context=context,
                                     push_url=f"{h.base()}/escalaties?{filters.query()}")  # fmt: skip
        return Template("regio/escalaties.html", context=context)

    @get("/export.csv", guards=[region_role(*READERS)])
    async def export_csv(self, request: Request, region_slug: FromPath[str]) -> Stream:
        h = await here(request, region_slug)
        filters = Filters.from_query(request.query_params)
        ladders = await region_ladders(h.scope)
        now = h.clock.now()
        return csv_response(overview_csv(h.scope, filters, ladders, now), f"escalaties-{h.region.slug}.csv")

    @get("/{escalation_id:uuid}", guards=[region_role(*READERS)])
    async def escalation_page(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Template:
        h = await here(request, region_slug)
        before_seq = int_query(request.query_params, "voor")
        notice = NOTICES.get(request.query_params.get("melding", ""), "")
        context = await escalation_context(h, escalation_id, before=before_seq, notice=notice)
        # "?open=beoordeling-<id>": a link from the page's lead block opens that form (a <details>) at once
        wanted = request.query_params.get("open", "")
        context["open_id"] = wanted if OPEN_ID.fullmatch(wanted) else ""
        return Template("regio/escalatie.html", context=context)

    @get("/{escalation_id:uuid}/tijdlijn", guards=[region_role(*READERS)])
    async def timeline_part(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """htmx: ``na=N`` the events after N (polling; 204 when none), ``voor=N`` the page before N (meer laden)."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        base_url = f"{h.base()}/escalaties/{loaded.escalation.id}"
        after, before = int_query(request.query_params, "na"), int_query(request.query_params, "voor")
        if after is not None:
            rows = (
                await h.scope.objects(TimelineEvent)
                .where((TimelineEvent.escalation == loaded.escalation.id) & (TimelineEvent.sequence > after))
                .order_by(TimelineEvent.sequence, ascending=False)
                .limit(200)
            )
            if not rows:
                return Response(content="", status_code=204)
            delivered = await deliveries(h.scope, rows)
            context = {"events": [describe_event(e, delivered.get(e.id, "")) for e in rows], "url": base_url,
                       "newest": rows[0].sequence,
                       "poll": True, "more_before": None}  # fmt: skip
            return Template("regio/_tijdlijn_items.html", context=context)
        if before is None:
            raise NotFoundException()
        events = await page_of_events(h.scope, loaded.escalation.id, before=before, limit=TIMELINE_PAGE + 1)
        more = len(events) > TIMELINE_PAGE
        events = events[:TIMELINE_PAGE]
        delivered = await deliveries(h.scope, events)
        context = {"events": [describe_event(e, delivered.get(e.id, "")) for e in events], "url": base_url,
                   "poll": False,
                   "more_before": events[-1].sequence if more and events else None}  # fmt: skip
        return Template("regio/_tijdlijn_items.html", context=context)

    async def _answer(
        self, request: Request, h: Here, escalation_id: UUID, *, notice: str = "", forms: dict | None = None,
        part: str = "", form_id: str = "", status_code: int = 200,
    ) -> Response:  # fmt: skip
        """Success: PRG without htmx; with htmx the refreshed ``#inhoud`` (next actions, timeline) and, out of band,
        the status block ``#gegevens`` and the notice, all from the blocks the full page renders.
        An error or the confirm step: with htmx only that form (``HX-Retarget``); without, the whole page."""
        url = f"{h.base()}/escalaties/{escalation_id}"
        if not forms and not is_htmx(request):
            return Redirect(f"{url}?melding={notice}#melding", status_code=HTTP_303_SEE_OTHER)
        context = await escalation_context(h, escalation_id, forms=forms, notice=NOTICES.get(notice, ""))
        if not is_htmx(request):
            return Template("regio/escalatie.html", context=context, status_code=status_code)
        if not forms:
            return HTMXBlockTemplate(template_name="regio/escalatie.html",
                                     block_names=["inhoud", "gegevens", "melding_oob"],
                                     context={**context, "oob_melding": True})  # fmt: skip
        action = next((a for a in context["actions"] if f"stap-{a['key']}" == form_id), None)
        measure = next((m for m in context["active_measures"] if f"opheffen-{m['kind']}" == form_id), None)
        deadline = next((d for d in context["deadlines"] if form_id.startswith(f"termijn-{d['id']}-")), None)
        if (part == "stap" and action is None) or (part == "opheffen" and measure is None):
            part, form_id = "acties", "acties"
        if part == "termijn" and (deadline is None or not deadline["changeable"]):
            part, form_id = "acties", "acties"  # the deadline ended meanwhile: the page's actions as they are now
        return HTMXTemplate(
            template_name="regio/formulier.html",
            context={
                **context,
                "part": part,
                "form_id": form_id,
                "action": action,
                "measure": measure,
                "deadline": deadline,
            },
            re_target=f"#{form_id}",
            re_swap="outerHTML",
        )

    @post("/{escalation_id:uuid}/stap", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def take_step(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        """Take a step: the motivation (and, for a step whose precondition does not hold, the BW 6:83 exception
        recorded instead), then for a measure or a letter the confirm step, where the decider also sets the
        reasonable term of an ingebrekestelling (``termijn_<key>``; ``voorbeeld`` shows the letter with it)."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        form = await request.form()
        to_step = form_value(form, "naar")
        motivation = form_value(form, "motivering")
        key = form_value(form, "sleutel")[:64] or None
        delivery = form_value(form, "verzending") or PORTAL
        exception = form_value(form, "uitzondering")[:64]
        received_because = form_value(form, "ontvangst_motivering")  # BW 3:37 lid 3: why the notice counts as received
        values = {"motivering": motivation, "sleutel": key or new_key(), "verzending": delivery,
                  "uitzondering": exception, "ontvangst_motivering": received_because}  # fmt: skip
        form_id = f"stap-{to_step}"
        spec = loaded.spec
        try:
            target = spec.step(to_step)
        except KeyError:
            target = None
        error: dict[str, str] = {}
        proposals = await open_proposals(h.scope, loaded.escalation.id)
        states = await step_states(h, loaded)  # open or closed now, and why
        offered = {a["key"]: a for a in action_options(loaded, h, proposals, states=states)}
        terms: dict[str, str] = {}
        fields: dict[str, str] = {}
        if target is not None and to_step in offered:
            action = offered[to_step]
            starts, _ = measures_of(target)
            terms = {t["key"]: form_value(form, f"termijn_{t['key']}")[:40] for t in action["terms"]}
            values.update({f"termijn_{k}": v for k, v in terms.items()})
            term_errors = {}
            for term_key, text in terms.items():
                try:
                    terms[term_key] = checked_term(text) if text else ""
                except EscalationError as exc:
                    term_errors[f"termijn_{term_key}"] = str(exc)
            confirming = form_value(form, "bevestigd") == "ja"
            fields = typed_fields(form, target)
            if not confirming:  # the first showing of the confirm step: what is already known, no errors
                first = await first_values(h.scope, loaded.escalation, target)
                fields = {k: v or first.get(k, "") for k, v in fields.items()}
            values.update({FORM_PREFIX + k: v for k, v in fields.items()})
            if confirming:
                _, field_errors = preview_texts(target, fields, h.clock.today())
                term_errors.update({FORM_PREFIX + k: v for k, v in field_errors.items()})
            if not motivation and spec.motivation_required:
                error = {"motivering": MOTIVATION_REQUIRED}
            elif delivery not in METHODS:
                error = {"algemeen": "Kies hoe de brief wordt verstuurd."}
            elif not action["open"] and not action["exceptions"]:
                error = {"algemeen": action["reason"]}
            elif action["open"] and action["receipt"] and not received_because and not exception:
                error = {"ontvangst_motivering": action["receipt"]}
            elif exception or not action["open"]:  # the engine's rule: an exception only where it is needed
                try:
                    await check_preconditions(await load_context(h.scope, escalation_id, h.clock), target, exception)
                except EscalationError as exc:
                    error = {"uitzondering" if action["exceptions"] else "algemeen": str(exc)}
            if (
                not error
                and (starts or letters_of(target))
                and (not confirming or term_errors or form_value(form, "voorbeeld") == "ja")
            ):
                if starts and not h.is_lead:
                    error = {"algemeen": f"Alleen een teamleider inkoop mag deze stap zetten: de stap "
                                         f"‘{target.title}’ legt een maatregel op."}  # fmt: skip
                else:  # the confirm step: which municipalities a measure reaches, the letters as they will go
                    municipalities = await municipalities_on(h.scope, h.clock.today()) if starts else []
                    letters = await previews(h.scope, escalation_id, to_step, motivation, h.clock,
                                             legal_exception=exception, terms=terms, fields=fields,
                                             sending=delivery)  # fmt: skip
                    chosen = next((x["text"] for x in action["exceptions"] if x["key"] == exception), "")
                    forms = {form_id: {"values": values, "errors": term_errors, "confirm": True, "exception": chosen,
                                       "municipalities": [m.name for m in municipalities],
                                       "measures": [MEASURE_LABELS.get(m, m) for m in starts],
                                       "letters": [{"key": x.key, "title": x.title, "body": Markup(x.body_html)}
                                                   for x in letters]}}  # fmt: skip
                    return await self._answer(request, h, escalation_id, forms=forms, part="stap", form_id=form_id,
                                              status_code=422 if term_errors else 200)  # fmt: skip
            if not error and term_errors:  # a term is set only on the confirm step; a forged form is refused
                error = {"algemeen": next(iter(term_errors.values()))}
        if not error:
            try:
                await services.transition(h.scope, escalation_id, to_step, actor=h.actor, motivation=motivation,
                                          idempotency_key=key, clock=h.clock, delivery=delivery,
                                          legal_exception=exception or None,
                                          term_overrides={k: v for k, v in terms.items() if v},
                                          letter_fields=fields, receipt_motivation=received_because)  # fmt: skip
                return await self._answer(request, h, escalation_id, notice="stap")
            except LetterFieldsError as exc:
                error = {FORM_PREFIX + k: v for k, v in exc.errors.items()} | {"algemeen": str(exc)}
            except ReceiptUnproved as exc:  # the receipt's state changed meanwhile: the field asks for the reason
                error = {"ontvangst_motivering": str(exc)}
            except EscalationError as exc:
                error = {"motivering" if str(exc) == MOTIVATION_REQUIRED else "algemeen": str(exc)}
        if not error:
            error = {"algemeen": "Deze stap is vanuit de huidige stap niet mogelijk; de pagina is bijgewerkt."}
        if target is None or to_step not in offered:
            forms = {"stap-algemeen": {"values": values, "errors": error}}
            return await self._answer(request, h, escalation_id, forms=forms, part="acties", form_id="acties",
                                      status_code=422)  # fmt: skip
        forms = {form_id: {"values": values, "errors": error}}
        return await self._answer(request, h, escalation_id, forms=forms, part="stap", form_id=form_id,
                                  status_code=422)  # fmt: skip

    @post("/{escalation_id:uuid}/opheffen", guards=[region_role(R.INKOOP_LEAD)], status_code=HTTP_303_SEE_OTHER)
    async def lift_measure(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        h = await here(request, region_slug)
        await load_escalation(h.scope, escalation_id)
        form = await request.form()
        kind = form_value(form, "maatregel")
        motivation = form_value(form, "motivering")
        form_id = f"opheffen-{kind}" if kind.isidentifier() else "opheffen"
        try:
            if not motivation:
                raise EscalationError(MOTIVATION_REQUIRED)
            await services.end_measure(
                h.scope, escalation_id, kind, actor=h.actor, motivation=motivation, clock=h.clock
            )
        except EscalationError as exc:
            field_name = "motivering" if str(exc) == MOTIVATION_REQUIRED else "algemeen"
            forms = {form_id: {"values": {"motivering": motivation}, "errors": {field_name: str(exc)}}}
            return await self._answer(request, h, escalation_id, forms=forms, part="opheffen", form_id=form_id,
                                      status_code=422)  # fmt: skip
        return await self._answer(request, h, escalation_id, notice="opgeheven")

    @post("/{escalation_id:uuid}/brief-voorbeeld", guards=[region_role(*TEAM)], status_code=200)
    async def letter_preview(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """The letter a step would send, as a PDF shown in the browser; nothing is stored or sent."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        form = await request.form()
        to_step, key = form_value(form, "naar"), form_value(form, "brief")
        if to_step not in loaded.spec.allowed_next(loaded.escalation.current_step):
            raise NotFoundException()
        terms = {name.removeprefix("termijn_"): form_value(form, name)[:40] for name in form
                 if name.startswith("termijn_")}  # fmt: skip
        fields = typed_fields(form, loaded.spec.step(to_step))
        found = await previews(h.scope, escalation_id, to_step, form_value(form, "motivering"), h.clock, pdf_key=key,
                               legal_exception=form_value(form, "uitzondering"), terms=terms,
                               fields=fields, sending=form_value(form, "verzending"))  # fmt: skip
        if not found:
            raise NotFoundException()
        pdf = await pdf_of(found[0])
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="voorbeeld-{found[0].filename}"',
            "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})  # fmt: skip

    @post("/{escalation_id:uuid}/afsluiten", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def close(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        """Close outside the ladder's final steps, with an outcome and a motivation. A second submit finds the
        escalation closed and is refused: one close event."""
        h = await here(request, region_slug)
        await load_escalation(h.scope, escalation_id)
        form = await request.form()
        values = {"uitkomst": form_value(form, "uitkomst"), "motivering": form_value(form, "motivering")}
        errors: dict[str, str] = {}
        if values["uitkomst"] not in CLOSE_OUTCOMES:
            errors["uitkomst"] = "Kies de uitkomst van de escalatie."
        if not values["motivering"]:
            errors["motivering"] = MOTIVATION_REQUIRED
        if not errors:
            try:
                await services.close_escalation(h.scope, escalation_id, actor=h.actor, outcome=values["uitkomst"],
                                                motivation=values["motivering"], clock=h.clock)  # fmt: skip
                return await self._answer(request, h, escalation_id, notice="afgesloten")
            except EscalationError as exc:
                errors["motivering" if str(exc) == MOTIVATION_REQUIRED else "algemeen"] = str(exc)
        forms = {"afsluiten": {"values": values, "errors": errors}}
        return await self._answer(request, h, escalation_id, forms=forms, part="afsluiten", form_id="afsluiten",
                                  status_code=422)  # fmt: skip

    @post("/{escalation_id:uuid}/termijn", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def change_deadline(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """Suspend, resume or extend one deadline of this escalation (``handeling``), with a reason. The form
        carries the due date it showed: when the deadline changed since (a second submit), it is refused."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        form = await request.form()
        action = form_value(form, "handeling")
        values = {n: form_value(form, n) for n in ("termijn", "reden", "nieuwe_termijn", "dagen", "vervaldatum")}
        try:
            deadline = await h.scope.get(Deadline, values["termijn"]) if values["termijn"] else None
        except ValueError:
            deadline = None
        if deadline is None or deadline.escalation != loaded.escalation.id or action not in DEADLINE_ACTIONS:
            raise NotFoundException()
        form_id = f"termijn-{deadline.id}-{action}"
        errors: dict[str, str] = {}
        if values["vervaldatum"] != iso(deadline.due_at):
            errors["algemeen"] = "Deze termijn is intussen al aangepast; bekijk de nieuwe vervaldatum."
        elif action in ("opschorten", "verlengen") and not values["reden"]:
            errors["reden"] = "Geef een reden: die komt op de tijdlijn."
        days = None
        if not errors and action == "verlengen":
            if bool(values["nieuwe_termijn"]) == bool(values["dagen"]):
                errors["nieuwe_termijn"] = "Vul óf een nieuwe termijn óf een aantal dagen in."
            elif values["dagen"]:
                if not values["dagen"].isdigit() or not 1 <= int(values["dagen"]) <= 365:
                    errors["dagen"] = "Vul een aantal dagen in van 1 tot en met 365."
                else:
                    days = int(values["dagen"])
        if not errors:
            try:
                if action == "opschorten":
                    await services.suspend_deadline(h.scope, deadline.id, actor=h.actor, reason=values["reden"],
                                                    clock=h.clock)  # fmt: skip
                elif action == "hervatten":
                    await services.resume_deadline(h.scope, deadline.id, actor=h.actor, motivation=values["reden"],
                                                   clock=h.clock)  # fmt: skip
                else:
                    await services.extend_deadline(h.scope, deadline.id, actor=h.actor, reason=values["reden"],
                                                   new_term=values["nieuwe_termijn"] or None, days=days,
                                                   clock=h.clock)  # fmt: skip
                return await self._answer(request, h, escalation_id, notice=DEADLINE_ACTIONS[action])
            except EscalationError as exc:
                target = "nieuwe_termijn" if action == "verlengen" and "termijn" in str(exc).lower() else "algemeen"
                errors[target] = str(exc)
        forms = {form_id: {"values": values, "errors": errors}}
        return await self._answer(request, h, escalation_id, forms=forms, part="termijn", form_id=form_id,
                                  status_code=422)  # fmt: skip

    # Multipart, streamed: the optional file goes to storage while it arrives (``receive_upload`` checks the CSRF
    # token and the size itself, so this route is outside the CSRF middleware and the default body limit).
    @post("/{escalation_id:uuid}/ontvangst", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER,
          opt=UPLOAD_OPT, request_max_body_size=None)  # fmt: skip
    async def record_receipt(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """A document received outside the portal (mail, post, a meeting) counts as delivered; the file, when the
        team adds it, is kept as the escalation's document."""
        keep_csrf_token(request)
        h = await here(request, region_slug)
        await load_escalation(h.scope, escalation_id)
        settings, storage = request.app.state.settings, request.app.state.storage
        errors: dict[str, str] = {}
        try:
            form = await receive_upload(request, storage, max_bytes=settings.upload_max_bytes,
                                        secret=settings.secret_key, key_prefix="documents",
                                        file_required=False)  # fmt: skip
            fields = form.fields
        except CsrfRejected:
            raise PermissionDeniedException("CSRF token verification failed") from None
        except UploadRejected as exc:
            form, fields = None, {}
            errors[exc.field] = exc.message
        values = {n: (fields.get(n) or "").strip() for n in ("document", "ontvangen_op", "kanaal", "toelichting")}
        received_on = _received_on(values, errors)
        if not values["document"]:
            errors["document"] = "Kies welk document is ontvangen."
        if not values["kanaal"]:
            errors["kanaal"] = "Kies hoe het document is ontvangen."
        received = form.file if form is not None else None
        if not errors:
            try:
                await services.record_receipt(
                    h.scope, escalation_id, kind=values["document"], received_on=received_on,
                    channel=values["kanaal"], note=values["toelichting"], received=received, actor=h.actor,
                    clock=h.clock,
                )  # fmt: skip
                return await self._answer(request, h, escalation_id, notice="ontvangst")
            except EscalationError as exc:
                field = "ontvangen_op" if "ontvangstdatum" in str(exc) else "algemeen"
                errors[field] = str(exc)
            except BaseException:
                await discard(storage, received)
                raise
        await discard(storage, received)  # refused: nothing of it is kept
        forms = {"ontvangst": {"values": values, "errors": errors}}
        return await self._answer(request, h, escalation_id, forms=forms, part="ontvangst", form_id="ontvangst",
                                  status_code=422)  # fmt: skip

    @post("/{escalation_id:uuid}/brief-ontvangst", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def record_letter_receipt(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """The team records when a letter reached the provider: by registered mail (with its track-and-trace code)
        or by hand (BW 3:37 lid 3)."""
        h = await here(request, region_slug)
        await load_escalation(h.scope, escalation_id)
        form = await request.form()
        values = {n: form_value(form, n) for n in ("brief", "ontvangen_op", "wijze", "track_and_trace")}
        errors: dict[str, str] = {}
        received_on = _received_on(values, errors)
        if not values["brief"]:
            errors["brief"] = "Kies de brief die is ontvangen."
        if not values["wijze"]:
            errors["wijze"] = "Kies hoe de brief is ontvangen."
        if not errors:
            try:
                await record_letter_receipt(
                    h.scope, escalation_id, values["brief"], received_on=received_on, how=values["wijze"],
                    tracking_code=values["track_and_trace"], actor=h.actor, clock=h.clock,
                )  # fmt: skip
                return await self._answer(request, h, escalation_id, notice="brief-ontvangst")
            except EscalationError as exc:
                text = str(exc)
                field = ("ontvangen_op" if "ontvangstdatum" in text else "track_and_trace" if "track-and-trace" in text
                         else "brief" if "bestaat niet" in text else "algemeen")  # fmt: skip
                errors[field] = text
        forms = {"brief-ontvangst": {"values": values, "errors": errors}}
        return await self._answer(request, h, escalation_id, forms=forms, part="brief_ontvangst",
                                  form_id="brief-ontvangst", status_code=422)  # fmt: skip

    async def _text(self, request: Request, region_slug: str, escalation_id: UUID, kind: str) -> Response:
        h = await here(request, region_slug)
        await load_escalation(h.scope, escalation_id)
        form = await request.form()
        text = form_value(form, "tekst")
        try:
            if kind == "bericht":
                await services.post_message(h.scope, escalation_id, actor=h.actor, text=text, clock=h.clock)
            else:
                await services.add_note(h.scope, escalation_id, actor=h.actor, text=text, clock=h.clock)
        except EscalationError as exc:
            forms = {kind: {"values": {"tekst": text}, "errors": {"tekst": str(exc)}}}
            return await self._answer(request, h, escalation_id, forms=forms, part=kind, form_id=kind,
                                      status_code=422)  # fmt: skip
        return await self._answer(request, h, escalation_id, notice=kind)

    @post("/{escalation_id:uuid}/bericht", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def message(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        return await self._text(request, region_slug, escalation_id, "bericht")

    @post("/{escalation_id:uuid}/notitie", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def note(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        return await self._text(request, region_slug, escalation_id, "notitie")


def keep_csrf_token(request: Request) -> None:
    """The upload route is outside the CSRF middleware; the page it renders still needs the visitor's token."""
    ScopeState.from_scope(request.scope).csrf_token = current_csrf_token(request, request.app.state.settings.secret_key)


def _received_on(values: dict[str, str], errors: dict[str, str]) -> date | None:
    """The form's date of receipt (``ontvangen_op``); a Dutch error next to the field when it is no date."""
    try:
        return date.fromisoformat(values["ontvangen_op"])
    except ValueError:
        errors["ontvangen_op"] = "Vul de datum van ontvangst in (dag, maand en jaar)."
        return None
