"""The accounthoudende regio (seed 004, issue 15 point 3): the region that coordinates a supra-regional provider's
continuity escalations, wherever they were opened.

- ``account_region_of``: the provider's account-holding region: the one the platform admin chose, or by default its
  largest region by contracts (``core.tenancy.largest_region``);
- ``set_account_region``: the platform admin chooses (or clears) it, audited ``provider.account_region``;
- ``shared_escalations`` / ``shared_escalation``: the list (paged by keyset) and the read view of the
  account-holding region's team, read only through ``core.tenancy.AccountRegionScope`` (the one sharing across tenants);
- ``mediate``: that team takes the mediation step (``MEDIATION_STEP``) through the owning region's scope with the
  ordinary transition service, audited in both regions.

The owning region's internal notes, signals, measures, documents, letters and other ladders stay hidden: the
account-holding region coordinates the continuity question, it does not run the region's file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from apps.escalations.context import MOTIVATION_REQUIRED, EscalationError
from apps.escalations.deadlines import STATUS_NL as DEADLINE_STATUS_NL
from apps.escalations.deadlines import waiting_for
from apps.escalations.tables import Deadline, Escalation, TimelineEvent
from apps.escalations.timeline import STATUS_NL, describe_event
from apps.escalations.transitions import transition
from apps.ladders.schema import LadderSpec
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core import keyset
from core.actor import Actor
from core.audit import audit
from core.clock import Clock, system_clock
from core.formatting import nl_date, nl_datetime
from core.tenancy import AccountRegionScope, ProviderScope, largest_region, provider_contracts

MEDIATION_STEP = "accounthoudende_regio"  # "b. Accounthoudende regio bemiddelt" in continuiteitsladder-vng.toml
PAGE_SIZE = 50
COUNT_CAP = 1000


class AccountRegionError(ValueError):
    """Refused; the message is Dutch and shown next to the field."""


@dataclass(frozen=True)
class AccountRegion:
    region_id: UUID
    name: str
    slug: str
    chosen: bool  # True: set by the platform admin; False: the default (largest region by contracts)

    @property
    def label(self) -> str:
        return self.name if self.chosen else f"{self.name} (standaard: de regio met de meeste contracten)"


async def account_region_of(provider: Provider, clock: Clock = system_clock) -> AccountRegion | None:
    """The provider's account-holding region, or None when it has no contract at all (and none was chosen)."""
    chosen = provider.account_region is not None
    if chosen:
        region_id = UUID(str(provider.account_region))
    else:
        contracts = await provider_contracts([provider.id])
        region_id = largest_region(contracts.get(provider.id, []), clock.today())
        if region_id is None:
            return None
    region = await Region.objects().where(Region.id == region_id).first()
    return AccountRegion(region.id, region.name, region.slug, chosen) if region else None


async def contract_regions(provider: Provider) -> list[dict]:
    """The regions the provider has a contract with (the choices for its account-holding region), by name."""
    scope = await ProviderScope.for_provider(provider.id)
    rows = await Region.select(Region.id, Region.name, Region.slug).where(
        Region.id.is_in(sorted(scope.region_ids, key=str)) if scope.region_ids else Region.id.is_null()
    )
    return sorted(rows, key=lambda r: r["name"])


async def set_account_region(provider: Provider, region_id: str, *, person: Any, clock: Clock = system_clock) -> None:
    """The platform admin chooses the account-holding region (one of the provider's contract regions), or clears
    the choice (``""``: back to the default). Audited ``provider.account_region`` (platform-wide)."""
    new: UUID | None = None
    if region_id:
        allowed = {row["id"] for row in await contract_regions(provider)}
        try:
            new = UUID(region_id)
        except ValueError:
            new = None
        if new not in allowed:
            raise AccountRegionError("Kies een regio waarmee de aanbieder een contract heeft.")
    old = provider.account_region
    if (str(old) if old else None) == (str(new) if new else None):
        return
    await Provider.update({Provider.account_region: new}).where(Provider.id == provider.id)
    provider.account_region = new
    await audit("provider.account_region", actor_id=person.user_id, actor_label=person.label,
                target_type="provider", target_id=str(provider.id),
                detail={"aanbieder": provider.name, "van": str(old) if old else None,
                        "naar": str(new) if new else None},
                clock=clock)  # fmt: skip


# --- the account-holding region's team --------------------------------------------------------------------------


def _decoded(definition: Any) -> dict:
    return json.loads(definition) if isinstance(definition, str) else definition  # a joined JSON column: text


def _step_title(definition: dict, key: str) -> str:
    return next((s.get("title", key) for s in (definition or {}).get("steps", []) if s.get("key") == key), key)


def _shared_segments() -> list[keyset.Segment]:
    """Open ones first by next deadline (those without one after them, newest first), then the closed ones."""
    running = Escalation.status != "closed"
    return [
        keyset.Segment("t", running & Escalation.next_due_at.is_not_null(),
                       [(Escalation.next_due_at, True), (Escalation.id, True)]),
        keyset.Segment("g", running & Escalation.next_due_at.is_null(),
                       [(Escalation.opened_at, False), (Escalation.id, False)]),
        keyset.Segment("c", Escalation.status == "closed", [(Escalation.opened_at, False), (Escalation.id, False)]),
    ]  # fmt: skip


@dataclass(frozen=True)
class SharedList:
    items: list[dict]
    count: str  # "12" or "meer dan 1.000": the count reads at most COUNT_CAP + 1 ids
    next: str | None
    previous: str | None


