"""The parties' own route of a dispute about one case (seed 001, issue 15 point 2: "los op of schaal op").

A dispute is an escalation on a ladder with ``[case]`` and ``[dispute]`` (West-Brabant West's ``toewijzing``). Its
parties are the provider and the municipality of the case; the region's team (the Zi2T) advises. Who someone is, is
decided by the scope they read the dispute through, never by what a form says:

- ``ProviderScope`` (the portal): the provider, a party;
- ``core.tenancy.MunicipalityScope`` (a region role held for the case's municipality): the municipality, a party;
- ``RegionScope`` with a deciding role (the team inkoop / Zi2T): the region, not a party.

What they may do (each a shared timeline event, an audit entry and notices to the other side, in one transaction):

- ``open_by_provider``: the provider opens a dispute for a municipality of a region where it has a running contract;
- ``record_position``: a party states its position (both positions go into the dispute file);
- ``put_solution``: the solution on the table in the current step -- the lokale aanstuurder's decision in step 2 (the
  municipality only), the Zi2T's advice in step 3 (the region only), a party's proposal in the other steps; a party
  that puts one agrees with it (recorded: who, when);
- ``answer``: a party agrees, or does not (with a reason), with the solution on the table; once both agreed the step
  counts as agreed and the team confirms the agreement (the ladder's agreement step and its letter;
  ``dispute_state.agreement_refusal`` refuses that step before);
- ``scale_up``: a party takes the next step of the route itself (with its motivation; into the committee's step with
  the subcommittee chosen); the ladder's notices of that step go out as for any step;
- ``choose_subcommittee``: in the committee's step, which subcommittee of the Geschillencommissie hears it.

The dispute file (one PDF/A for the Geschillencommissie) is ``dispute_file``'s. A person takes every step here;
nothing moves by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from apps.accounts.roles import DECIDES, PROVIDER_ROLES
from apps.escalations import cases, notices
from apps.escalations.context import SHARED, Context, EscalationError, load_context, require_motivation
from apps.escalations.dispute_state import (
    ADVICE,
    ANSWER,
    DECISION,
    MUNICIPALITY,
    PARTIES,
    PARTY_NL,
    POSITION,
    PROPOSAL,
    PROVIDER,
    REGION,
    SOLUTION,
    SUBCOMMITTEE,
    DisputeState,
    dispute_of,
    load_state,
)
from apps.escalations.services import open_in_transaction
from apps.escalations.tables import Escalation, TimelineEvent
from apps.escalations.transitions import transition_in_context
from apps.ladders.schema import DisputeSpec, LadderSpec
from apps.ladders.tables import LadderVersion
from apps.notifications.messages import DisputeUpdated
from apps.providers.tables import Contract, Provider
from apps.tenancy.services import municipalities_on
from apps.tenancy.tables import Municipality, Region
from core.actor import Actor
from core.clock import Clock, system_clock
from core.tenancy import MunicipalityScope, ProviderScope, RegionScope
from core.transactions import write_transaction

MAX_TEXT = 10_000
SUMMARY_MAX = 300
TEMPLATE = DisputeUpdated.template


class DisputeError(EscalationError):
    """Refused; ``field`` names the form field the Dutch message belongs next to ("" for the page)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class DisputeNotFound(LookupError):
    """Not a dispute this person may read (the page answers 404, the same as for one that does not exist)."""


def side_of(scope: Any, actor: Actor, escalation: Escalation) -> str:
    """Which side someone is on, from the scope they read the dispute through (``DisputeNotFound`` if none)."""
    if isinstance(scope, ProviderScope):
        if actor.provider_id == escalation.provider and actor.roles & PROVIDER_ROLES:
            return PROVIDER
    elif isinstance(scope, MunicipalityScope):
        if escalation.case_municipality in scope.municipality_ids:
            return MUNICIPALITY
    elif isinstance(scope, RegionScope) and actor.has_any(DECIDES) and actor.provider_id is None:
        return REGION
    raise DisputeNotFound()


def write_scope(scope: Any, escalation: Escalation) -> RegionScope:
    """The region's scope to write on a dispute read through ``scope``."""
    if isinstance(scope, ProviderScope):
        return scope.region_scope(escalation.region)
    if isinstance(scope, MunicipalityScope):
        return scope.region_scope(escalation)
    return scope


