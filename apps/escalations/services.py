"""Opening escalations and writing their timeline. The rules live here, not in pages, API or workers.

(The full engine — transitions, measures, suspension — grows here; see issue "Escalation engine".)
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apps.escalations.tables import Deadline, Escalation, TimelineEvent
from apps.ladders.deadlines import due_date_for, region_calendar
from apps.ladders.schema import LadderSpec
from apps.ladders.tables import Ladder, LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.clock import Clock, system_clock
from core.tenancy import RegionScope

SHARED = "shared"
INTERNAL = "internal"


class EscalationError(ValueError):
    """A request the rules refuse; the message is Dutch and shown to the user."""


async def append_event(
    scope: RegionScope,
    escalation_id: UUID,
    kind: str,
    *,
    visibility: str = SHARED,
    actor_id: UUID | None = None,
    actor_label: str = "",
    motivation: str = "",
    payload: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> TimelineEvent:
    """Append one event. Call inside a write transaction: the sequence number is the next free one."""
    last = (
        await scope.select(TimelineEvent, TimelineEvent.sequence)
        .where(TimelineEvent.escalation == escalation_id)
        .order_by(TimelineEvent.sequence, ascending=False)
        .first()
    )
    event = scope.new(
        TimelineEvent,
        escalation=escalation_id,
        sequence=(last["sequence"] if last else 0) + 1,
        kind=kind,
        visibility=visibility,
        actor=actor_id,
        actor_label=actor_label,
        occurred_at=clock.now(),
        motivation=motivation,
        payload=payload or {},
    )
    await event.save()
    return event


async def next_reference(scope: RegionScope, region: Region, clock: Clock) -> str:
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
    actor_id: UUID | None = None,
    actor_label: str = "",
    clock: Clock = system_clock,
) -> Escalation:
    """Open an escalation on the latest version of the region's ladder, at the category's start step."""
    region = await Region.objects().where(Region.id == scope.region_id).output(load_json=True).first()
    ladder = await scope.objects(Ladder).where(Ladder.key == ladder_key).first()
    if region is None or ladder is None:
        raise EscalationError(f"Deze regio heeft geen ladder '{ladder_key}'.")
    version = (
        await scope.objects(LadderVersion)
        .where(LadderVersion.ladder == ladder.id)
        .order_by(LadderVersion.version, ascending=False)
        .first()
    )
    spec = LadderSpec.model_validate(version.definition)
    found = [c for c in spec.categories if c.key == category]
    if not found:
        raise EscalationError(f"De ladder '{spec.name}' kent de categorie '{category}' niet.")
    if subcategory and subcategory not in found[0].subcategories:
        raise EscalationError(f"De categorie '{found[0].title}' kent '{subcategory}' niet.")
    if spec.motivation_required and not motivation.strip():
        raise EscalationError("Geef een motivering: elk besluit wordt met motivering vastgelegd.")
    step = spec.step(found[0].start_step)
    escalation = scope.new(
        Escalation,
        reference=await next_reference(scope, region, clock),
        provider=provider.id,
        ladder_version=version.id,
        category=category,
        subcategory=subcategory,
        current_step=step.key,
        status="open",
        summary=summary,
        opened_at=clock.now(),
    )
    await escalation.save()
    await append_event(
        scope,
        escalation.id,
        "escalatie_geopend",
        actor_id=actor_id,
        actor_label=actor_label,
        motivation=motivation,
        clock=clock,
        payload={
            "ladder": spec.key,
            "versie": version.version,
            "stap": step.key,
            "stap_titel": step.title,
            "categorie": category,
            "subcategorie": subcategory,
        },
    )
    calendar = region_calendar(region.settings)
    for term in step.terms:
        due = due_date_for(clock.now(), term.term, calendar)
        await scope.new(
            Deadline,
            escalation=escalation.id,
            step=step.key,
            key=term.key,
            term=term.term,
            starts_at=clock.now(),
            due_at=due.due_at,
            reasons=list(due.reasons),
        ).save()
    return escalation
