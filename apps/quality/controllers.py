"""Quality figures on the web: the region's benchmark pages and export, and the provider portal's own page.

Region (``/regio/{slug}/kwaliteit``, team inkoop and waarnemer): per indicator a provider against its own history,
against the region's other providers (median, P25–P75) and against the norm, as SVG charts with tables; the figure
page (versions, signals); a CSV export per indicator and period.
Portal (``/portaal/kwaliteit``): the provider's own figures with the anonymised regional median, a form per period
and a CSV upload (all rows or none). Plain forms: POST, then a 303 back (PRG); errors at the field, with what was
typed. Thin: the rules are in ``services``, the numbers in ``benchmark``.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import region_role
from apps.escalations.workspace import READERS, form_value, here
from apps.portal.controllers import PORTAL_GUARD, portal_context, set_flash, take_flash
from apps.providers.tables import Provider
from apps.quality import benchmark, charts, services
from apps.quality.indicators import (
    UNIT_LABELS,
    active_indicators,
    closed_periods,
    fmt,
    indicator_by_key,
    last_closed_period,
    norm_of,
    parse_period,
    period_label,
)
from apps.quality.tables import QualityFigure
from apps.tenancy.tables import Region
from core.csvexport import CsvSheet, csv_response
from core.formatting import nl_datetime
from core.tenancy import ProviderScope, ScopeError

PERIOD_NL = {"kwartaal": "per kwartaal", "jaar": "per jaar"}


def _clock(request: Request):
    return request.app.state.clock


# --- region ------------------------------------------------------------------------------------------------------


class QualityPages(Controller):
    path = "/regio/{region_slug:str}/kwaliteit"
    include_in_schema = False

    @get("/", guards=[region_role(*READERS)])
    async def overview(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        rows = await benchmark.region_overview(h.scope, _clock(request).today())
        return Template("kwaliteit/index.html", context=h.context("kwaliteit", rows=rows, units=UNIT_LABELS, fmt=fmt,
                                                                   period_nl=PERIOD_NL))  # fmt: skip

    @get("/indicatoren/{indicator_key:str}", guards=[region_role(*READERS)])
    async def indicator(self, request: Request, region_slug: FromPath[str], indicator_key: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        indicator = await indicator_by_key(h.scope, indicator_key)
        if indicator is None:
            raise NotFoundException()
        today = _clock(request).today()
        periods = benchmark.periods_for(indicator, today)
        period = parse_period(request.query_params.get("periode", ""), indicator.period)
        if period not in periods:
            period = last_closed_period(indicator.period, today)
        bench = await benchmark.benchmark(h.scope, indicator, period)
        providers = {str(r["provider_id"]): r["name"] for r in bench["rows"]}
        chosen = request.query_params.get("aanbieder", "")
        if chosen not in providers:  # the first provider with a figure, else the first provider
            with_figure = [r for r in bench["rows"] if r["value"] is not None]
            chosen = str((with_figure or bench["rows"])[0]["provider_id"]) if bench["rows"] else ""
        chosen_id = UUID(chosen) if chosen else None
        points = await benchmark.history(h.scope, indicator, chosen_id, periods)
        norm = norm_of(indicator)
        unit_nl = UNIT_LABELS.get(indicator.unit, indicator.unit)
        context = h.context(
            "kwaliteit",
            indicator=indicator, period=period, period_label=period_label(period), periods=periods,
            period_labels={p: period_label(p) for p in periods}, bench=bench, spread=bench["spread"],
            providers=providers, chosen=chosen, chosen_name=providers.get(chosen, ""), points=points,
            norm_text=norm.text(indicator.unit) if norm else "geen norm", unit_nl=unit_nl, fmt=fmt,
            benchmark_svg=charts.benchmark_chart(
                "grafiek-vergelijking", f"{indicator.name}, {period_label(period)}: aanbieders vergeleken",
                bench["rows"], bench["spread"], norm, indicator.unit, highlight=chosen_id,
            ),
            history_svg=charts.history_chart(
                "grafiek-verloop", f"{indicator.name}: {providers.get(chosen, 'aanbieder')} door de tijd",
                points, norm, indicator.unit, own_label=providers.get(chosen, "aanbieder"),
            ),
        )  # fmt: skip
        return Template("kwaliteit/indicator.html", context=context)

    @get("/export.csv", guards=[region_role(*READERS)])
    async def export(self, request: Request, region_slug: FromPath[str]) -> Response:
        """For the municipal councils' questions: every contracted provider's figure of one indicator and period."""
        h = await here(request, region_slug)
        indicator = await indicator_by_key(h.scope, request.query_params.get("indicator", ""))
        if indicator is None:
            raise NotFoundException()
        period = parse_period(request.query_params.get("periode", ""), indicator.period) or last_closed_period(
            indicator.period, _clock(request).today()
        )
        bench = await benchmark.benchmark(h.scope, indicator, period)
        provider_kvk = {
            p["id"]: p["kvk_number"]
            for p in await Provider.select(Provider.id, Provider.kvk_number).where(
                Provider.id.is_in([r["provider_id"] for r in bench["rows"]] or [UUID(int=0)])
            )
        }
        norm = norm_of(indicator)
        # The dialect of every export (core.csvexport): figures as numbers with a decimal comma, names as text.
        sheet = CsvSheet(["regio", "indicator", "naam", "periode", "aanbieder", "kvk", "waarde", "eenheid", "norm",
                          "beoordeling", "te_laat"])  # fmt: skip
        for row in bench["rows"]:
            state = row["norm_state"] or ("niet aangeleverd" if row["value"] is None else "")
            sheet.row((
                h.region.name, indicator.key, indicator.name, period, row["name"],
                provider_kvk.get(row["provider_id"], ""), row["value"], indicator.unit,
                norm.text(indicator.unit) if norm else "", state, row["late"],
            ))  # fmt: skip
        spread = bench["spread"]
        if spread:
            for label, value in (("mediaan", spread.median), ("P25", spread.p25), ("P75", spread.p75)):
                sheet.row((h.region.name, indicator.key, indicator.name, period, f"regio: {label}", "",
                           round(value, 2), indicator.unit, "", "", ""))  # fmt: skip
        return csv_response(sheet.take(), f"kwaliteit-{indicator.key}-{period}-{h.region.slug}.csv")

    @get("/cijfers/{quality_figure_id:uuid}", guards=[region_role(*READERS)])
    async def figure(self, request: Request, region_slug: FromPath[str], quality_figure_id: FromPath[UUID]) -> Template:
        h = await here(request, region_slug)
        found = await services.figure_with_history(h.scope, quality_figure_id)
        if found is None:
            raise NotFoundException()
        indicator = found["indicator"]
        versions = [{
            "id": v.id, "value_nl": fmt(v.value, indicator.unit), "note": v.note, "status": v.status,
            "when": nl_datetime(v.submitted_at), "by": v.submitted_by_label, "late": v.late, "source": v.source,
        } for v in found["versions"]]  # fmt: skip
        norm = norm_of(indicator)
        figure = found["figure"]
        return Template("kwaliteit/cijfer.html", context=h.context(
            "kwaliteit", found=found, indicator=indicator, figure=figure, versions=versions,
            value_nl=fmt(figure.value, indicator.unit), period_label=period_label(figure.period),
            norm_text=norm.text(indicator.unit) if norm else "geen norm",
            norm_state=("binnen de norm" if norm.holds(figure.value) else "buiten de norm") if norm else "",
            due_text=services.describe_due(figure), reasons=services.REASONS_NL,
        ))  # fmt: skip


# --- portal --------------------------------------------------------------------------------------------------------


async def _regions_of(scope: ProviderScope) -> list[dict]:
    if not scope.region_ids:
        return []
    return (
        await Region.select(Region.id, Region.slug, Region.name)
        .where(Region.id.is_in(list(scope.region_ids)))
        .order_by(Region.name)
    )


def _period_choices(today) -> list[tuple[str, str]]:
    quarters = list(reversed(closed_periods("kwartaal", today, 4)))
    years = list(reversed(closed_periods("jaar", today, 2)))
    return [(p, period_label(p)) for p in quarters + years]


class PortalQualityController(Controller):
    path = "/portaal/kwaliteit"
    include_in_schema = False
    guards = [PORTAL_GUARD]

    async def _page(self, request: Request, scope: ProviderScope, *, csv_errors: list | None = None,
                    values: dict | None = None, status_code: int = 200) -> Template:  # fmt: skip
        today = _clock(request).today()
        overview = await benchmark.provider_overview(scope, today)
        for region in overview:
            for item in region["indicators"]:
                item["svg"] = charts.history_chart(
                    f"grafiek-{region['region']['slug']}-{item['indicator'].key}",
                    f"{item['indicator'].name}: uw cijfers en de mediaan van {region['region']['name']}",
                    item["points"], norm_of(item["indicator"]), item["indicator"].unit, own_label="uw organisatie",
                )  # fmt: skip
        provider = await Provider.objects().where(Provider.id == scope.provider_id).first()
        return Template("portaal/kwaliteit.html", context={
            "provider_name": provider.name if provider else "", "overview": overview, "units": UNIT_LABELS,
            "period_nl": PERIOD_NL, "regions": await _regions_of(scope), "periods": _period_choices(today),
            "csv_errors": csv_errors or [], "values": values or {},
            "flash": take_flash(request) if status_code == 200 else "",
            "min_providers": benchmark.MIN_PROVIDERS_FOR_MEDIAN, "columns": services.CSV_COLUMNS,
        }, status_code=status_code)  # fmt: skip

    @get("/")
    async def overview(self, request: Request) -> Template:
        scope, _ = await portal_context(request)
        return await self._page(request, scope)

    async def _form(
        self, request: Request, scope: ProviderScope, region_slug: str, period: str, *,
        values: dict | None = None, errors: dict | None = None, status_code: int = 200,
    ) -> Template:  # fmt: skip
        today = _clock(request).today()
        regions = await _regions_of(scope)
        region = next((r for r in regions if r["slug"] == region_slug), regions[0] if regions else None)
        choices = _period_choices(today)
        if period not in dict(choices):
            period = choices[0][0]
        fields = []
        if region is not None:
            region_scope = scope.region_scope(region["id"])
            kind = "kwartaal" if "-K" in period else "jaar"
            for indicator in await active_indicators(region_scope):
                if indicator.derived_from or indicator.period != kind:
                    continue
                current = await region_scope.objects(QualityFigure).where(
                    (QualityFigure.provider == scope.provider_id) & (QualityFigure.indicator == indicator.id)
                    & (QualityFigure.period == period) & (QualityFigure.status == services.CURRENT)
                ).first()  # fmt: skip
                norm = norm_of(indicator)
                fields.append({
                    "indicator": indicator, "current": current, "unit_nl": UNIT_LABELS.get(indicator.unit, ""),
                    "current_nl": fmt(current.value, indicator.unit) if current else "",
                    "norm_text": norm.text(indicator.unit) if norm else "",
                    "locked": bool(current) and await services.region_has_acted(
                        region_scope, scope.provider_id, indicator.id, period),
                })  # fmt: skip
        if values is None:
            values = {}
            for f in fields:
                if f["current"]:
                    values[f"waarde_{f['indicator'].key}"] = fmt(f["current"].value).replace(".", "")
                    values[f"toelichting_{f['indicator'].key}"] = f["current"].note
        provider = await Provider.objects().where(Provider.id == scope.provider_id).first()
        return Template("portaal/kwaliteit_aanleveren.html", context={
            "provider_name": provider.name if provider else "", "regions": regions, "region": region,
            "periods": choices, "period": period, "period_label": period_label(period), "fields": fields,
            "values": values, "errors": errors or {},
        }, status_code=status_code)  # fmt: skip

    @get("/aanleveren")
    async def form(self, request: Request) -> Template:
        scope, _ = await portal_context(request)
        return await self._form(request, scope, request.query_params.get("regio", ""),
                                request.query_params.get("periode", ""))  # fmt: skip

    @post("/aanleveren", status_code=HTTP_303_SEE_OTHER)
    async def submit(self, request: Request) -> Response:
        scope, actor = await portal_context(request)
        form = await request.form()
        region_slug, period = form_value(form, "regio"), form_value(form, "periode")
        values = {k: form_value(form, k) for k in form if k.startswith(("waarde_", "toelichting_"))}
        regions = {r["slug"]: r for r in await _regions_of(scope)}
        region = regions.get(region_slug)
        if region is None:
            raise NotFoundException()
        region_scope = scope.region_scope(region["id"])
        today = _clock(request).today()
        entries, errors = [], {}
        for indicator in await active_indicators(region_scope):
            typed = values.get(f"waarde_{indicator.key}", "")
            if f"waarde_{indicator.key}" not in values or (
                not typed and not values.get(f"toelichting_{indicator.key}")
            ):
                continue  # not on this form, or left empty
            try:
                entries.append(services.check_entry(indicator, period, typed,
                                                    values.get(f"toelichting_{indicator.key}", ""), today))  # fmt: skip
            except services.FigureError as exc:
                errors[exc.field] = exc.message
        if not entries and not errors:
            errors["algemeen"] = "Vul ten minste één cijfer in."
        if not errors:
            try:
                results = await services.submit_figures(
                    scope, region["id"], entries, actor=actor, clock=_clock(request)
                )
            except services.FigureError as exc:
                errors[exc.field] = exc.message
            except ScopeError:
                raise NotFoundException() from None
        if errors:
            return await self._form(request, scope, region_slug, period, values=values, errors=errors,
                                    status_code=422)  # fmt: skip
        set_flash(request, _summary_text(services.summarise(results), region["name"], period_label(period)))
        return Redirect("/portaal/kwaliteit", status_code=HTTP_303_SEE_OTHER)

    @post("/csv", status_code=HTTP_303_SEE_OTHER)
    async def upload_csv(self, request: Request) -> Response:
        scope, actor = await portal_context(request)
        form = await request.form()
        region_slug = form_value(form, "regio")
        values = {"regio": region_slug}
        regions = {r["slug"]: r for r in await _regions_of(scope)}
        region = regions.get(region_slug)
        upload = form.get("bestand")
        if region is None:
            return await self._page(request, scope, csv_errors=["Kies de regio waarvoor u de cijfers aanlevert."],
                                    values=values, status_code=422)  # fmt: skip
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._page(request, scope, csv_errors=["Kies een CSV-bestand."], values=values,
                                    status_code=422)  # fmt: skip
        content = await upload.read(services.MAX_CSV_BYTES + 1)
        region_scope = scope.region_scope(region["id"])
        indicators = {i.key: i for i in await active_indicators(region_scope)}
        try:
            entries = services.parse_csv(content, indicators, _clock(request).today())
            results = await services.submit_figures(scope, region["id"], entries, actor=actor, source="csv",
                                                    clock=_clock(request))  # fmt: skip
        except services.CsvRefused as exc:
            return await self._page(request, scope, csv_errors=[str(e) for e in exc.errors], values=values,
                                    status_code=422)  # fmt: skip
        except services.FigureError as exc:
            return await self._page(request, scope, csv_errors=[exc.message], values=values, status_code=422)
        set_flash(request, _summary_text(services.summarise(results), region["name"], upload.filename))
        return Redirect("/portaal/kwaliteit", status_code=HTTP_303_SEE_OTHER)


def _summary_text(summary: services.SubmitSummary, region_name: str, what: str) -> str:
    parts = [f"{region_name}, {what}: {summary.stored} {'cijfer' if summary.stored == 1 else 'cijfers'} vastgelegd"]
    if summary.corrected:
        parts.append(f"waarvan {summary.corrected} gecorrigeerd (de eerdere waarde blijft bewaard)")
    if summary.unchanged:
        parts.append(f"{summary.unchanged} ongewijzigd")
    if summary.late:
        parts.append(f"{summary.late} na de uiterste datum: vastgelegd als te laat")
    return "; ".join(parts) + "."


def quality_controllers() -> list:
    return [QualityPages, PortalQualityController]