async def find(scope: Any, escalation_id: Any) -> Escalation:
    """A dispute read through ``scope``: only an escalation about one case (``DisputeNotFound`` otherwise)."""
    escalation = await scope.get(Escalation, escalation_id)
    if escalation is None or not escalation.case_municipality:
        raise DisputeNotFound()
    return escalation


def _text(value: str, what: str, field: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise DisputeError(f"Vul {what} in.", field)
    if len(value) > limit:
        raise DisputeError(f"Dit veld mag ten hoogste {limit} tekens lang zijn.", field)
    return value


@dataclass
class Loaded:
    ctx: Context
    dispute: DisputeSpec
    state: DisputeState
    side: str
    actor: Actor  # named with the side on the timeline: "Roos Rozendaal (gemeente Roosendaal)"
    municipality: Municipality


async def load_for_change(scope: Any, escalation_id: Any, actor: Actor, clock: Clock) -> Loaded:
    """Inside a write transaction: the dispute locked for a change, with its state and the actor's side."""
    escalation = await find(scope, escalation_id)
    side = side_of(scope, actor, escalation)
    ctx = await load_context(write_scope(scope, escalation), escalation.id, clock)
    dispute = dispute_of(ctx.spec)
    if dispute is None:
        raise DisputeNotFound()
    if ctx.is_closed:
        raise DisputeError(f"Geschil {ctx.escalation.reference} is afgesloten.")
    municipality = await ctx.scope.get(Municipality, ctx.escalation.case_municipality)
    state = await load_state(ctx.scope, ctx.escalation, dispute)
    return Loaded(ctx, dispute, state, side, await named(ctx, actor, side, municipality), municipality)


async def named(ctx: Context, actor: Actor, side: str, municipality: Municipality | None) -> Actor:
    if side == MUNICIPALITY:
        return replace(actor, label=f"{actor.label} (gemeente {municipality.name if municipality else ''})")
    if side == PROVIDER:
        provider = await Provider.objects().where(Provider.id == ctx.escalation.provider).first()
        return replace(actor, label=f"{actor.label} ({provider.name if provider else 'aanbieder'})")
    return replace(actor, label=f"{actor.label} ({ctx.region.name})")


async def tell(loaded: Loaded, event: TimelineEvent, sides: set[str], what: str, text: str = "") -> None:
    """The other side(s) hear of a party's step: the provider's people, the municipality's people, the team."""
    ctx = loaded.ctx
    provider = await Provider.objects().where(Provider.id == ctx.escalation.provider).first()
    payload = {
        "escalatie": ctx.escalation.reference, "escalation_id": str(ctx.escalation.id), "regio": ctx.region.name,
        "aanbieder": provider.name if provider else "", "gemeente": loaded.municipality.name, "wat": what,
        **({"tekst": text} if text else {}),
        **({"financieel": loaded.dispute.financial_notice} if ctx.escalation.case_financial else {}),
    }  # fmt: skip
    if PROVIDER in sides:
        await notices.tell_provider(ctx, event, TEMPLATE, payload)
    if MUNICIPALITY in sides:
        await notices.tell_municipality(ctx, event, TEMPLATE, payload)
    if REGION in sides:
        await notices.tell_purchasing_team(ctx, event, TEMPLATE, payload)


def _others(side: str) -> set[str]:
    return {p for p in PARTIES if p != side}


# --- opening from the portal ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisputeLadder:
    region: Region
    ladder_key: str
    spec: LadderSpec
    contract: Any  # the provider's running contract in that region
    municipalities: list[Municipality]


async def dispute_ladders_for(scope: ProviderScope, today: date) -> list[DisputeLadder]:
    """The regions where the provider may open a dispute: a running contract and a ladder with ``[dispute]``, with
    that region's municipalities of today (the ones the provider works with)."""
    found = []
    regions = {r.id: r for r in await Region.objects().where(
        Region.id.is_in(sorted(scope.region_ids, key=str)) if scope.region_ids else Region.id.is_null())}  # fmt: skip
    for region_id in sorted(regions, key=lambda r: regions[r].name):  # a provider works in a few regions
        region_scope = RegionScope(region_id)
        contract = await running_contract(region_scope, scope.provider_id, today)
        if contract is None:
            continue
        ladder = await dispute_ladder(region_scope)
        if ladder is None:
            continue
        found.append(DisputeLadder(regions[region_id], ladder[0], ladder[1], contract,
                                   await municipalities_on(region_scope, today)))  # fmt: skip
    return found


async def running_contract(scope: RegionScope, provider_id: UUID, today: date) -> Contract | None:
    rows = await scope.objects(Contract).where(Contract.provider == provider_id).order_by(Contract.valid_from)
    return next((c for c in rows if c.valid_from <= today and (c.valid_until is None or today <= c.valid_until)), None)


async def dispute_ladder(scope: RegionScope) -> tuple[str, LadderSpec] | None:
    """The region's ladder about one case with a dispute route (its latest version), or None."""
    rows = await scope.select(LadderVersion, LadderVersion.definition, LadderVersion.version,
                              LadderVersion.ladder.key.as_alias("key")).order_by(LadderVersion.version)  # fmt: skip
    latest: dict[str, dict] = {}
    for row in rows:
        latest[row["key"]] = row
    for key in sorted(latest):
        spec = LadderSpec.model_validate(latest[key]["definition"])
        if dispute_of(spec) is not None:
            return key, spec
    return None


async def open_by_provider(
    scope: ProviderScope,
    *,
    actor: Actor,
    place: str,
    subcategory: str,
    reference: str,
    professionals: str,
    summary: str,
    position: str,
    financial: bool,
    clock: Clock = system_clock,
) -> Escalation:
    """The provider opens a dispute about one case from the portal. ``place``: "<region id>:<municipality id>", a
    municipality of a region where it has a running contract and a dispute route. Its position is the motivation
    and the first position on record; the municipality's people hear of it (never another municipality)."""
    if actor.provider_id != scope.provider_id or not actor.roles & PROVIDER_ROLES:
        raise DisputeError("Alleen de aanbieder zelf kan een geschil openen.")
    region_part, _, municipality_part = (place or "").partition(":")
    options = {str(d.region.id): d for d in await dispute_ladders_for(scope, clock.today())}
    chosen = options.get(region_part)
    if chosen is None or not any(str(m.id) == municipality_part for m in chosen.municipalities):
        raise DisputeError("Kies de gemeente waarmee u het niet eens bent: een gemeente van een regio waar u een "
                           "lopend contract mee heeft.", "gemeente")  # fmt: skip
    category = next((c for c in chosen.spec.categories if subcategory in c.subcategories), None)
    if category is None:
        raise DisputeError("Kies het discussiepunt.", "discussiepunt")
    summary = _text(summary, "in één zin waar het geschil over gaat", "samenvatting", SUMMARY_MAX)
    position = _text(position, "uw standpunt", "standpunt")
    region_scope = scope.region_scope(chosen.region.id)
    provider = await Provider.objects().where(Provider.id == scope.provider_id).first()
    party = replace(actor, label=f"{actor.label} ({provider.name})")
    async with write_transaction():
        try:
            escalation = await open_in_transaction(
                region_scope, provider=provider, ladder_key=chosen.ladder_key, category=category.key,
                subcategory=subcategory, summary=summary, motivation=position, actor=party, contract=chosen.contract,
                municipality=municipality_part, case_reference=reference, professionals=professionals,
                financial=financial, clock=clock,
            )  # fmt: skip
        except cases.CaseError as exc:
            raise DisputeError(str(exc), exc.field) from None
        ctx = await load_context(region_scope, escalation.id, clock)
        municipality = await region_scope.get(Municipality, escalation.case_municipality)
        state = await load_state(region_scope, escalation, dispute_of(ctx.spec))
        loaded = Loaded(ctx, dispute_of(ctx.spec), state, PROVIDER, party, municipality)
        event = await ctx.event(POSITION, actor=party, visibility=SHARED, payload=_position_payload(loaded, position))
        await ctx.audit("dispute.open", actor=party, detail={"gemeente": municipality.cbs_code,
                                                             "discussiepunt": subcategory})  # fmt: skip
        await tell(loaded, event, {MUNICIPALITY}, "de aanbieder opende een geschil", position)
        return escalation


def _position_payload(loaded: Loaded, text: str) -> dict:
    step = loaded.ctx.step(loaded.ctx.escalation.current_step)
    return {"partij": loaded.side, "tekst": text, "stap": step.key, "stap_titel": step.title}


# --- the parties' steps -----------------------------------------------------------------------------------------


async def record_position(scope: Any, escalation_id: Any, *, actor: Actor, text: str,
                          clock: Clock = system_clock) -> TimelineEvent:  # fmt: skip
    """A party states (or restates) its position; the latest one counts, every one stays on the timeline."""
    text = _text(text, "uw standpunt", "standpunt")
    async with write_transaction():
        loaded = await load_for_change(scope, escalation_id, actor, clock)
        if loaded.side not in PARTIES:
            raise DisputeError("Alleen de aanbieder en de gemeente leggen een standpunt vast; het team geeft advies.")
        event = await loaded.ctx.event(POSITION, actor=loaded.actor, visibility=SHARED,
                                       payload=_position_payload(loaded, text))  # fmt: skip
        await loaded.ctx.audit("dispute.position", actor=loaded.actor, detail={"partij": loaded.side})
        await tell(loaded, event, _others(loaded.side), f"{PARTY_NL[loaded.side]} legde een standpunt vast", text)
        return event


ALREADY_AGREED = "Beide partijen zijn al akkoord met de oplossing; het team bevestigt de afspraken."
SOLUTION_WHAT = {DECISION: "de lokale aanstuurder besliste", ADVICE: "het team gaf advies",
                 PROPOSAL: "er ligt een voorstel voor een oplossing"}  # fmt: skip


async def put_solution(scope: Any, escalation_id: Any, *, actor: Actor, text: str,
                       clock: Clock = system_clock) -> TimelineEvent:  # fmt: skip
    """The solution on the table in the current step: the municipality's decision in the decision step, the region's
    advice in the advice step, a party's proposal elsewhere in the route. A party that puts one agrees with it."""
    async with write_transaction():
        loaded = await load_for_change(scope, escalation_id, actor, clock)
        state, ctx = loaded.state, loaded.ctx
        kind = state.solution_kind()
        field = {DECISION: "besluit", ADVICE: "advies"}.get(kind, "voorstel")
        text = _text(text, {"besluit": "het besluit", "advies": "het advies"}.get(field, "het voorstel"), field)
        if not state.may_put_solution(loaded.side):
            raise DisputeError(_solution_refusal(state, kind), field)
        if state.agreed:
            raise DisputeError(ALREADY_AGREED, field)
        step = ctx.step(ctx.escalation.current_step)
        payload = {"soort": kind, "partij": loaded.side, "tekst": text, "stap": step.key, "stap_titel": step.title}
        event = await ctx.event(SOLUTION, actor=loaded.actor, visibility=SHARED, payload=payload)
        await ctx.audit("dispute.solution", actor=loaded.actor, detail={"soort": kind, "partij": loaded.side})
        if loaded.side in PARTIES:  # who decides or proposes agrees with it: on record as such, who and when
            await ctx.event(ANSWER, actor=loaded.actor, visibility=SHARED, payload={
                "partij": loaded.side, "oplossing": event.sequence, "akkoord": True, "toelichting": ""})  # fmt: skip
        await tell(loaded, event, _others(loaded.side) if loaded.side in PARTIES else set(PARTIES),
                    SOLUTION_WHAT[kind], text)  # fmt: skip
        return event


def _solution_refusal(state: DisputeState, kind: str) -> str:
    if not state.in_route:
        return "In deze stap van het geschil ligt geen oplossing meer op tafel."
    if kind == DECISION:
        return "In deze stap beslist de lokale aanstuurder van de gemeente."
    if kind == ADVICE:
        return "In deze stap geeft het team (Zi2T) advies."
    return "Een voorstel komt van de aanbieder of de gemeente."


async def answer(scope: Any, escalation_id: Any, *, actor: Actor, agrees: bool, reason: str,
                 clock: Clock = system_clock) -> TimelineEvent:  # fmt: skip
    """A party agrees with the solution on the table, or not (with its reason). Both agreed: the step counts as
    agreed, and the team is asked to confirm the agreement."""
    reason = (reason or "").strip()
    if not agrees:
        reason = _text(reason, "waarom u niet akkoord bent", "toelichting")
    if len(reason) > MAX_TEXT:
        raise DisputeError(f"Dit veld mag ten hoogste {MAX_TEXT} tekens lang zijn.", "toelichting")
    async with write_transaction():
        loaded = await load_for_change(scope, escalation_id, actor, clock)
        state, ctx = loaded.state, loaded.ctx
        if loaded.side not in PARTIES:
            raise DisputeError("Alleen de aanbieder en de gemeente geven hun akkoord.")
        if state.solution is None:
            raise DisputeError("Er ligt in deze stap nog geen oplossing op tafel.")
        event = await ctx.event(ANSWER, actor=loaded.actor, visibility=SHARED, payload={
            "partij": loaded.side, "oplossing": state.solution.sequence, "akkoord": bool(agrees),
            "toelichting": reason})  # fmt: skip
        await ctx.audit("dispute.answer", actor=loaded.actor,
                        detail={"partij": loaded.side, "akkoord": bool(agrees), "toelichting": reason})  # fmt: skip
        state.answers[loaded.side] = event
        what = f"{PARTY_NL[loaded.side]} is {'akkoord' if agrees else 'niet akkoord'} met de oplossing"
        await tell(loaded, event, _others(loaded.side) | ({REGION} if state.agreed else set()),
                    what + ("; beide partijen zijn akkoord: het team bevestigt de afspraken" if state.agreed else ""),
                    reason)  # fmt: skip
        return event


async def scale_up(scope: Any, escalation_id: Any, *, actor: Actor, motivation: str, subcommittee: str = "",
                   clock: Clock = system_clock) -> Escalation:  # fmt: skip
    """A party takes the next step of the route ("los op of schaal op"), with its motivation; into the committee's
    step with the subcommittee that will hear it. The ladder's notices of that step go out as for any step."""
    async with write_transaction():
        loaded = await load_for_change(scope, escalation_id, actor, clock)
        state, ctx, dispute = loaded.state, loaded.ctx, loaded.dispute
        if loaded.side not in PARTIES:
            raise DisputeError("Opschalen doen de aanbieder en de gemeente; het team zet zijn stappen op de "
                               "escalatiepagina.")  # fmt: skip
        target = state.next_step()
        if target is None:
            raise DisputeError("Verder opschalen kan niet: dit is de laatste stap van de geschillenroute.")
        if state.agreed:
            raise DisputeError("Beide partijen zijn akkoord met de oplossing: opschalen is niet meer nodig.")
        try:
            require_motivation(ctx.spec, motivation)
        except EscalationError as exc:
            raise DisputeError(str(exc), "motivering") from None
        if target == dispute.committee_step and subcommittee not in dispute.subcommittees:
            raise DisputeError("Kies de subcommissie van de Geschillencommissie die het geschil behandelt.",
                               "subcommissie")  # fmt: skip
        event = await transition_in_context(ctx, target, actor=loaded.actor, motivation=motivation, party=loaded.side)
        if target == dispute.committee_step:
            await _subcommittee_event(loaded, subcommittee)
        step = ctx.step(target)
        await tell(loaded, event, _others(loaded.side), f"{PARTY_NL[loaded.side]} schaalde op naar ‘{step.title}’",
                    motivation.strip())  # fmt: skip
        return await ctx.scope.get(Escalation, ctx.escalation.id)


async def _subcommittee_event(loaded: Loaded, key: str) -> TimelineEvent:
    name = loaded.dispute.subcommittees[key]
    event = await loaded.ctx.event(SUBCOMMITTEE, actor=loaded.actor, visibility=SHARED,
                                   payload={"subcommissie": key, "naam": name})  # fmt: skip
    await loaded.ctx.audit("dispute.subcommittee", actor=loaded.actor, detail={"subcommissie": key, "naam": name})
    return event


async def choose_subcommittee(scope: Any, escalation_id: Any, *, actor: Actor, subcommittee: str,
                              clock: Clock = system_clock) -> TimelineEvent:  # fmt: skip
    """In the committee's step: which subcommittee hears the dispute (a party or the team; a later choice counts)."""
    async with write_transaction():
        loaded = await load_for_change(scope, escalation_id, actor, clock)
        if loaded.ctx.escalation.current_step != loaded.dispute.committee_step:
            raise DisputeError("De subcommissie kiest u bij de stap naar de Geschillencommissie.", "subcommissie")
        if subcommittee not in loaded.dispute.subcommittees:
            raise DisputeError("Kies de subcommissie van de Geschillencommissie die het geschil behandelt.",
                               "subcommissie")  # fmt: skip
        event = await _subcommittee_event(loaded, subcommittee)
        await tell(loaded, event, ({PROVIDER, MUNICIPALITY} - {loaded.side}),
                    f"gekozen: {loaded.dispute.subcommittees[subcommittee]}")  # fmt: skip
        return event
