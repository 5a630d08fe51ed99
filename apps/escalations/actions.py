"""A ladder's actions: the ``on_enter`` of a step and the ``on_missed`` of a term.

This module runs the actions that stay inside the escalation (notices, document requests, measures,
proposals) and says in which order a list of actions runs (``in_run_order``). It calls no other step-engine
module: the transition service (``transitions.py``) walks the list, applies ``send_letter`` (``letters.py``)
and ``move_to_step`` (a transition) itself, and hands every other action to ``run_action`` here.

Each action leaves a timeline event; notices are outbox rows (``Notification``) written in the same
transaction, delivered later by workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.escalations import cases, notices
from apps.escalations.context import (
    INTERNAL,
    MEASURE_LABELS,
    SHARED,
    Context,
    EscalationError,
    notification_key,
)
from apps.escalations.tables import Deadline, Measure, StepProposal
from apps.ladders.calendar import AMSTERDAM, format_date_nl
from apps.ladders.schema import (
    Action,
    DemandDocument,
    EndMeasure,
    MoveToStep,
    Notify,
    SendLetter,
    StartMeasure,
    StepSpec,
    SuggestStep,
    TermSpec,
)
from apps.ladders.texts import fill
from apps.notifications.inapp import add_for_people, purchasing_team
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.services import municipalities_on, text_values
from apps.tenancy.tables import RegionMailbox
from core.actor import Actor

__all__ = [
    "ActionRun",
    "in_run_order",
    "is_proposed",
    "notification_key",
    "propose_step",
    "resolve_proposals",
    "run_action",
]

NOTIFY_TEMPLATE = "ladder_notify"
# Roles whose notice stays inside the region: its timeline event is internal.
_REGION_ONLY_ROLES = frozenset({"inkoop"})


@dataclass
class ActionRun:
    """One run of a list of actions and why it happens."""

    ctx: Context
    actor: Actor  # who caused it: the person who moved the step, or the system for a missed term
    step: StepSpec  # the step whose on_enter runs, or whose term's on_missed runs
    motivation: str  # of the decision that caused the run; measures keep it as their motivation
    reason: str  # Dutch: why the ladder acts ("termijn 'Plan van aanpak binnen?' (2 weken) is verlopen")
    term: TermSpec | None = None
    depth: int = 0  # automatic moves so far in this chain
    legal_exception: dict | None = None  # a BW 6:83 exception recorded with the decision (letters print it)
    delivery: str = "portaal"  # how the step's letters go (letter_receipts.METHODS), as the decider chose
    letter_fields: dict[str, str] | None = None  # what the letters print of the decider's fields (letter_fields)


def in_run_order(actions: list[Action]) -> list[Action]:
    """The order a list of actions runs in: the ladder's order, except that measures go first (the notices
    of the step are about them, and each mailbox gets the measure's own notice once) and one automatic move
    to another step (the first the ladder names) runs last, after the step's own actions, so that a step
    never acts after it was left."""
    measures_first = sorted(actions, key=lambda a: 0 if isinstance(a, StartMeasure | EndMeasure) else 1)
    moves = [a for a in measures_first if isinstance(a, MoveToStep)]
    return [a for a in measures_first if not isinstance(a, MoveToStep)] + moves[:1]


async def run_action(run: ActionRun, action: Action) -> None:
    """One action that stays inside the escalation. ``send_letter`` and ``move_to_step`` are the transition
    service's (it decides how a letter goes out and makes the move); they are refused here."""
    if isinstance(action, Notify):
        await notify(run, action)
    elif isinstance(action, DemandDocument):
        await demand_document(run, action)
    elif isinstance(action, StartMeasure):
        await start_measure(run.ctx, action.measure, actor=run.actor, motivation=run.motivation)
    elif isinstance(action, EndMeasure):
        await end_measure_in_context(run.ctx, action.measure, actor=run.actor, motivation=run.motivation,
                                     explicit=False)  # fmt: skip
    elif isinstance(action, SuggestStep):
        await suggest_step(run, action)
    else:
        raise TypeError(f"{type(action).__name__} is applied by the transition service, not by run_action")


# --- notify ------------------------------------------------------------------------------------------------


