"""Dossier requests: a team member asks for the dossier of an escalation, the worker builds it in the background.

The request is a ``DossierRequest`` row (requested → building → ready | failed), written in its own transaction;
once that commits the ``build_dossier`` actor (``apps.escalations.dossier_jobs``) is handed the row's id. One
waiting request per person and escalation: asking again (a double click) gives that one. The worker claims the
row (compare-and-set, so two workers or the sweep never build it twice), builds the PDF
(``apps.escalations.dossier``), stores it as a ``Document`` of kind "dossier" on the escalation, audits
``dossier.export`` and puts an in-app notice under the bell of the requester and of everyone else who asked
before the build started (their requests are served by the same dossier; who asked later gets a fresh build).
The page shows the state and the newest dossier's download link (``dossier_state``).

The dossier holds internal notes, so its document has no provider: ``ProviderScope`` never finds it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from apps.documents.tables import Document, DossierRequest
from apps.notifications.inapp import add_for_people
from apps.tenancy.tables import Region
from core.actor import Actor
from core.audit import audit
from core.clock import Clock
from core.formatting import nl_datetime, size_nl
from core.messages import send_by_name
from core.tenancy import RegionScope, RegionsScope
from core.transactions import after_commit, write_transaction

KIND = "dossier"
ACTOR = "build_dossier"
NOTICE = "dossier_klaar"
WAITING = ("requested", "building")
STATUS_NL = {
    "requested": "Aangevraagd: het dossier wordt zo gemaakt",
    "building": "Wordt gemaakt",
    "ready": "Klaar",
    "failed": "Mislukt",
}
FAILED_NL = "Het dossier kon niet worden gemaakt. Vraag het opnieuw aan; lukt het weer niet, meld het dan aan beheer."
# A request still waiting this long lost its message (a restart of the in-process broker): the sweep sends it again.
RESEND_AFTER = timedelta(minutes=2)
# A build this old was cut off (the worker stopped): the sweep hands it to a worker again.
BUILD_LEASE = timedelta(minutes=15)


def hand_to_worker(region_id: UUID, request_id: UUID) -> None:
    """Hand the request to a worker once the transaction in progress commits (the sweep is the safety net)."""
    region, row = str(region_id), str(request_id)
    after_commit(lambda: send_by_name(ACTOR, region, row))


async def request_dossier(scope: RegionScope, escalation_id: UUID, actor: Actor, clock: Clock) -> DossierRequest:
    """This person's waiting request for this escalation, or a new one handed to the worker."""
    mine = (
        DossierRequest.requested_by.is_null() if actor.user_id is None else DossierRequest.requested_by == actor.user_id
    )
    async with write_transaction():
        waiting = await (
            scope.objects(DossierRequest)
            .where((DossierRequest.escalation == escalation_id) & DossierRequest.status.is_in(list(WAITING)) & mine)
            .order_by(DossierRequest.requested_at, ascending=False)
            .first()
        )
        if waiting is not None:
            return waiting
        request = scope.new(
            DossierRequest, escalation=escalation_id, requested_by=actor.user_id, requested_by_label=actor.label,
            requested_at=clock.now(), status="requested",
        )  # fmt: skip
        await request.save()
        hand_to_worker(scope.region_id, request.id)
    return request


async def newest_dossier(scope: RegionScope, escalation_id: UUID) -> Document | None:
    return await (
        scope.objects(Document)
        .where((Document.escalation == escalation_id) & (Document.kind == KIND))
        .order_by(Document.uploaded_at, ascending=False)
        .first()
    )


async def dossier_state(
    scope: RegionScope, escalation_id: UUID, documents: list[Document] | None = None
) -> dict[str, Any]:
    """What the escalation page shows: the latest request (its state in Dutch) and the newest built dossier
    (found in ``documents``, the escalation's documents newest first, when the page read them already)."""
    request = await (
        scope.objects(DossierRequest)
        .where(DossierRequest.escalation == escalation_id)
        .order_by(DossierRequest.requested_at, ascending=False)
        .first()
    )
    if documents is None:
        document = await newest_dossier(scope, escalation_id)
    else:
        document = next((doc for doc in documents if doc.kind == KIND), None)
    return {
        "status": request.status if request else "",
        "status_nl": STATUS_NL.get(request.status, request.status) if request else "",
        "waiting": bool(request and request.status in WAITING),
        "requested_at": nl_datetime(request.requested_at) if request else "",
        "requested_by": request.requested_by_label if request else "",
        "error": request.error if request and request.status == "failed" else "",
        "document": {
            "id": str(document.id),
            "filename": document.original_filename,
            "size": size_nl(document.size or 0),
            "sha256": document.sha256,
            "when": nl_datetime(document.uploaded_at),
        }
        if document
        else None,
    }


