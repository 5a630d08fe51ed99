"""Deliveries the region received outside the portal (issue: who meets which term).

A provider may send its plan of action by mail or hand it over in the quarterly talk. The purchasing team
records that receipt -- what, on which day, through which channel -- and it counts as a delivery: it meets
the current step's terms that wait for that kind of document (so their automatic follow-up stops) and starts
the terms that count from it. The receipt is on the shared timeline, so the provider sees what was recorded.
"""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

from apps.documents.tables import Document
from apps.documents.uploads import ReceivedFile
from apps.escalations.context import EscalationError, load_context, require_decides
from apps.escalations.deadlines import MISSED, OPEN, SUSPENDED, WAITING, local_date
from apps.escalations.tables import Deadline
from apps.escalations.transitions import meet_deadlines_for_document
from apps.ladders.calendar import AMSTERDAM, format_date_nl
from apps.ladders.schema import DOCUMENT_NAMES
from core.actor import Actor
from core.clock import Clock, system_clock
from core.tenancy import RegionScope
from core.transactions import write_transaction

CHANNELS = {
    "email": "per e-mail",
    "post": "per post",
    "overleg": "in een overleg (bijvoorbeeld het kwartaalgesprek)",
    "telefoon": "telefonisch",
    "anders": "op een andere manier",
}
NOTE_MAX = 1000


async def expected_kinds(scope: RegionScope, escalation_id: UUID | str, current_step: str) -> dict[str, str]:
    """The document kinds the current step's terms wait for or are met by: what a receipt can be of."""
    rows = await scope.select(Deadline, Deadline.met_by, Deadline.starts).where(
        (Deadline.escalation == escalation_id)
        & (Deadline.step == current_step)
        & Deadline.status.is_in(RECEIVABLE)
        & Deadline.met_at.is_null()
    )
    return kinds_from(rows)


RECEIVABLE = [WAITING, OPEN, SUSPENDED, MISSED]


def kinds_from(rows: list[dict]) -> dict[str, str]:
    """``expected_kinds`` from the current step's unmet deadlines in those states, read already (met_by, starts)."""
    kinds = []
    for row in rows:
        for value in (row["met_by"], row["starts"]):
            if value.startswith("document:") and value[9:] not in kinds:
                kinds.append(value[9:])
    return {kind: DOCUMENT_NAMES.get(kind, kind) for kind in kinds}


async def record_receipt(
    scope: RegionScope,
    escalation_id: UUID | str,
    *,
    kind: str,
    received_on: date,
    channel: str,
    note: str = "",
    received: ReceivedFile | None = None,
    actor: Actor,
    clock: Clock = system_clock,
) -> list[Deadline]:
    """Record that the region received a document of ``kind`` on ``received_on`` outside the portal. Returns the
    deadlines it met. Refused (EscalationError, Dutch) for an unknown kind or channel, a day in the future or
    before the escalation was opened, and a closed escalation. ``received``: the file as it came in (already in
    storage, ``apps.documents.uploads``), kept as the escalation's document of that kind; on a refusal the caller
    deletes the object."""
    require_decides(actor, "een ontvangst vastleggen")
    if channel not in CHANNELS:
        raise EscalationError("Kies hoe het document is ontvangen.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise EscalationError(f"De toelichting is te lang (ten hoogste {NOTE_MAX} tekens).")
    today = local_date(clock.now())
    if received_on > today:
        raise EscalationError("De ontvangstdatum ligt in de toekomst.")
    async with write_transaction():  # the receipt and the terms it meets or starts: together or not at all
        ctx = await load_context(scope, escalation_id, clock)
        if ctx.is_closed:
            raise EscalationError(f"Escalatie {ctx.escalation.reference} is afgesloten.")
        opened_on = local_date(ctx.escalation.opened_at)
        if received_on < opened_on:
            raise EscalationError(
                f"De ontvangstdatum ligt vóór de opening van de escalatie ({format_date_nl(opened_on)})."
            )
        if kind not in await expected_kinds(scope, ctx.escalation.id, ctx.escalation.current_step):
            raise EscalationError("In deze stap wacht geen termijn op dit soort document.")
        # Received on a day: it counts from the start of that Dutch day (on time on the due date itself), and
        # never later than now.
        at = min(datetime.combine(received_on, time(0), AMSTERDAM), clock.now())
        document = None
        if received is not None:
            document = scope.new(
                Document, provider=ctx.escalation.provider, escalation=ctx.escalation.id, kind=kind,
                object_key=received.key, original_filename=received.original_filename,
                content_type=received.content_type, size=received.size, sha256=received.sha256,
                uploaded_by=actor.user_id, uploaded_at=clock.now(),
            )  # fmt: skip
            await document.save()
        file = {"document_id": str(document.id), "bestandsnaam": received.original_filename,
                "grootte": received.size, "sha256": received.sha256} if document and received else {}  # fmt: skip
        await ctx.event(
            "ontvangst_vastgelegd",
            actor=actor,
            motivation=note,
            payload={
                "document": kind,
                "document_naam": DOCUMENT_NAMES.get(kind, kind),
                "ontvangen_op": received_on.isoformat(),
                "kanaal": channel,
                "kanaal_tekst": CHANNELS[channel],
                **file,
            },
        )
        await ctx.audit(
            "escalation.record_receipt",
            actor=actor,
            detail={"document": kind, "ontvangen_op": received_on.isoformat(), "kanaal": channel,
                    **({"sha256": received.sha256, "grootte": received.size} if received else {})},
        )  # fmt: skip
        return await meet_deadlines_for_document(
            scope, ctx.escalation.id, kind, at, actor=actor, recorded_at=clock.now()
        )
