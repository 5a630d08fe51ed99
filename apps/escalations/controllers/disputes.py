"""The disputes pages of a region (issue 15 point 2): ``/regio/<slug>/geschillen`` lists the disputes about one case
and ``/regio/<slug>/geschillen/<id>`` shows one with the actions of the reader's side. The team (and the observer,
read-only) read every dispute of the region; a municipality's people (a role held for that municipality) read and
act on their municipality's disputes only, through ``MunicipalityScope`` -- another municipality's dispute is a
404. Rules in ``apps.escalations.disputes``, the page in ``dispute_views``, the file in ``dispute_file``.

Every form works without JavaScript: POST, then a redirect to the page with a notice (PRG); a refusal shows the page
again (422) with the Dutch error next to its field and what was typed.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import region_role_or_municipality
from apps.documents.controllers import download_response
from apps.documents.tables import Document
from apps.escalations import dispute_file, disputes
from apps.escalations.dispute_views import dispute_list, dispute_view
from apps.escalations.workspace import READERS, Here, form_value, here
from core import keyset
from core.tenancy import MunicipalityScope

GUARD = region_role_or_municipality(*READERS)
NOTICES = {
    "standpunt": "Uw standpunt staat op de tijdlijn; de andere partij heeft bericht.",
    "oplossing": "Het staat op tafel en op de tijdlijn; de partijen hebben bericht.",
    "akkoord": "Uw antwoord staat op de tijdlijn; de andere partij heeft bericht.",
    "opgeschaald": "Opgeschaald: de stap is gezet en op de tijdlijn vastgelegd.",
    "subcommissie": "De subcommissie is gekozen en op de tijdlijn vastgelegd.",
    "geschildossier": "Het geschildossier is gemaakt; u downloadt het hieronder.",
}


def reading_scope(h: Here) -> Any:
    """The team and the observer read the region's disputes; a municipality's people their municipality's only."""
    if h.reads_escalations:
        return h.scope
    return MunicipalityScope.for_person(h.person, h.region.id)


class DisputePages(Controller):
    path = "/regio/{region_slug:str}/geschillen"
    include_in_schema = False
    guards = [GUARD]

    @get("/")
    async def disputes_list(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        after, before = keyset.cursors(request.query_params)
        found = await dispute_list(reading_scope(h), f"{h.base()}/geschillen", after=after, before=before)
        return Template("geschil/lijst.html", context=h.context("geschillen", **found))

    @get("/{escalation_id:uuid}")
    async def dispute_page(self, request: Request, region_slug: FromPath[str],
                           escalation_id: FromPath[UUID]) -> Template:  # fmt: skip
        h = await here(request, region_slug)
        notice = NOTICES.get(request.query_params.get("melding", ""), "")
        return await self._page(h, escalation_id, notice=notice)

    async def _page(self, h: Here, escalation_id: UUID, *, notice: str = "", values: dict | None = None,
                    errors: dict | None = None, status_code: int = 200) -> Template:  # fmt: skip
        base = f"{h.base()}/geschillen/{escalation_id}"
        try:
            view = await dispute_view(reading_scope(h), escalation_id, h.actor, base, document_url=f"{base}/documenten")
        except disputes.DisputeNotFound:
            raise NotFoundException() from None
        context = h.context("geschillen", **view, notice=notice, values=values or {}, errors=errors or {}, url=base)
        return Template("geschil/geschil.html", context=context, status_code=status_code)

    @get("/{escalation_id:uuid}/documenten/{document_id:uuid}")
    async def download(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID],
                       document_id: FromPath[UUID]) -> Response:  # fmt: skip
        """A document both parties see (a dispute file, the provider's delivery, a letter), read through the reader's
        scope: a municipality's people only their municipality's."""
        h = await here(request, region_slug)
        document = await reading_scope(h).get(Document, document_id)
        if document is None or document.escalation != escalation_id or document.provider is None:
            raise NotFoundException()
        return download_response(request, document.object_key, document.original_filename, document.content_type,
                                 document.size)  # fmt: skip

    async def _act(self, request: Request, region_slug: str, escalation_id: UUID, notice: str, fields: list[str],
                   action) -> Response:  # fmt: skip
        h = await here(request, region_slug)
        form = await request.form()
        values = {name: form_value(form, name) for name in fields}
        try:
            await action(reading_scope(h), h, values)
        except disputes.DisputeNotFound:
            raise NotFoundException() from None
        except disputes.DisputeError as exc:
            return await self._page(h, escalation_id, values=values, errors={exc.field or "algemeen": str(exc)},
                                    status_code=422)  # fmt: skip
        return Redirect(f"{h.base()}/geschillen/{escalation_id}?melding={notice}#melding",
                        status_code=HTTP_303_SEE_OTHER)  # fmt: skip

    @post("/{escalation_id:uuid}/standpunt", status_code=HTTP_303_SEE_OTHER)
    async def position(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, h, values):
            await disputes.record_position(scope, escalation_id, actor=h.actor, text=values["standpunt"], clock=h.clock)

        return await self._act(request, region_slug, escalation_id, "standpunt", ["standpunt"], act)

    @post("/{escalation_id:uuid}/oplossing", status_code=HTTP_303_SEE_OTHER)
    async def solution(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, h, values):
            text = values["besluit"] or values["advies"] or values["voorstel"]
            await disputes.put_solution(scope, escalation_id, actor=h.actor, text=text, clock=h.clock)

        return await self._act(request, region_slug, escalation_id, "oplossing", ["besluit", "advies", "voorstel"], act)

    @post("/{escalation_id:uuid}/akkoord", status_code=HTTP_303_SEE_OTHER)
    async def answer(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, h, values):
            if values["akkoord"] not in ("ja", "nee"):
                raise disputes.DisputeError("Kies of u akkoord bent met de oplossing.", "akkoord")
            await disputes.answer(scope, escalation_id, actor=h.actor, agrees=values["akkoord"] == "ja",
                                  reason=values["toelichting"], clock=h.clock)  # fmt: skip

        return await self._act(request, region_slug, escalation_id, "akkoord", ["akkoord", "toelichting"], act)

    @post("/{escalation_id:uuid}/opschalen", status_code=HTTP_303_SEE_OTHER)
    async def scale_up(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        async def act(scope, h, values):
            await disputes.scale_up(scope, escalation_id, actor=h.actor, motivation=values["motivering"],
                                    subcommittee=values["subcommissie"], clock=h.clock)  # fmt: skip

        return await self._act(request, region_slug, escalation_id, "opgeschaald", ["motivering", "subcommissie"], act)

    @post("/{escalation_id:uuid}/subcommissie", status_code=HTTP_303_SEE_OTHER)
    async def subcommittee(self, request: Request, region_slug: FromPath[str],
                           escalation_id: FromPath[UUID]) -> Response:  # fmt: skip
        async def act(scope, h, values):
            await disputes.choose_subcommittee(scope, escalation_id, actor=h.actor, subcommittee=values["subcommissie"],
                                               clock=h.clock)  # fmt: skip

        return await self._act(request, region_slug, escalation_id, "subcommissie", ["subcommissie"], act)

    @post("/{escalation_id:uuid}/geschildossier", status_code=HTTP_303_SEE_OTHER)
    async def dispute_file(self, request: Request, region_slug: FromPath[str],
                           escalation_id: FromPath[UUID]) -> Response:  # fmt: skip
        async def act(scope, h, values):
            await dispute_file.make_file(scope, escalation_id, actor=h.actor, clock=h.clock)

        return await self._act(request, region_slug, escalation_id, "geschildossier", [], act)

