"""The dossier download: one escalation as a single PDF (built in ``apps.escalations.dossier``), audited."""

from __future__ import annotations

import hashlib
from uuid import UUID

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Response

from apps.accounts.guards import region_role
from apps.escalations.dossier import build_dossier, dossier_pdf
from apps.escalations.workspace import READERS, here
from core.audit import audit


class DossierPages(Controller):
    path = "/regio/{region_slug:str}/escalaties"
    include_in_schema = False

    # The escalation page's read rule: whoever may read the escalation may export its dossier.
    @get("/{escalation_id:uuid}/dossier.pdf", guards=[region_role(*READERS)])
    async def export(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        h = await here(request, region_slug)
        dossier = await build_dossier(h, escalation_id)
        pdf = await dossier_pdf(dossier)
        await audit(
            "dossier.export", region_id=h.region.id, actor_id=h.actor.user_id, actor_label=h.actor.label,
            target_type="escalation", target_id=str(escalation_id),
            detail={"kenmerk": dossier.reference, "sha256": hashlib.sha256(pdf).hexdigest(), "grootte": len(pdf)},
            clock=h.clock,
        )  # fmt: skip
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{dossier.filename}"',
            "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})  # fmt: skip