async def claim(scope: RegionScope, request_id: UUID, clock: Clock) -> DossierRequest | None:
    """Take a waiting request to build (None: another worker has it, or it is done)."""
    async with write_transaction():
        taken = (
            await scope.update(
                DossierRequest, {DossierRequest.status: "building", DossierRequest.started_at: clock.now()}
            )
            .where((DossierRequest.id == request_id) & (DossierRequest.status == "requested"))
            .returning(DossierRequest.id)
        )
    if not taken:
        return None
    return await scope.get(DossierRequest, request_id)


async def record_built(
    scope: RegionScope, request: DossierRequest, *, reference: str, filename: str, stored, pdf_size: int,
    clock: Clock, page_path: str,
) -> Document:  # fmt: skip
    """In one transaction: the document, the request ready (and the others of the escalation asked for before the
    build started), the audit entry and a notice for each of their requesters."""
    now = clock.now()
    async with write_transaction():
        served = await scope.select(DossierRequest, DossierRequest.id, DossierRequest.requested_by).where(
            (DossierRequest.escalation == request.escalation)
            & (
                (DossierRequest.id == request.id)
                | ((DossierRequest.status == "requested") & (DossierRequest.requested_at <= request.started_at))
            )
        )
        document = scope.new(
            Document, escalation=request.escalation, kind=KIND, object_key=stored.key, original_filename=filename,
            content_type="application/pdf", size=stored.size or pdf_size, sha256=stored.sha256,
            uploaded_by=request.requested_by, uploaded_at=now,
        )  # fmt: skip
        await document.save()
        await scope.update(
            DossierRequest,
            {DossierRequest.status: "ready", DossierRequest.finished_at: now, DossierRequest.document: document.id},
        ).where(DossierRequest.id.is_in([row["id"] for row in served]))
        await audit(
            "dossier.export", region_id=scope.region_id, actor_id=request.requested_by,
            actor_label=request.requested_by_label, target_type="escalation", target_id=str(request.escalation),
            detail={"kenmerk": reference, "sha256": stored.sha256, "grootte": document.size,
                    "document_id": str(document.id), "aanvraag": str(request.id)},
            clock=clock,
        )  # fmt: skip
        payload = {"escalatie": reference, "escalation_id": str(request.escalation), "pad": page_path,
                   "bestandsnaam": filename, "document_id": str(document.id)}  # fmt: skip
        people = sorted({row["requested_by"] for row in served if row["requested_by"] is not None}, key=str)
        await add_for_people(scope, people, template=NOTICE, payload=payload, key=f"dossier:{document.id}",
                             clock=clock)  # fmt: skip
    return document


async def record_failed(scope: RegionScope, request_id: UUID, clock: Clock) -> None:
    async with write_transaction():
        await scope.update(
            DossierRequest,
            {DossierRequest.status: "failed", DossierRequest.finished_at: clock.now(), DossierRequest.error: FAILED_NL},
        ).where(DossierRequest.id == request_id)


async def stale_requests(clock: Clock) -> list[tuple[UUID, UUID]]:
    """FOR THE SWEEP ONLY: (region id, request id) of the requests whose message was lost or whose build was cut
    off, in every active region (one query across them: an idle sweep costs one statement here); a cut-off build
    is put back to "requested" through its region's scope so that a worker can claim it again."""
    now = clock.now()
    regions = [region["id"] for region in await Region.select(Region.id).where(Region.active == True)]  # noqa: E712
    lost = (DossierRequest.status == "requested") & (DossierRequest.requested_at < now - RESEND_AFTER)
    cut_off = (DossierRequest.status == "building") & (DossierRequest.started_at < now - BUILD_LEASE)
    rows = await RegionsScope(regions).select(
        DossierRequest, DossierRequest.region, DossierRequest.id, DossierRequest.status
    ).where(lost | cut_off)  # fmt: skip
    found: list[tuple[UUID, UUID]] = []
    for row in rows:
        scope = RegionScope(row["region"])
        if row["status"] == "building":
            await scope.update(DossierRequest, {DossierRequest.status: "requested"}).where(
                (DossierRequest.id == row["id"]) & (DossierRequest.status == "building")
            )
        found.append((scope.region_id, row["id"]))
    return found