async def recipients_for(ctx: Context, role: str) -> list[str]:
    """Addresses for a notify role: the region's mailboxes of that role; "toegang" and "lokale_aanstuurder":
    the access team of every municipality of the region today -- or, for a dispute about one case, of that
    case's municipality only (``cases.municipality_addresses``); "aanbieder": a placeholder for the provider's
    users ("provider:<id>"), expanded to each person of the organisation when delivered
    (apps.notifications.services)."""
    if role == "aanbieder":
        return [f"provider:{ctx.escalation.provider}"]
    if role in ("toegang", "lokale_aanstuurder") and ctx.escalation.case_municipality:
        return await cases.municipality_addresses(ctx.scope, ctx.escalation.case_municipality, role)
    if role in ("toegang", "lokale_aanstuurder"):
        municipalities = await municipalities_on(ctx.scope, ctx.clock.today())
        return [m.access_team_email for m in municipalities if m.access_team_email]
    rows = (
        await ctx.scope.select(RegionMailbox, RegionMailbox.email)
        .where(RegionMailbox.role == role)
        .order_by(RegionMailbox.email)
    )
    return [row["email"] for row in rows]


async def notify(run: ActionRun, action: Notify) -> None:
    ctx = run.ctx
    recipients: list[tuple[str, str]] = []
    missing: list[str] = []
    seen: set[str] = set()
    already = sorted(ctx.notified)
    account, team = None, []
    for role in action.roles:
        if role == notices.ACCOUNT_ROLE and (account := await notices.chosen_account_region(ctx)) is not None:
            team = await notices.account_region_team(account)  # its purchasing team, not the owning region's mailbox
            continue
        addresses = await recipients_for(ctx, role)
        if not addresses:
            missing.append(role)
        for address in addresses:
            if address not in seen and address not in ctx.notified:
                seen.add(address)
                recipients.append((role, address))
    if not recipients and not missing and account is None:
        return  # everyone concerned already got the measure's own notice in this change
    visibility = INTERNAL if set(action.roles) <= _REGION_ONLY_ROLES else SHARED
    # The message as it is sent: "{gemeenten}" counts the region's municipalities today.
    message = fill(action.message, await text_values(ctx.scope, ctx.region.name, ctx.clock.today()))
    event = await ctx.event(
        "melding_verstuurd",
        actor=run.actor,
        visibility=visibility,
        payload={
            "rollen": list(action.roles),
            "ontvangers": [{"rol": role, "adres": address} for role, address in recipients]
            + ([{"rol": notices.ACCOUNT_ROLE, "adres": f"team inkoop {account.name}"}] if account else []),
            "aantal": len(recipients) + len(team),
            "geen_ontvanger": missing,  # roles the region file has no mailbox for
            "al_geinformeerd": already,  # got the measure's own notice in this change
            "bericht": message,
            "stap": run.step.key,
            "stap_titel": run.step.title,
            "aanleiding": run.reason,
        },
    )
    provider = await Provider.objects().where(Provider.id == ctx.escalation.provider).first()
    for role, address in recipients:
        await ctx.scope.new(
            Notification,
            recipient=address,
            channel="email",
            template=NOTIFY_TEMPLATE,
            payload={
                "escalatie": ctx.escalation.reference,
                "escalation_id": str(ctx.escalation.id),
                "regio": ctx.region.name,
                "aanbieder": provider.name if provider else "",
                "stap": run.step.key,
                "stap_titel": run.step.title,
                "bericht": message,
                "rol": role,
                "event_id": str(event.id),
            },
            idempotency_key=notification_key(event.id, address),
            status="pending",
            created_at=ctx.clock.now(),
        ).save()
    if account is not None:
        await notices.tell_account_region(ctx, event, account, team, NOTIFY_TEMPLATE, {
            "escalatie": ctx.escalation.reference, "escalation_id": str(ctx.escalation.id), "regio": ctx.region.name,
            "aanbieder": provider.name if provider else "", "stap": run.step.key, "stap_titel": run.step.title,
            "bericht": message})  # fmt: skip
    if "inkoop" in action.roles:
        await _to_the_team_in_the_app(ctx, NOTIFY_TEMPLATE, event, {"escalatie": ctx.escalation.reference,
            "escalation_id": str(ctx.escalation.id), "aanbieder": provider.name if provider else "",
            "stap_titel": run.step.title, "bericht": message})  # fmt: skip


async def _to_the_team_in_the_app(ctx: Context, template: str, event: Any, payload: dict) -> None:
    """The purchasing team also sees the notice under the bell in Trede."""
    await add_for_people(ctx.scope, await purchasing_team(ctx.scope), template=template, payload=payload,
                         key=str(event.id), clock=ctx.clock)  # fmt: skip


# --- documents ---------------------------------------------------------------------------------


