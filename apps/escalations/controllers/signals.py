"""The signals pages: the list, filing a signal (every member of the team or a municipality) and the triage that
hands it back, opens an escalation or attaches it to a running one."""

from __future__ import annotations

from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from markupsafe import Markup

from apps.accounts.guards import region_role
from apps.escalations import signals
from apps.escalations.cases import REFERENCE_LABEL
from apps.escalations.context import MOTIVATION_REQUIRED, EscalationError
from apps.escalations.letter_fields import FORM_PREFIX, opening_values, page_fields, preview_texts, typed_fields
from apps.escalations.letters import opening_previews, opening_step
from apps.escalations.overview import region_ladders
from apps.escalations.tables import Escalation, Signal
from apps.escalations.triage import FIELDS as TRIAGE_FIELDS
from apps.escalations.triage import triage_form
from apps.escalations.workspace import FILERS, READERS, TEAM, Here, form_value, here, is_htmx
from apps.providers.tables import Provider
from apps.quality.services import signal_links as quality_signal_links
from apps.tenancy.services import municipalities_on
from apps.tenancy.tables import Municipality
from core import keyset
from core.formatting import nl_datetime


class SignalPages(Controller):
    path = "/regio/{region_slug:str}/signalen"
    include_in_schema = False

    @get("/", guards=[region_role(*READERS)])
    async def list_signals(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        show = request.query_params.get("toon", "nieuw")
        after, before = keyset.cursors(request.query_params)
        found = await signals.signal_page(h.scope, only_new=show != "alle", after=after, before=before)
        rows = found.rows
        for row in rows:
            row["received_nl"] = nl_datetime(row["received_at"])
            row["status_nl"] = signals.STATUS_NL.get(row["status"], row["status"])
        return Template(
            "regio/signalen.html",
            context=h.context("signalen", signals=rows, show=show, next=found.next, previous=found.previous),
        )

    async def _form_context(self, h: Here, *, values: dict, errors: dict, filed: bool = False,
                            after: str = "", before: str = "") -> dict:  # fmt: skip
        providers = await signals.provider_choices(h.scope)
        found = await signals.find_providers(h.scope, values.get("aanbieder_zoek", "")) if providers is None else []
        return h.context(
            "signalen",
            providers=providers,  # None: too many to list, the form searches by name or KvK number
            found=found[: signals.FOUND_PROVIDERS],
            more_found=len(found) > signals.FOUND_PROVIDERS,
            municipalities=await municipalities_on(h.scope, h.clock.today()),
            values=values,
            errors=errors,
            filed=filed,
            mine=await signals.signals_filed_by(h.scope, h.actor.user_id, after=after, before=before),
        )

    @get("/nieuw", guards=[region_role(*FILERS)])
    async def new_signal(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        values = {"gemeld_door": h.person.label}
        filed = request.query_params.get("ingediend") == "1"
        after, before = keyset.cursors(request.query_params)
        context = await self._form_context(h, values=values, errors={}, filed=filed, after=after, before=before)
        return Template("regio/signaal_nieuw.html", context=context)

    @post("/", guards=[region_role(*FILERS)], status_code=HTTP_303_SEE_OTHER)
    async def file_signal(self, request: Request, region_slug: FromPath[str]) -> Response:
        h = await here(request, region_slug)
        form = await request.form()
        values = {name: form_value(form, name)
                  for name in ("gemeld_door", "omschrijving", "aanbieder", "aanbieder_zoek", "gemeente")}  # fmt: skip
        try:
            if values["aanbieder_zoek"]:  # a region too large to list its providers: the form searched
                values["aanbieder"] = await self._one_found(h, values["aanbieder_zoek"], values["aanbieder"])
            signal = await signals.file_signal(
                h.scope,
                actor=h.actor,
                reported_by=values["gemeld_door"],
                description=values["omschrijving"],
                provider_id=values["aanbieder"] or None,
                municipality_id=values["gemeente"] or None,
                clock=h.clock,
            )
        except signals.SignalError as error:
            context = await self._form_context(h, values=values, errors={error.field or "algemeen": str(error)})
            return Template("regio/signaal_nieuw.html", context=context, status_code=422)
        if h.can_decide:
            return Redirect(f"{h.base()}/signalen/{signal.id}", status_code=HTTP_303_SEE_OTHER)
        return Redirect(f"{h.base()}/signalen/nieuw?ingediend=1", status_code=HTTP_303_SEE_OTHER)

    async def _one_found(self, h: Here, typed: str, chosen: str) -> str:
        """The provider chosen among the search's matches, or the one it finds; else the form asks again (a choice
        from an earlier search does not count when the text has changed since)."""
        found = await signals.find_providers(h.scope, typed)
        if chosen in {str(p.id) for p in found}:
            return chosen
        if len(found) == 1:
            return str(found[0].id)
        if not found:
            raise signals.SignalError(f"Geen aanbieder met een contract in deze regio gevonden bij ‘{typed}’. Typ een "
                                      "deel van de naam of het KvK-nummer.", "aanbieder")  # fmt: skip
        raise signals.SignalError(f"Meer dan één aanbieder gevonden bij ‘{typed}’. Kies hieronder de juiste.",
                                  "aanbieder")  # fmt: skip

    async def _triage_context(self, h: Here, signal: Signal, *, values: dict, errors: dict) -> dict:
        provider = await Provider.objects().where(Provider.id == signal.provider).first() if signal.provider else None
        municipality = await h.scope.get(Municipality, signal.municipality) if signal.municipality else None
        ladders = await region_ladders(h.scope)
        open_escalations = await signals.open_escalations_of(h.scope, signal.provider)
        form = triage_form(values, ladders.latest, bool(open_escalations))  # which parts show for what is chosen
        escalation = await h.scope.get(Escalation, signal.escalation) if signal.escalation else None
        return h.context(
            "signalen",
            signal=signal,
            status_nl=signals.STATUS_NL.get(signal.status, signal.status),
            received_nl=nl_datetime(signal.received_at),
            provider=provider,
            municipality=municipality,
            form=form,
            # a case ladder's fields: the region's municipalities today (the signal's own chosen by default)
            case_municipalities=await municipalities_on(h.scope, h.clock.today()) if form["case"] else [],
            reference_label=REFERENCE_LABEL,
            open_escalations=open_escalations,
            escalation=escalation,
            quality_links=await quality_signal_links(h.scope, signal.id) if signal.source == "indicator" else [],
            values=values,
            errors=errors,
        )

    @get("/{signal_id:uuid}", guards=[region_role(*READERS)])
    async def triage_page(self, request: Request, region_slug: FromPath[str], signal_id: FromPath[UUID]) -> Template:
        h = await here(request, region_slug)
        signal = await h.scope.get(Signal, signal_id)
        if signal is None:
            raise NotFoundException()
        municipality = await h.scope.get(Municipality, signal.municipality) if signal.municipality else None
        values = {"samenvatting": signal.description[:300], "gemeente": municipality.cbs_code if municipality else ""}
        return Template("regio/signaal.html", context=await self._triage_context(h, signal, values=values, errors={}))

    @post("/{signal_id:uuid}", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def triage(self, request: Request, region_slug: FromPath[str], signal_id: FromPath[UUID]) -> Response:
        h = await here(request, region_slug)
        signal = await h.scope.get(Signal, signal_id)
        if signal is None:
            raise NotFoundException()
        form = await request.form()
        values = {n: form_value(form, n) for n in TRIAGE_FIELDS}
        values.update({k: form_value(form, k) for k in form if k.startswith(FORM_PREFIX)})  # the letter's fields
        if form_value(form, "verder") or form_value(form, "bewerken") == "ja":
            # one choice made (htmx swaps the form; without JavaScript "Verder" posts it), or back from the letter
            # preview: the form as filled in, with the parts that now apply
            context = await self._triage_context(h, signal, values=values, errors={})
            if is_htmx(request):
                return HTMXBlockTemplate(template_name="regio/signaal.html", block_name="triage", context=context)
            return Template("regio/signaal.html", context=context)
        if values["raakt_dvo"] == "ja" and not values["besluit"] and not await signals.open_escalations_of(
            h.scope, signal.provider
        ):
            values["besluit"] = "nieuw"  # nothing to attach it to: yes means a new escalation
        try:
            if values["raakt_dvo"] == "nee":
                await signals.hand_back(h.scope, signal.id, actor=h.actor, motivation=values["motivering"])
                return Redirect(f"{h.base()}/signalen?teruggelegd=1", status_code=HTTP_303_SEE_OTHER)
            if values["raakt_dvo"] != "ja":
                raise signals.SignalError("Kies of het signaal de DVO raakt.", "raakt_dvo")
            if values["besluit"] == "koppelen":
                _, escalation = await signals.attach_signal(
                    h.scope,
                    signal.id,
                    values["escalatie"] or None,
                    actor=h.actor,
                    motivation=values["motivering"],
                    clock=h.clock,
                )
                notice = "gekoppeld"
            elif values["besluit"] == "nieuw":
                parts = values["categorie"].split("/")
                if len(parts) not in (2, 3):
                    raise signals.SignalError("Kies de ladder en de categorie van de tekortkoming.", "categorie")
                # the start step's letter fields (letter_fields): first the summary as the shortcoming, which the
                # person opening reads in the letter and may change; the letter prints the field, never the summary
                start = await opening_step(h.scope, parts[0], parts[1])
                fields = typed_fields(form, start) if start else {}
                confirmed = form_value(form, "bevestigd") == "ja"
                if start and not confirmed and not any(fields.values()):  # the preview's first showing
                    first = opening_values(start, values["samenvatting"])
                    fields = {k: first.get(k, "") for k in fields}
                values.update({FORM_PREFIX + k: v for k, v in fields.items()})
                _, field_errors = preview_texts(start, fields, h.clock.today()) if start else ({}, {})
                if not confirmed or field_errors:  # opening never sends a letter unseen: preview first
                    summary, motivation = signals.check_opening(values["samenvatting"], values["motivering"])
                    letters = await opening_previews(
                        h.scope, provider_id=signal.provider, ladder_key=parts[0], category=parts[1],
                        subcategory=parts[2] if len(parts) == 3 else "", summary=summary, motivation=motivation,
                        clock=h.clock, fields=fields,
                    )  # fmt: skip
                    if letters:
                        shown = confirmed or form_value(form, "voorbeeld") == "ja"  # errors once the person acted
                        errors = {FORM_PREFIX + k: v for k, v in field_errors.items()} if shown else {}
                        context = await self._triage_context(h, signal, values=values, errors=errors)
                        context["opening_letters"] = [{"key": x.key, "title": x.title, "body": Markup(x.body_html)}
                                                      for x in letters]  # fmt: skip
                        context["opening_fields"] = page_fields(start) if start else []
                        return Template("regio/signaal.html", context=context, status_code=422 if errors else 200)
                _, escalation = await signals.escalate_signal(
                    h.scope, signal.id, actor=h.actor, ladder_key=parts[0], category=parts[1],
                    subcategory=parts[2] if len(parts) == 3 else "", summary=values["samenvatting"],
                    motivation=values["motivering"], municipality=values["gemeente"],
                    case_reference=values["kenmerk"], professionals=values["professionals"], clock=h.clock,
                    letter_fields=fields,
                )  # fmt: skip
                notice = "geopend"
            else:
                raise signals.SignalError("Kies of u een escalatie opent of het signaal koppelt.", "besluit")
        except EscalationError as error:
            field_name = getattr(error, "field", "") or ("motivering" if str(error) == MOTIVATION_REQUIRED else "")
            context = await self._triage_context(h, signal, values=values,
                                                 errors={field_name or "algemeen": str(error)})  # fmt: skip
            if field_name and field_name not in context["form"]["shown"]:  # a part not shown: above the form
                context["errors"] = {"algemeen": str(error)}
            return Template("regio/signaal.html", context=context, status_code=422)
        return Redirect(f"{h.base()}/escalaties/{escalation.id}?melding={notice}", status_code=HTTP_303_SEE_OTHER)
