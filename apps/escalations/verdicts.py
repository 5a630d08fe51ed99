"""Verdicts on what a provider delivered (issue 18 point 4): the purchasing team judges a document of an escalation
(a plan van aanpak, a verbeterplan, a reactie) "akkoord" or "niet akkoord" with a reason, and an item of the
evidence register the provider delivered for the escalation (``judge_evidence``, called by ``apps.evidence``).

The verdict is a shared timeline event, audited, and told to the provider's people (in the app and by mail). Akkoord
leaves the term the document met as it is. Niet akkoord reopens that term in the current step: it is open again,
counted anew from the verdict in the region's calendar (``deadlines.reopen_met_terms``), so the provider must
deliver again; a new delivery meets it as before (``meet_deadlines_for_document``). A term belongs to its step: once
the escalation has moved on, a refusal reopens no term of an earlier step (the timeline says so; the team takes a
step if the refusal calls for one). Nor does a refusal of a document when a newer one of its kind came in since:
the newer one stands for the term until it is judged itself (the timeline says so).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apps.documents.tables import Document
from apps.escalations import notices
from apps.escalations.context import EscalationConflict, EscalationError, load_context, require_decides
from apps.escalations.deadlines import MET, meet_terms_again, reopen_met_terms
from apps.escalations.tables import Deadline, TimelineEvent
from apps.ladders.schema import DOCUMENT_NAMES
from core.actor import Actor
from core.clock import Clock, system_clock
from core.tenancy import RegionScope
from core.transactions import write_transaction

ACCEPTED, REJECTED = "akkoord", "niet_akkoord"
VERDICTS = {ACCEPTED: "Akkoord", REJECTED: "Niet akkoord"}
JUDGED_KINDS = ("plan_van_aanpak", "verbeterplan", "reactie", "arrangement")  # what a provider delivers
TEMPLATE = "document_beoordeeld"
EVENT = "document_beoordeeld"
REASON_REQUIRED = "Geef een reden: waarom is het document niet akkoord? De aanbieder leest die."
CHOOSE = "Kies akkoord of niet akkoord."


async def judge_document(
    scope: RegionScope,
    escalation_id: UUID | str,
    document_id: UUID | str,
    *,
    verdict: str,
    reason: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> TimelineEvent:
    """Record the team's verdict on one delivered document; niet akkoord reopens the terms it met."""
    require_decides(actor, "een document beoordelen")
    reason = (reason or "").strip()
    if verdict not in VERDICTS:
        raise EscalationError(CHOOSE)
    if verdict == REJECTED and not reason:
        raise EscalationError(REASON_REQUIRED)
    if len(reason) > 4000:
        raise EscalationError("De reden mag ten hoogste 4000 tekens lang zijn.")
    async with write_transaction():
        ctx = await load_context(scope, escalation_id, clock)
        document = await scope.get(Document, document_id)
        if document is None or document.escalation != ctx.escalation.id or document.kind not in JUDGED_KINDS:
            raise EscalationError("Dit document hoort niet bij deze escalatie.")
        if ctx.is_closed:
            raise EscalationConflict(f"Escalatie {ctx.escalation.reference} is afgesloten.")
        reopened: list[dict[str, Any]] = []
        newer = await _newer_delivered(ctx, document)
        if verdict == REJECTED and not newer:
            reopened = await _reopen_terms(ctx, document.kind, reason, actor)
        name = DOCUMENT_NAMES.get(document.kind, document.kind)
        event = await ctx.event(
            EVENT,
            actor=actor,
            motivation=reason,
            payload={
                "document": document.kind,
                "document_naam": name,
                "document_id": str(document.id),
                "bestandsnaam": document.original_filename,
                "oordeel": verdict,
                "oordeel_tekst": VERDICTS[verdict],
                "termijnen_heropend": reopened,
                "nieuwer_document": newer,
            },
        )
        await ctx.audit("document.verdict", actor=actor, detail={
            "document": str(document.id), "soort": document.kind, "oordeel": verdict, "reden": reason,
            "termijnen_heropend": [t["termijn"] for t in reopened]})  # fmt: skip
        due = next((t["vervaldatum_tekst"] for t in reopened), "")
        payload = {"escalatie": ctx.escalation.reference, "escalation_id": str(ctx.escalation.id),
                   "regio": ctx.region.name, "document_naam": name, "bestandsnaam": document.original_filename,
                   "oordeel_tekst": VERDICTS[verdict], "reden": reason, "nieuwe_vervaldatum": due}  # fmt: skip
        await notices.tell_provider(ctx, event, TEMPLATE, payload)
        return event


async def _newer_delivered(ctx, document: Document) -> bool:
    """A document of the same kind was delivered for this escalation after this one."""
    return await ctx.scope.exists(Document).where(
        (Document.escalation == ctx.escalation.id) & (Document.kind == document.kind)
        & (Document.uploaded_at > document.uploaded_at)
    )  # fmt: skip