async def shared_escalations(region: Region, clock: Clock = system_clock, *, after: str = "",
                             before: str = "") -> SharedList:  # fmt: skip
    """One page of the continuity escalations of the providers this region holds the account of, in every region
    (keyset: ``after``/``before`` are the page's cursors; a stale one shows the first page)."""
    scope = await AccountRegionScope.for_region(region.id, clock.today())

    def query():
        return scope.select(
            Escalation, Escalation.id, Escalation.reference, Escalation.status, Escalation.current_step,
            Escalation.next_due_at, Escalation.opened_at,
            Escalation.region.name.as_alias("region_name"), Escalation.provider.name.as_alias("provider_name"),
            Escalation.ladder_version.definition.as_alias("definition"),
        )  # fmt: skip

    total, capped = await keyset.capped_rows(scope, Escalation, cap=COUNT_CAP)
    found = await keyset.first_page_if_stale(keyset.select_fetch(query), _shared_segments(), PAGE_SIZE,
                                             after=after, before=before)  # fmt: skip
    items = []
    for row in found.rows:
        definition = _decoded(row.pop("definition"))
        items.append({
            **row, "step_title": _step_title(definition, row["current_step"]),
            "status_nl": STATUS_NL.get(row["status"], row["status"]),
            "next_due": nl_date(row["next_due_at"]) if row["next_due_at"] else "",
            "url": f"/regio/{region.slug}/accounthouder/{row['id']}",
        })  # fmt: skip
    return SharedList(items, keyset.count_nl(total, capped), found.next, found.previous)


async def _load(region: Region, escalation_id: Any, clock: Clock) -> tuple[AccountRegionScope, Escalation, dict]:
    scope = await AccountRegionScope.for_region(region.id, clock.today())
    escalation = await scope.get(Escalation, escalation_id)
    if escalation is None:
        raise LookupError("not shared with this region")
    extra = await scope.select(
        Escalation, Escalation.region.name.as_alias("region_name"), Escalation.region.slug.as_alias("region_slug"),
        Escalation.provider.name.as_alias("provider_name"), Escalation.ladder_version.definition.as_alias("definition"),
    ).where(Escalation.id == escalation.id).first()  # fmt: skip
    return scope, escalation, extra


async def shared_escalation(region: Region, escalation_id: Any, clock: Clock = system_clock) -> dict | None:
    """The read view of one shared escalation: its place on the ladder, its deadlines and its shared timeline
    (never the owning region's internal notes). None: not shared with this region (the page answers 404)."""
    try:
        scope, escalation, extra = await _load(region, escalation_id, clock)
    except LookupError:
        return None
    definition = _decoded(extra["definition"])
    spec = LadderSpec.model_validate(definition)
    deadlines = await scope.objects(Deadline).where(Deadline.escalation == escalation.id).order_by(Deadline.due_at)
    events = await scope.objects(TimelineEvent).where(TimelineEvent.escalation == escalation.id).order_by(
        TimelineEvent.sequence, ascending=False).limit(100)  # fmt: skip
    category = next((c for c in spec.categories if c.key == escalation.category), None)
    can_mediate = escalation.status != "closed" and MEDIATION_STEP in spec.allowed_next(escalation.current_step)
    return {
        "esc": escalation,
        "owner_name": extra["region_name"],
        "provider_name": extra["provider_name"],
        "ladder_name": spec.name,
        "category_title": category.title if category else escalation.category,
        "current_title": _step_title(definition, escalation.current_step),
        "status_nl": STATUS_NL.get(escalation.status, escalation.status),
        "opened_nl": nl_date(escalation.opened_at),
        "steps": [{"key": s.key, "title": s.title, "current": s.key == escalation.current_step} for s in spec.steps],
        "deadlines": [
            {
                "title": d.key,
                "step_title": _step_title(definition, d.step),
                "term": d.term,
                "due": nl_date(d.due_at) if d.due_at else waiting_for(d.starts),
                "status_nl": DEADLINE_STATUS_NL.get(d.status, d.status),
            }
            for d in deadlines
        ],  # fmt: skip
        "events": [describe_event(e) for e in events],
        "can_mediate": can_mediate,
        "mediation_title": _step_title(definition, MEDIATION_STEP),
        "motivation_required": spec.motivation_required,
        "now_nl": nl_datetime(clock.now()),
    }


async def mediate(region: Region, escalation_id: Any, *, actor: Actor, motivation: str, idempotency_key: str | None,
                  clock: Clock = system_clock) -> None:  # fmt: skip
    """The account-holding region's team takes the mediation step on an escalation of another region: the ordinary
    transition in the owning region's scope (its rules, deadlines and notices), by an actor named with this region,
    audited in the owning region (``escalation.transition``) and here (``escalation.account_region_mediation``)."""
    try:
        scope, escalation, extra = await _load(region, escalation_id, clock)
    except LookupError:
        raise EscalationError("Deze escalatie bestaat niet.") from None
    if not (motivation or "").strip():
        raise EscalationError(MOTIVATION_REQUIRED)
    coordinator = replace(actor, label=f"{actor.label} (accounthoudende regio {region.name})")
    result = await transition(scope.owner_scope(escalation), escalation.id, MEDIATION_STEP, actor=coordinator,
                              motivation=motivation, clock=clock, idempotency_key=idempotency_key)  # fmt: skip
    if result.replayed:
        return
    await audit("escalation.account_region_mediation", region_id=region.id, actor_id=actor.user_id,
                actor_label=actor.label, target_type="escalation", target_id=str(escalation.id),
                detail={"referentie": escalation.reference, "regio": extra["region_slug"], "naar": MEDIATION_STEP,
                        "motivering": motivation.strip()}, clock=clock)  # fmt: skip
