"""The provider's side of a dispute about one case (seed 001, issue 15 point 2), in the portal: ``/portaal/geschillen/
nieuw`` opens one for a municipality of a region where the organisation has a running contract; on the escalation
page (``/portaal/escalaties/<id>``, block ``geschil/_geschil.html``) the provider states its position, answers the
solution on the table, proposes one where it may, scales up ("los op of schaal op"), chooses the subcommittee and
makes the dispute file. Everything is read through ``ProviderScope`` (its own organisation's disputes only); the
rules are ``apps.escalations.disputes``'s.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.escalations import dispute_file, disputes
from apps.escalations.tables import Escalation
from apps.portal.controllers import PORTAL_GUARD, _provider_name, escalation_template, portal_context, set_flash
from core.clock import system_clock

OPEN_FIELDS = ("gemeente", "discussiepunt", "kenmerk", "professionals", "samenvatting", "standpunt", "financieel")
FLASH = {
    "standpunt": "Uw standpunt staat op de tijdlijn; de gemeente heeft bericht.",
    "oplossing": "Uw voorstel staat op tafel en op de tijdlijn; de gemeente heeft bericht.",
    "akkoord": "Uw antwoord staat op de tijdlijn; de gemeente heeft bericht.",
    "opgeschaald": "Opgeschaald: de stap is gezet en op de tijdlijn vastgelegd.",
    "subcommissie": "De subcommissie is gekozen en op de tijdlijn vastgelegd.",
    "geschildossier": "Het geschildossier is gemaakt; u downloadt het hieronder.",
}


def _clock(request: Request):
    return getattr(request.app.state, "clock", None) or system_clock


def _value(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def open_form(request: Request, scope, *, values: dict | None = None, errors: dict | None = None,
                    status_code: int = 200) -> Template:  # fmt: skip
    options = await disputes.dispute_ladders_for(scope, _clock(request).today())
    points: dict[str, str] = {}
    for option in options:
        for category in option.spec.categories:
            points.update(category.subcategories)
    financial = sorted({key for option in options for key in (option.spec.dispute.financial or [])})
    return Template("geschil/nieuw.html", context={
        "provider_name": await _provider_name(scope), "options": options, "points": list(points.items()),
        "financial_points": [points[k] for k in financial if k in points], "values": values or {},
        "errors": errors or {},
        "notice": options[0].spec.dispute.financial_notice if options else "",
    }, status_code=status_code)  # fmt: skip


class PortalDisputeController(Controller):
    path = "/portaal/geschillen"
    include_in_schema = False
    guards = [PORTAL_GUARD]

    @get("/nieuw")
    async def new(self, request: Request) -> Template:
        scope, _ = await portal_context(request)
        return await open_form(request, scope)

    @post("/", status_code=HTTP_303_SEE_OTHER)
    async def open(self, request: Request) -> Response:
        scope, actor = await portal_context(request)
        form = await request.form()
        values = {name: _value(form, name) for name in OPEN_FIELDS}
        try:
            escalation = await disputes.open_by_provider(
                scope, actor=actor, place=values["gemeente"], subcategory=values["discussiepunt"],
                reference=values["kenmerk"], professionals=values["professionals"], summary=values["samenvatting"],
                position=values["standpunt"], financial=values["financieel"] == "ja", clock=_clock(request),
            )  # fmt: skip
        except disputes.DisputeError as exc:
            return await open_form(request, scope, values=values, errors={exc.field or "algemeen": str(exc)},
                                   status_code=422)  # fmt: skip
        set_flash(request, f"Het geschil {escalation.reference} is geopend; de gemeente heeft bericht.")
        return Redirect(f"/portaal/escalaties/{escalation.id}#geschil", status_code=HTTP_303_SEE_OTHER)

    async def _act(self, request: Request, escalation_id: UUID, flash: str, fields: list[str], action) -> Response:
        scope, actor = await portal_context(request)
        escalation = await scope.get(Escalation, escalation_id)
        if escalation is None or not escalation.case_municipality:
            raise NotFoundException()
        form = await request.form()
        values = {name: _value(form, name) for name in fields}
        try:
            await action(scope, actor, values)
        except disputes.DisputeNotFound:
            raise NotFoundException() from None
        except disputes.DisputeError as exc:
            return await escalation_template(request, scope, escalation, values=values,
                                             errors={exc.field or "algemeen": str(exc)}, status_code=422)  # fmt: skip
        set_flash(request, FLASH[flash])
        return Redirect(f"/portaal/escalaties/{escalation.id}#geschil", status_code=HTTP_303_SEE_OTHER)

    @post("/{escalation_id:uuid}/standpunt", status_code=HTTP_303_SEE_OTHER)
    async def position(self, request: Request, escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, actor, values):
            await disputes.record_position(scope, escalation_id, actor=actor, text=values["standpunt"],
                                           clock=_clock(request))  # fmt: skip

        return await self._act(request, escalation_id, "standpunt", ["standpunt"], act)

    @post("/{escalation_id:uuid}/oplossing", status_code=HTTP_303_SEE_OTHER)
    async def solution(self, request: Request, escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, actor, values):
            await disputes.put_solution(scope, escalation_id, actor=actor, text=values["voorstel"],
                                        clock=_clock(request))  # fmt: skip

        return await self._act(request, escalation_id, "oplossing", ["voorstel"], act)

    @post("/{escalation_id:uuid}/akkoord", status_code=HTTP_303_SEE_OTHER)
    async def answer(self, request: Request, escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, actor, values):
            if values["akkoord"] not in ("ja", "nee"):
                raise disputes.DisputeError("Kies of u akkoord bent met de oplossing.", "akkoord")
            await disputes.answer(scope, escalation_id, actor=actor, agrees=values["akkoord"] == "ja",
                                  reason=values["toelichting"], clock=_clock(request))  # fmt: skip

        return await self._act(request, escalation_id, "akkoord", ["akkoord", "toelichting"], act)

    @post("/{escalation_id:uuid}/opschalen", status_code=HTTP_303_SEE_OTHER)
    async def scale_up(self, request: Request, escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, actor, values):
            await disputes.scale_up(scope, escalation_id, actor=actor, motivation=values["motivering"],
                                    subcommittee=values["subcommissie"], clock=_clock(request))  # fmt: skip

        return await self._act(request, escalation_id, "opgeschaald", ["motivering", "subcommissie"], act)

    @post("/{escalation_id:uuid}/subcommissie", status_code=HTTP_303_SEE_OTHER)
    async def subcommittee(self, request: Request, escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, actor, values):
            await disputes.choose_subcommittee(scope, escalation_id, actor=actor, subcommittee=values["subcommissie"],
                                               clock=_clock(request))  # fmt: skip

        return await self._act(request, escalation_id, "subcommissie", ["subcommissie"], act)

    @post("/{escalation_id:uuid}/geschildossier", status_code=HTTP_303_SEE_OTHER)
    async def dispute_file(self, request: Request, escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, actor, values):
            await dispute_file.make_file(scope, escalation_id, actor=actor, clock=_clock(request))

        return await self._act(request, escalation_id, "geschildossier", [], act)
