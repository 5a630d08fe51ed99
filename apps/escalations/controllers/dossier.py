"""The dossier of an escalation, built in the background (``apps.escalations.dossier_requests``).

``POST …/dossier`` ("Dossier maken" on the escalation page) asks for it and answers at once: without JavaScript a
redirect to the page, whose dossier block says "wordt gemaakt"; with htmx the block itself, which then asks
``GET …/dossier`` every few seconds until the dossier is ready. The worker stores it as a document (download via
``/regio/<slug>/documenten/<id>``) and puts a notice under the requester's bell.

``GET …/dossier.pdf`` (the old address, kept for links and bookmarks) downloads the newest built dossier, or, when
none was built yet, leads to the page's dossier block. It builds nothing in the request.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import region_role
from apps.documents.controllers import download_response
from apps.escalations.dossier_requests import dossier_state, newest_dossier, request_dossier
from apps.escalations.views import load_escalation
from apps.escalations.workspace import READERS, Here, here, is_htmx

PART = "regio/_dossier.html"


class DossierPages(Controller):
    path = "/regio/{region_slug:str}/escalaties"
    include_in_schema = False

    # The escalation page's read rule: whoever may read the escalation may ask for its dossier and download it.
    @post("/{escalation_id:uuid}/dossier", guards=[region_role(*READERS)], status_code=HTTP_303_SEE_OTHER)
    async def ask(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)  # 404 for another region's escalation
        await request_dossier(h.scope, loaded.escalation.id, h.actor, h.clock)
        if is_htmx(request):
            return await self._part(h, loaded.escalation.id, status_code=200)
        return Redirect(f"{h.base()}/escalaties/{loaded.escalation.id}?melding=dossier#dossier",
                        status_code=HTTP_303_SEE_OTHER)  # fmt: skip

    @get("/{escalation_id:uuid}/dossier", guards=[region_role(*READERS)])
    async def state(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        """The page's dossier block as it is now (htmx polls it while a dossier is being made)."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        if not is_htmx(request):  # a person who opens the address gets the page, at the block
            return Redirect(f"{h.base()}/escalaties/{loaded.escalation.id}#dossier", status_code=HTTP_303_SEE_OTHER)
        return await self._part(h, loaded.escalation.id)

    @get("/{escalation_id:uuid}/dossier.pdf", guards=[region_role(*READERS)])
    async def export(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        document = await newest_dossier(h.scope, loaded.escalation.id)
        if document is None:
            return Redirect(f"{h.base()}/escalaties/{loaded.escalation.id}#dossier", status_code=HTTP_303_SEE_OTHER)
        return download_response(request, document.object_key, document.original_filename, document.content_type,
                                 document.size)  # fmt: skip

    async def _part(self, h: Here, escalation_id: UUID, status_code: int = 200) -> Template:
        context = {
            "dossier": await dossier_state(h.scope, escalation_id),
            "base": h.base(),
            "url": f"{h.base()}/escalaties/{escalation_id}",
        }
        return Template(PART, context=context, status_code=status_code)
