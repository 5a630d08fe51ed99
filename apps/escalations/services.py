"""The escalation engine: the one place with the rules. Pages, API, workers and the CLI call these functions.

- ``open_escalation``: open on the latest ladder version, at the category's start step.
- ``transition`` / ``close_escalation`` (``transitions.py``): decisions, each with a motivation.
- ``end_measure``: lift a measure in force (purchasing team lead).
- deadlines (``deadlines.py``): ``meet_deadlines_for_document`` and, for the sweep, ``due_deadlines``;
  ``act_on_missed_deadline`` (``transitions.py``: a missed term's actions may move the step); changing one term by
  hand (``term_changes.py``): ``suspend_deadline``, ``resume_deadline``, ``extend_deadline``.
- ``add_note`` (internal), ``post_message`` (shared), ``timeline`` (newest first).

Every change appends timeline events (``append_event``; never updated or deleted), decisions also write an
audit entry, all in one write transaction, and all region-owned rows go through ``RegionScope``.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from apps.accounts.roles import DECIDES, PROVIDER_ROLES
from apps.escalations import cases, notices
from apps.escalations.actions import ActionRun, end_measure_in_context
from apps.escalations.context import (
    INTERNAL,
    SHARED,
    Context,
    EscalationError,
    append_event,
    imposes_measures,
    load_context,
    load_region,
    require_decides,
    require_imposes_measures,
    require_motivation,
)
from apps.escalations.deadlines import DueDeadline, create_step_deadlines, due_deadlines
from apps.escalations.letter_fields import checked_letter_fields, letter_texts
from apps.escalations.receipts import expected_kinds, record_receipt
from apps.escalations.tables import Escalation, Measure, TimelineEvent
from apps.escalations.term_changes import extend_deadline, resume_deadline, suspend_deadline
from apps.escalations.transitions import (
    TransitionResult,
    act_on_missed_deadline,
    apply_actions,
    close_escalation,
    close_in_context,
    meet_deadlines_for_document,
    transition,
)
from apps.ladders.schema import LadderSpec
from apps.ladders.services import latest_version
from apps.ladders.tables import Ladder
from apps.providers.tables import Contract, Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import AMSTERDAM, Clock, system_clock
from core.tenancy import RegionScope
from core.transactions import write_transaction

__all__ = [
    "INTERNAL",
    "SHARED",
    "DueDeadline",
    "EscalationError",
    "TransitionResult",
    "act_on_missed_deadline",
    "add_note",
    "append_event",
    "close_escalation",
    "due_deadlines",
    "end_measure",
    "expected_kinds",
    "extend_deadline",
    "meet_deadlines_for_document",
    "open_escalation",
    "post_message",
    "record_receipt",
    "resume_deadline",
    "suspend_deadline",
    "timeline",
    "transition",
]

MAX_TEXT = 10_000  # notes and messages


async def next_reference(scope: RegionScope, region: Region, clock: Clock) -> str:
    """The next number of the region's year (ZL-2026-0007). Call inside the write transaction: on PostgreSQL a
    per-region transaction lock makes two openings at once wait for each other instead of taking the same number
    (SQLite's BEGIN IMMEDIATE already lets one writer at a time)."""
    engine = engine_finder()
    if engine.engine_type == "postgres":
        await engine.run_querystring(
            QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", f"escalation-reference:{region.id}")
        )
    prefix = "".join(part[0] for part in region.slug.split("-")).upper()
    year = clock.today().year
    count = await scope.count(Escalation).where(Escalation.reference.like(f"{prefix}-{year}-%"))
    return f"{prefix}-{year}-{count + 1:04d}"


async def open_escalation(
    scope: RegionScope,
    *,
    provider: Provider,
    ladder_key: str,
    category: str,
    subcategory: str = "",
    summary: str,
    motivation: str,
    actor: Actor,
    contract: Contract | None = None,
    municipality: str | UUID | None = None,
    case_reference: str = "",
    professionals: str = "",
    financial: bool = False,
    clock: Clock = system_clock,
    letter_fields: Mapping[str, str] | None = None,
) -> Escalation:
    """Open an escalation on the latest version of the region's ladder, at the category's start step: its
    terms become deadlines and its actions run. The escalation keeps that version for life.

    On a case ladder (``[case]``, a dispute about one case) it records the case: ``municipality`` (CBS code or id,
    of the region today), the access team's pseudonymous ``case_reference`` (never a BSN or a name), the
    discussion point (``subcategory``), the ``professionals`` involved and whether it is a ``financial`` disagreement
    (``cases.checked_case``). A provider opens a dispute from the portal through ``disputes.open_by_provider``.

    ``letter_fields``: the fields of the start step's letters (``letter_fields``: the shortcoming a request for a
    plan of action names ...), refused per field (LetterFieldsError) when one is missing or wrong; the summary is
    the team's own and never goes into a letter."""
    require_decides(actor, "een escalatie openen")
    async with write_transaction():
        return await open_in_transaction(
            scope, provider=provider, ladder_key=ladder_key, category=category, subcategory=subcategory,
            summary=summary, motivation=motivation, actor=actor, contract=contract, municipality=municipality,
            case_reference=case_reference, professionals=professionals, financial=financial, clock=clock,
            letter_fields=letter_fields,
        )  # fmt: skip


async def open_in_transaction(
    scope: RegionScope,
    *,
    provider: Provider,
    ladder_key: str,
    category: str,
    subcategory: str,
    summary: str,
    motivation: str,
    actor: Actor,
    contract: Contract | None,
    municipality: str | UUID | None,
    case_reference: str,
    professionals: str,
    financial: bool,
    clock: Clock,
    letter_fields: Mapping[str, str] | None = None,
) -> Escalation:
    """``open_escalation`` inside the caller's write transaction; the caller checked who may open it."""
    region = await load_region(scope)
    ladder = await scope.objects(Ladder).where(Ladder.key == ladder_key).first()
    version = await latest_version(scope, ladder) if ladder is not None else None
    if version is None:
        raise EscalationError(f"Deze regio heeft geen ladder '{ladder_key}'.")
    spec = LadderSpec.model_validate(version.definition)
    found = [c for c in spec.categories if c.key == category]
    if not found:
        raise EscalationError(f"De ladder '{spec.name}' kent de categorie '{category}' niet.")
    if subcategory and subcategory not in found[0].subcategories:
        raise EscalationError(f"De categorie '{found[0].title}' kent '{subcategory}' niet.")
    case = await cases.checked_case(
        scope, spec, found[0], subcategory=subcategory, municipality=municipality, reference=case_reference,
        professionals=professionals, day=clock.today(), financial=financial,
    )  # fmt: skip
    require_motivation(spec, motivation)
    motivation = (motivation or "").strip()
    step = spec.step(found[0].start_step)
    if imposes_measures(step):
        require_imposes_measures(actor, f"de startstap '{step.title}' doet dat")
    if contract is not None and (str(contract.region) != str(scope.region_id) or contract.provider != provider.id):
        raise EscalationError("Dit contract hoort niet bij deze aanbieder in deze regio.")
    fields = checked_letter_fields(step, letter_fields, clock.now().astimezone(AMSTERDAM).date())
    escalation = scope.new(
        Escalation,
        reference=await next_reference(scope, region, clock),
        provider=provider.id,
        contract=contract.id if contract is not None else None,
        ladder_version=version.id,
        category=category,
        subcategory=subcategory,
        current_step=step.key,
        status="open",
        summary=summary,
        case_municipality=case.municipality.id if case else None,
        case_reference=case.reference if case else "",
        case_professionals=case.professionals if case else "",
        case_financial=case.financial if case else False,
        opened_at=clock.now(),
    )
    await escalation.save()
    ctx = Context(scope, escalation, version, spec, region, clock)
    created, skipped = ([], []) if step.final else await create_step_deadlines(ctx, step)
    await ctx.event(
        "escalatie_geopend",
        actor=actor,
        motivation=motivation,
        payload={
            "ladder": spec.key,
            "versie": version.version,
            "stap": step.key,
            "stap_titel": step.title,
            "categorie": category,
            "subcategorie": subcategory,
            **(
                {
                    "casus": {
                        "gemeente": case.municipality.cbs_code,
                        "gemeente_naam": case.municipality.name,
                        "kenmerk": case.reference,
                        "professionals": case.professionals,
                        "financieel": case.financial,
                    }
                }
                if case
                else {}
            ),
            "nieuwe_termijnen": created,
            "overgeslagen_termijnen": skipped,
            **({"brief_velden": fields} if fields else {}),
        },
    )
    await ctx.audit(
        "escalation.open",
        actor=actor,
        detail={
            "ladder": spec.key,
            "versie": version.version,
            "categorie": category,
            "motivering": motivation,
            **({"gemeente": case.municipality.cbs_code, "kenmerk": case.reference} if case else {}),
            **({"brief_velden": fields} if fields else {}),
        },
    )
    run = ActionRun(ctx=ctx, actor=actor, step=step, motivation=motivation,
                    reason=f"escalatie geopend in stap '{step.title}'", letter_fields=letter_texts(fields))
    await apply_actions(run, step.on_enter)
    if step.final and not ctx.is_closed:
        await close_in_context(ctx, outcome=step.outcome or step.key, motivation=motivation, actor=actor, step=step)
    return await scope.get(Escalation, escalation.id)


async def end_measure(
    scope: RegionScope,
    escalation_id: UUID | str,
    measure: str,
    *,
    actor: Actor,
    motivation: str,
    clock: Clock = system_clock,
) -> Measure:
    """Lift a measure in force (also after the escalation closed), by a purchasing team lead, with a
    motivation. Refused when no such measure is in force."""
    require_decides(actor, "een maatregel opheffen")
    require_imposes_measures(actor, "een maatregel opheffen")
    async with write_transaction():
        ctx = await load_context(scope, escalation_id, clock)
        require_motivation(ctx.spec, motivation)
        ended = await end_measure_in_context(ctx, measure, actor=actor, motivation=motivation.strip(), explicit=True)
        assert ended is not None
        return ended


def _clean_text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise EscalationError(f"{what} mag niet leeg zijn.")
    if len(text) > MAX_TEXT:
        raise EscalationError(f"{what} mag ten hoogste {MAX_TEXT} tekens lang zijn.")
    return text


async def add_note(
    scope: RegionScope, escalation_id: UUID | str, *, actor: Actor, text: str, clock: Clock = system_clock
) -> TimelineEvent:
    """An internal note of the purchasing team: never shown to the provider."""
    require_decides(actor, "interne notities maken")
    text = _clean_text(text, "Een notitie")
    async with write_transaction():
        ctx = await load_context(scope, escalation_id, clock)
        return await ctx.event("notitie", actor=actor, visibility=INTERNAL, payload={"tekst": text})


async def post_message(
    scope: RegionScope, escalation_id: UUID | str, *, actor: Actor, text: str, clock: Clock = system_clock
) -> TimelineEvent:
    """A message both sides see: from the purchasing team, or from a user of the escalation's provider."""
    text = _clean_text(text, "Een bericht")
    async with write_transaction():
        ctx = await load_context(scope, escalation_id, clock)
        if actor.provider_id is not None and not actor.is_system:
            if actor.provider_id != ctx.escalation.provider or not actor.roles & PROVIDER_ROLES:
                raise EscalationError("U mag geen berichten plaatsen bij deze escalatie.")
            side = "aanbieder"
        elif actor.has_any(DECIDES):
            side = "regio"
        else:
            raise EscalationError("U mag geen berichten plaatsen bij deze escalatie.")
        event = await ctx.event("bericht", actor=actor, visibility=SHARED, payload={"van": side, "tekst": text})
        await notices.message_posted(ctx, event, side, text, actor.label)  # the other side hears of it
        return event


async def timeline(
    scope: RegionScope,
    escalation_id: UUID | str,
    *,
    include_internal: bool,
    before_sequence: int | None = None,
    limit: int = 50,
) -> list[TimelineEvent]:
    """The escalation's events, newest first; ``before_sequence`` pages back. Providers get
    ``include_internal=False``: internal notes and internal events are left out."""
    try:
        row_id = UUID(str(escalation_id))
    except ValueError:
        return []
    limit = max(1, min(int(limit), 200))
    query = scope.objects(TimelineEvent).where(TimelineEvent.escalation == row_id)
    if not include_internal:
        query = query.where(TimelineEvent.visibility == SHARED)
    if before_sequence is not None:
        query = query.where(TimelineEvent.sequence < before_sequence)
    return await query.order_by(TimelineEvent.sequence, ascending=False).limit(limit)
