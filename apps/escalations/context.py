"""What every escalation service shares: the error, the timeline writer, loading an escalation with its own
ladder version, role checks and the audit call. Rules live in the service modules that use these."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from piccolo.engine import engine_finder

from apps.accounts.roles import DECIDES, IMPOSES_MEASURES
from apps.escalations.tables import Escalation, TimelineEvent
from apps.ladders.calendar import DutchCalendar
from apps.ladders.deadlines import region_calendar
from apps.ladders.schema import EndMeasure, LadderSpec, StartMeasure, StepSpec, TermSpec
from apps.ladders.tables import LadderVersion
from apps.tenancy.tables import Region
from core.actor import Actor
from core.audit import audit
from core.clock import Clock, system_clock
from core.tenancy import RegionScope

SHARED = "shared"
INTERNAL = "internal"

MEASURE_LABELS = {
    "instroomstop": "instroomstop",
    "clientenstop": "cliëntenstop",
    "overdracht_clienten": "verplichte overdracht van cliënten",
    "terugvordering": "terugvordering",
    "verrekening": "verrekening met toekomstige declaraties",
    "boete": "boete",
    "ontbinding": "ontbinding",
    "opzegging": "beëindiging (opzegging)",
}

MOTIVATION_REQUIRED = "Geef een motivering: elk besluit wordt met motivering vastgelegd."


class EscalationError(ValueError):
    """A request the rules refuse; the message is Dutch and shown to the user (the API answers 422)."""


class EscalationConflict(EscalationError):
    """Refused because of the state, not the request: already done, closed, or changed meanwhile (API: 409)."""


def notification_key(event_id: Any, recipient: str) -> str:
    """Deterministic outbox key: the same notice for the same event is never queued twice."""
    return f"{event_id}:{hashlib.sha256(recipient.encode()).hexdigest()[:32]}"


async def append_event(
    scope: RegionScope,
    escalation_id: UUID,
    kind: str,
    *,
    visibility: str = SHARED,
    actor: Actor | None = None,
    actor_id: UUID | None = None,
    actor_label: str = "",
    motivation: str = "",
    payload: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    clock: Clock = system_clock,
) -> TimelineEvent:
    """Append one event. Call inside a write transaction: the sequence number is the next free one.

    The timeline is append-only: there is no function that updates or deletes an event.
    """
    if visibility not in (SHARED, INTERNAL):
        raise ValueError(f"unknown visibility {visibility!r}")
    if actor is not None:
        actor_id, actor_label = actor.user_id, actor.label
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
        idempotency_key=idempotency_key,
    )
    await event.save()
    return event


@dataclass
class Context:
    """An escalation loaded for a change, with the ladder version it runs on (never the latest)."""

    scope: RegionScope
    escalation: Escalation
    version: LadderVersion
    spec: LadderSpec
    region: Region
    clock: Clock
    # Addresses that already got a notice in this change (a measure notice), so a ladder's notify action in
    # the same step does not send them a second mail about the same thing.
    notified: set[str] = field(default_factory=set)

    @property
    def calendar(self) -> DutchCalendar:
        return region_calendar(self.region.settings or {})

    @property
    def is_closed(self) -> bool:
        return self.escalation.status == "closed"

    def step(self, key: str) -> StepSpec:
        try:
            return self.spec.step(key)
        except KeyError:
            raise EscalationError(
                f"De ladder '{self.spec.name}' (versie {self.version.version}) kent de stap '{key}' niet."
            ) from None

    async def event(self, kind: str, *, actor: Actor, **kwargs: Any) -> TimelineEvent:
        return await append_event(self.scope, self.escalation.id, kind, actor=actor, clock=self.clock, **kwargs)

    async def audit(self, action: str, *, actor: Actor, detail: dict[str, Any]) -> None:
        await audit(
            action,
            region_id=self.scope.region_id,
            actor_id=actor.user_id,
            actor_label=actor.label,
            target_type="escalation",
            target_id=str(self.escalation.id),
            detail={"referentie": self.escalation.reference, **detail},
            clock=self.clock,
        )


async def load_region(scope: RegionScope) -> Region:
    region = await Region.objects().where(Region.id == scope.region_id).output(load_json=True).first()
    if region is None:
        raise EscalationError("Deze regio bestaat niet.")
    return region


async def load_context(scope: RegionScope, escalation_id: UUID | str, clock: Clock) -> Context:
    """Load an escalation of this region for a change. On PostgreSQL the row is locked until the transaction
    ends, so concurrent changes to one escalation queue (SQLite's BEGIN IMMEDIATE already serialises writers)."""
    try:
        row_id = UUID(str(escalation_id))
    except ValueError:
        raise EscalationError("Deze escalatie bestaat niet.") from None
    query = scope.objects(Escalation).where(Escalation.id == row_id)
    if engine_finder().engine_type == "postgres":
        query = query.lock_rows()
    escalation = await query.first()
    if escalation is None:
        raise EscalationError("Deze escalatie bestaat niet.")
    version = await scope.get(LadderVersion, escalation.ladder_version)
    if version is None:  # cannot happen: the foreign key holds; a clear message if it ever does
        raise EscalationError("De laddersversie van deze escalatie ontbreekt.")
    spec = LadderSpec.model_validate(version.definition)
    return Context(scope, escalation, version, spec, await load_region(scope), clock)


def require_decides(actor: Actor, what: str = "besluiten over een escalatie") -> None:
    """Decisions are the purchasing team's (or the system's); provider users never decide."""
    if not actor.has_any(DECIDES) or (actor.provider_id is not None and not actor.is_system):
        raise EscalationError(f"Alleen het team inkoop mag {what}.")


def imposes_measures(step: StepSpec) -> bool:
    return any(isinstance(action, StartMeasure | EndMeasure) for action in step.on_enter)


def require_imposes_measures(actor: Actor, what: str) -> None:
    if not actor.has_any(IMPOSES_MEASURES):
        raise EscalationError(f"Alleen een teamleider inkoop mag maatregelen opleggen of opheffen: {what}.")


def require_motivation(spec: LadderSpec, motivation: str) -> None:
    if spec.motivation_required and not (motivation or "").strip():
        raise EscalationError(MOTIVATION_REQUIRED)


# The parties a term can name (TermSpec.responsible) that act through the provider's portal.
PROVIDER_PARTIES = frozenset({"aanbieder"})


def meets_as_party(actor: Actor, term: TermSpec | None) -> bool:
    """Whether a delivery by ``actor`` meets ``term``: the provider's people meet only the terms the provider
    must meet (or a term that names no party); the region's people, who also record what reached them outside
    the portal, meet any."""
    if actor.provider_id is None or term is None or not term.responsible:
        return True
    return term.responsible in PROVIDER_PARTIES