async def demand_document(run: ActionRun, action: DemandDocument) -> None:
    ctx = run.ctx
    due_at = None
    if action.term:
        row = (
            await ctx.scope.select(Deadline, Deadline.due_at)
            .where(
                (Deadline.escalation == ctx.escalation.id)
                & (Deadline.step == run.step.key)
                & (Deadline.key == action.term)
                & Deadline.status.is_in(["open", "suspended"])
            )
            .first()
        )
        due_at = row["due_at"] if row else None
    due_day = due_at.astimezone(AMSTERDAM).date() if due_at else None
    await ctx.event(
        "document_gevraagd",
        actor=run.actor,
        payload={
            "document": action.document,
            "termijn": action.term,
            "vervaldatum": due_day.isoformat() if due_day else None,
            "vervaldatum_tekst": format_date_nl(due_day) if due_day else "",
            "stap": run.step.key,
        },
    )


# --- measures ----------------------------------------------------------------------------------------------


async def _active_measure(ctx: Context, kind: str) -> Measure | None:
    return (
        await ctx.scope.objects(Measure)
        .where((Measure.escalation == ctx.escalation.id) & (Measure.kind == kind) & Measure.ended_at.is_null())
        .first()
    )


async def start_measure(ctx: Context, kind: str, *, actor: Actor, motivation: str) -> Measure:
    """A measure for every municipality of the region today; at most one active per kind per escalation."""
    label = MEASURE_LABELS.get(kind, kind)
    active = await _active_measure(ctx, kind)
    if active is not None:
        since = format_date_nl(active.started_at.astimezone(AMSTERDAM).date())
        raise EscalationError(
            f"Voor escalatie {ctx.escalation.reference} geldt al een {label} (sinds {since}); "
            "hef die eerst op voordat u een nieuwe oplegt."
        )
    municipalities = await municipalities_on(ctx.scope, ctx.clock.today())
    measure = ctx.scope.new(
        Measure,
        escalation=ctx.escalation.id,
        provider=ctx.escalation.provider,
        kind=kind,
        scope=[m.cbs_code for m in municipalities],
        started_at=ctx.clock.now(),
        start_motivation=motivation,
        created_at=ctx.clock.now(),
    )
    await measure.save()
    gemeenten = [{"cbs_code": m.cbs_code, "naam": m.name} for m in municipalities]
    await ctx.event(
        "maatregel_gestart",
        actor=actor,
        motivation=motivation,
        payload={
            "maatregel": kind,
            "maatregel_titel": label,
            "gemeenten": gemeenten,
            "aantal_gemeenten": len(gemeenten),
            "measure_id": str(measure.id),
        },
    )
    await ctx.audit("measure.start", actor=actor, detail={"maatregel": kind, "gemeenten": measure.scope})
    await notify_measure(ctx, measure, started=True, actor=actor)
    return measure


async def end_measure_in_context(
    ctx: Context, kind: str, *, actor: Actor, motivation: str, explicit: bool
) -> Measure | None:
    """End the active measure of ``kind``. None active: refused when a person asked for it (``explicit``),
    silently nothing when a ladder step's actions ask for it."""
    active = await _active_measure(ctx, kind)
    label = MEASURE_LABELS.get(kind, kind)
    if active is None:
        if explicit:
            raise EscalationError(f"Voor escalatie {ctx.escalation.reference} geldt geen {label} om op te heffen.")
        return None
    now = ctx.clock.now()
    await ctx.scope.update(Measure, {Measure.ended_at: now, Measure.end_motivation: motivation}).where(
        Measure.id == active.id
    )
    await ctx.event(
        "maatregel_beeindigd",
        actor=actor,
        motivation=motivation,
        payload={
            "maatregel": kind,
            "maatregel_titel": label,
            "gemeenten": list(active.scope or []),
            "sinds": active.started_at.astimezone(AMSTERDAM).date().isoformat(),
            "measure_id": str(active.id),
        },
    )
    await ctx.audit("measure.end", actor=actor, detail={"maatregel": kind, "measure_id": str(active.id)})
    ended = await ctx.scope.get(Measure, active.id)
    await notify_measure(ctx, ended, started=False, actor=actor)
    return ended


# Measures that every municipality must follow ("op te volgen door alle gemeenten"): when one starts or
# ends, every access team of the region, the GI's and the purchasing team get the measure's own notice.
REFERRAL_STOPS = {"instroomstop": "instroomstop", "clientenstop": "instroomstop"}