async def _reopen_terms(ctx, kind: str, reason: str, actor: Actor) -> list[dict[str, Any]]:
    """The current step's terms this kind of document met go back to open, their due date counted from now."""
    met = await ctx.scope.objects(Deadline).where(
        (Deadline.escalation == ctx.escalation.id)
        & (Deadline.met_by == f"document:{kind}")
        & (Deadline.step == ctx.escalation.current_step)
        & (Deadline.status == MET)
    )
    reopened, _ = await reopen_met_terms(ctx, met, because="document niet akkoord", actor=actor, motivation=reason,
                                         payload={"document": kind})  # fmt: skip
    return reopened


async def verdicts_of(scope: RegionScope, escalation_id: UUID | str) -> dict[str, dict[str, Any]]:
    """The latest verdict on each document of the escalation (document id -> verdict, reason, who, when)."""
    rows = await (
        scope.select(TimelineEvent, TimelineEvent.payload, TimelineEvent.motivation, TimelineEvent.actor_label,
                     TimelineEvent.occurred_at)
        .where((TimelineEvent.escalation == escalation_id) & (TimelineEvent.kind == EVENT))
        .order_by(TimelineEvent.sequence)
    )  # fmt: skip
    return verdicts_from(rows)


def verdicts_from(rows: list[dict]) -> dict[str, dict[str, Any]]:
    """``verdicts_of`` from the escalation's ``document_beoordeeld`` events as a page read them (in sequence)."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        payload = row["payload"] or {}
        found[str(payload.get("document_id"))] = {
            "verdict": payload.get("oordeel", ""), "text": payload.get("oordeel_tekst", ""),
            "reason": row["motivation"], "by": row["actor_label"], "at": row["occurred_at"]}  # fmt: skip
    return found


EVIDENCE_EVENT = "bewijs_beoordeeld"
EVIDENCE_TEMPLATE = "bewijs_beoordeeld"
EVIDENCE_KIND = "bewijsstuk"  # the ladder's document kind an evidence item delivers


async def judge_evidence(
    scope: RegionScope,
    escalation_id: UUID | str,
    *,
    evidence_id: str,
    name: str,
    accepted: bool,
    verdict_text: str,
    reason: str,
    met_deadlines: list[str],
    actor: Actor,
    clock: Clock = system_clock,
) -> TimelineEvent | None:
    """The region's verdict on an evidence item the provider delivered for this escalation (``name``: what it is, in
    Dutch, "VOG medewerker van J. Jansen"): a shared ``bewijs_beoordeeld`` event, audited, told to the provider.
    Rejected: the terms the delivery met (``met_deadlines``) reopen in the current step; accepted after such a
    rejection: they are met again. None when the escalation is closed meanwhile (the register keeps the verdict)."""
    require_decides(actor, "bewijs beoordelen")
    async with write_transaction():
        ctx = await load_context(scope, escalation_id, clock)
        if ctx.is_closed:
            return None
        deadlines = []
        if met_deadlines:
            deadlines = await scope.objects(Deadline).where(
                (Deadline.escalation == ctx.escalation.id) & Deadline.id.is_in([UUID(i) for i in met_deadlines])
            )
        detail = {"document": EVIDENCE_KIND, "bewijs_id": evidence_id}
        reopened: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        met: list[dict[str, Any]] = []
        if accepted:
            met = await meet_terms_again(ctx, deadlines, actor=actor, payload=detail)
        else:
            reopened, kept = await reopen_met_terms(ctx, deadlines, because="bewijs afgewezen", actor=actor,
                                                    motivation=reason, payload=detail)  # fmt: skip
        event = await ctx.event(
            EVIDENCE_EVENT,
            actor=actor,
            motivation=reason,
            payload={**detail, "naam": name, "oordeel_tekst": verdict_text, "geaccepteerd": accepted,
                     "termijnen_heropend": reopened, "termijnen_gehaald": met,
                     "termijnen_eerdere_stap": kept},  # fmt: skip
        )
        await ctx.audit("evidence.verdict", actor=actor, detail={
            "bewijs": evidence_id, "oordeel": verdict_text, "reden": reason,
            "termijnen_heropend": [t["termijn"] for t in reopened],
            "termijnen_gehaald": [t["termijn"] for t in met]})  # fmt: skip
        payload = {"escalatie": ctx.escalation.reference, "escalation_id": str(ctx.escalation.id),
                   "regio": ctx.region.name, "naam": name, "oordeel_tekst": verdict_text, "reden": reason,
                   "nieuwe_vervaldatum": next((t["vervaldatum_tekst"] for t in reopened), "")}  # fmt: skip
        await notices.tell_provider(ctx, event, EVIDENCE_TEMPLATE, payload)
        return event