async def notify_measure(ctx: Context, measure: Measure, *, started: bool, actor: Actor) -> None:
    if measure.kind not in REFERRAL_STOPS:
        return
    template = f"{REFERRAL_STOPS[measure.kind]}_{'gestart' if started else 'beeindigd'}"
    recipients: list[tuple[str, str]] = []
    seen: set[str] = set()
    for role in ("toegang", "gi", "inkoop"):
        for address in await recipients_for(ctx, role):
            if address not in seen:
                seen.add(address)
                recipients.append((role, address))
    municipalities = {m.cbs_code: m.name for m in await municipalities_on(ctx.scope, ctx.clock.today())}
    provider = await Provider.objects().where(Provider.id == ctx.escalation.provider).first()
    label = MEASURE_LABELS.get(measure.kind, measure.kind)
    event = await ctx.event(
        "melding_verstuurd",
        actor=actor,
        visibility=SHARED,
        payload={
            "rollen": ["toegang", "gi", "inkoop"],
            "ontvangers": [{"rol": role, "adres": address} for role, address in recipients],
            "aantal": len(recipients),
            "bericht": f"{label.capitalize()} {'gestart' if started else 'opgeheven'}",
            "aanleiding": f"maatregel_{'gestart' if started else 'beeindigd'}",
            "measure_id": str(measure.id),
        },
    )
    day = format_date_nl(ctx.clock.today())
    payload = {
        "escalatie": ctx.escalation.reference,
        "escalation_id": str(ctx.escalation.id),
        "event_id": str(event.id),
        "maatregel": label,
        "provider_name": provider.name if provider else "",
        "kvk_number": provider.kvk_number if provider else "",
        "municipalities": [municipalities.get(code, code) for code in measure.scope or []],
        "start_date" if started else "end_date": day,
    }
    for role, address in recipients:
        await ctx.scope.new(
            Notification,
            recipient=address,
            channel="email",
            template=template,
            payload={**payload, "rol": role},
            idempotency_key=notification_key(event.id, address),
            created_at=ctx.clock.now(),
        ).save()
        ctx.notified.add(address)
    await _to_the_team_in_the_app(ctx, template, event, payload)
    # The people whose work it changes: the access team (their register) and the provider's people.
    await notices.tell_access_team(ctx, event, template, payload)
    await notices.tell_provider(ctx, event, template, payload)


# --- steps -------------------------------------------------------------------------------------------------


async def suggest_step(run: ActionRun, action: SuggestStep) -> None:
    await propose_step(run, run.ctx.step(action.step))


async def propose_step(run: ActionRun, target: StepSpec) -> None:
    """Put ``target`` on the region's "Te beoordelen" list: a person previews its letter and decides. One open
    proposal per step of an escalation; it ends when a person takes a step or closes the escalation."""
    ctx = run.ctx
    letter = next((a.letter for a in target.on_enter if isinstance(a, SendLetter)), "")
    if not await is_proposed(ctx, target.key):
        await ctx.scope.new(
            StepProposal,
            escalation=ctx.escalation.id,
            step=target.key,
            step_title=target.title,
            letter=letter,
            reason=run.reason,
            proposed_at=ctx.clock.now(),
        ).save()
    await ctx.event(
        "volgende_stap_voorgesteld",
        actor=run.actor,
        visibility=INTERNAL,
        payload={"stap": target.key, "stap_titel": target.title, "aanleiding": run.reason, "te_beoordelen": True,
                 **({"brief": letter} if letter else {})},
    )  # fmt: skip


async def is_proposed(ctx: Context, step: str) -> bool:
    """Whether ``step`` is on the escalation's open "Te beoordelen" proposals."""
    mine = (StepProposal.escalation == ctx.escalation.id) & (StepProposal.status == "open")
    return bool(await ctx.scope.count(StepProposal).where(mine & (StepProposal.step == step)))


async def resolve_proposals(ctx: Context, *, taken_step: str | None, actor: Actor) -> None:
    """A person decided: the escalation's open proposals end -- followed when that step was taken, else set
    aside (another step, or the escalation closed)."""
    now = ctx.clock.now()
    scope, open_ = ctx.scope, (StepProposal.escalation == ctx.escalation.id) & (StepProposal.status == "open")
    done = {StepProposal.resolved_at: now, StepProposal.resolved_by: actor.label}
    if taken_step:
        await scope.update(StepProposal, {StepProposal.status: "followed", **done}).where(
            open_ & (StepProposal.step == taken_step)
        )
    await scope.update(StepProposal, {StepProposal.status: "set_aside", **done}).where(open_)
