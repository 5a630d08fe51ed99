"""The step engine's service: moving an escalation to another step of its own ladder version, closing it, and
acting on a missed term.

Layers (each imports only those below it, never back): this module calls ``actions`` (notices, document
requests, measures, proposals), ``deadlines`` (the deadline rows) and ``letters`` (rendering and issuing);
those three share only ``context``. A ladder's ``send_letter`` and ``move_to_step`` are applied here
(``apply_actions``), so that no lower module has to call up into a transition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from apps.escalations import deadlines, notices
from apps.escalations.actions import ActionRun, in_run_order, is_proposed, propose_step, resolve_proposals, run_action
from apps.escalations.chosen_terms import with_chosen_terms
from apps.escalations.context import (
    Context,
    EscalationConflict,
    EscalationError,
    imposes_measures,
    load_context,
    require_decides,
    require_imposes_measures,
    require_motivation,
)
from apps.escalations.deadlines import claim_missed_deadline, create_step_deadlines, end_running_deadlines, term_spec
from apps.escalations.dispute_state import agreement_refusal, party_step_refusal
from apps.escalations.letter_fields import checked_letter_fields, letter_texts
from apps.escalations.letter_sending import method_or_default
from apps.escalations.letters import issue_letter
from apps.escalations.preconditions import check_not_early, check_preconditions, check_receipt, history, refusal
from apps.escalations.receipt_terms import count_from_letter
from apps.escalations.tables import Deadline, Escalation, Measure, TimelineEvent
from apps.ladders.schema import Action, MoveToStep, SendLetter, StepSpec, SuggestStep, TermSpec, formal_features
from core.actor import SYSTEM, Actor
from core.clock import AMSTERDAM, Clock, system_clock
from core.tenancy import RegionScope
from core.transactions import write_transaction

MAX_AUTOMATIC_MOVES = 10  # a ladder whose automatic moves loop is refused, not run forever


@dataclass(frozen=True)
class TransitionResult:
    escalation: Escalation  # as it is after the request
    event: TimelineEvent  # the "stap_gewijzigd" event of the move
    replayed: bool = False  # True: a repeat of an earlier request with the same idempotency key; nothing changed


def idempotency_key_for(scope: RegionScope, escalation_id: UUID | str, key: str) -> str:
    """The stored key: the caller's key bound to region and escalation (the column is unique platform-wide)."""
    return hashlib.sha256(f"{scope.region_id}|{escalation_id}|{key}".encode()).hexdigest()


async def _replay(
    scope: RegionScope, escalation_id: UUID | str, stored_key: str, to_step: str
) -> TransitionResult | None:
    event = await scope.objects(TimelineEvent).where(TimelineEvent.idempotency_key == stored_key).first()
    if event is None:
        return None
    if str(event.escalation) != str(escalation_id) or (event.payload or {}).get("naar") != to_step:
        raise EscalationConflict("Deze aanvraag is al verwerkt voor een andere stap; vernieuw de pagina.")
    escalation = await scope.get(Escalation, event.escalation)
    return TransitionResult(escalation=escalation, event=event, replayed=True)


def _is_unique_violation(error: Exception) -> bool:
    return type(error).__name__ in ("UniqueViolationError", "IntegrityError") or "unique" in str(error).lower()


async def transition(
    scope: RegionScope,
    escalation_id: UUID | str,
    to_step: str,
    *,
    actor: Actor,
    motivation: str,
    clock: Clock = system_clock,
    idempotency_key: str | None = None,
    legal_exception: str | None = None,
    delivery: str = "portaal",
    term_overrides: Mapping[str, str] | None = None,
    letter_fields: Mapping[str, str] | None = None,
    receipt_motivation: str = "",
) -> TransitionResult:
    """Move an escalation to ``to_step`` of the ladder version it was opened under.

    Refused (EscalationError, Dutch) when the escalation is closed, the actor may not decide, the step does
    not follow the current one, its precondition (ladder data ``requires``) does not hold and no allowed BW 6:83
    ``legal_exception`` is recorded, the motivation is missing, or the step imposes or lifts a measure and the
    actor is no purchasing team lead. The running deadlines end ("met" when the term is met by reaching
    ``to_step``), the new step's terms become deadlines, its actions run, and a final step closes the
    escalation. A repeat with the same ``idempotency_key`` changes nothing and returns the first result.
    ``delivery``: how the step's letters go (``letter_receipts.METHODS``; default the portal with an e-mail).
    ``term_overrides``: {term key: "6 weken"}, the terms the decider sets instead of the ladder's (the reasonable
    term of an ingebrekestelling, ``chosen_terms``): the deadline counts from it and the letter prints it.
    ``letter_fields``: {field key: typed value}, the fields of the kinds of the step's letters (``letter_fields``:
    amount, article, effective date ...); refused per field (LetterFieldsError) when one is missing or wrong.
    ``receipt_motivation``: why the notice the step rests on counts as received when it went by registered post or
    by hand and its receipt is not recorded (BW 3:37 lid 3; ``preconditions.check_receipt``: ReceiptUnproved
    without it); stored with the decision.
    """
    delivery = method_or_default(delivery)  # an unknown way of sending is refused before anything happens
    stored_key = idempotency_key_for(scope, escalation_id, idempotency_key) if idempotency_key else None
    try:
        async with write_transaction():
            ctx = await load_context(scope, escalation_id, clock)  # lock first: a concurrent repeat waits here
            if stored_key and (replayed := await _replay(scope, ctx.escalation.id, stored_key, to_step)):
                return replayed
            event = await transition_in_context(
                ctx, to_step, actor=actor, motivation=motivation, idempotency_key=stored_key,
                legal_exception=legal_exception, delivery=delivery, term_overrides=term_overrides,
                letter_fields=letter_fields, receipt_motivation=receipt_motivation,
            )  # fmt: skip
            escalation = await scope.get(Escalation, ctx.escalation.id)
            return TransitionResult(escalation=escalation, event=event)
    except EscalationError:
        raise
    except Exception as error:
        if stored_key and _is_unique_violation(error):
            replayed = await _replay(scope, escalation_id, stored_key, to_step)
            if replayed is not None:
                return replayed
        raise


async def transition_in_context(
    ctx: Context,
    to_step: str,
    *,
    actor: Actor,
    motivation: str,
    ladder_move: bool = False,
    depth: int = 0,
    idempotency_key: str | None = None,
    legal_exception: str | None = None,
    delivery: str = "portaal",
    term_overrides: Mapping[str, str] | None = None,
    letter_fields: Mapping[str, str] | None = None,
    party: str | None = None,
    receipt_motivation: str = "",
) -> TimelineEvent:
    """The move itself, inside the caller's write transaction. ``ladder_move``: an automatic ``move_to_step``
    of the ladder, which may go to the step the ladder names even when the step's ``next`` does not list it.
    ``party``: a party to a dispute about one case scales up ("aanbieder" or "gemeente", checked by
    ``disputes``): only to the next step of the dispute route (``dispute_state.party_step_refusal``)."""
    escalation = ctx.escalation
    if ctx.is_closed:
        raise EscalationConflict(f"Escalatie {escalation.reference} is afgesloten; er kan geen stap meer worden gezet.")
    if party is None:
        require_decides(actor, "een stap zetten in een escalatie")
    elif refused := party_step_refusal(ctx.spec, escalation.current_step, to_step):
        raise EscalationError(refused)
    current = ctx.step(escalation.current_step)
    target = ctx.step(to_step)
    allowed = ctx.spec.allowed_next(current.key)
    if to_step not in allowed and not current.final and await is_proposed(ctx, to_step):
        allowed = [*allowed, to_step]  # the ladder proposed it (a move_to_step a person must decide)
    if to_step not in allowed and not (ladder_move and not current.final and to_step != current.key):
        if not allowed:
            raise EscalationError(f"Vanuit '{current.title}' is geen volgende stap mogelijk.")
        names = ", ".join(f"'{ctx.step(key).title}'" for key in allowed)
        raise EscalationError(
            f"Van '{current.title}' kan niet naar '{target.title}'. Toegestaan vanuit deze stap: {names}."
        )
    if refused := await agreement_refusal(ctx.scope, escalation, ctx.spec, to_step):
        raise EscalationError(refused)  # a dispute's agreement needs both parties' agreement on record
    exception = await check_preconditions(ctx, target, legal_exception)
    # a notice works from its receipt: one by registered post without a recorded receipt needs a reason (BW 3:37)
    receipt = None if exception else await check_receipt(ctx, target, receipt_motivation)
    target, chosen_terms = with_chosen_terms(target, term_overrides)
    require_motivation(ctx.spec, motivation)
    if not ladder_move:
        await check_not_early(ctx, target, motivation)
    if imposes_measures(target):
        require_imposes_measures(actor, f"de stap '{target.title}' doet dat")
    fields = checked_letter_fields(target, letter_fields, ctx.clock.now().astimezone(AMSTERDAM).date())
    motivation = (motivation or "").strip()

    met, cancelled = await end_running_deadlines(ctx, to_step)
    await resolve_proposals(ctx, taken_step=to_step, actor=actor)
    await ctx.scope.update(Escalation, {Escalation.current_step: to_step}).where(Escalation.id == escalation.id)
    escalation.current_step = to_step
    created, skipped = ([], []) if target.final else await create_step_deadlines(ctx, target, sending=delivery)
    event = await ctx.event(
        "stap_gewijzigd",
        actor=actor,
        motivation=motivation,
        idempotency_key=idempotency_key,
        payload={
            "van": current.key,
            "van_titel": current.title,
            "naar": target.key,
            "naar_titel": target.title,
            "automatisch": ladder_move,
            "termijnen_gehaald": met,
            "termijnen_vervallen": cancelled,
            "nieuwe_termijnen": created,
            "overgeslagen_termijnen": skipped,
            **({"uitzondering": exception} if exception else {}),
            **({"gekozen_termijnen": chosen_terms} if chosen_terms else {}),
            **({"brief_velden": fields} if fields else {}),
            **({"ontvangst": receipt} if receipt else {}),
        },
    )
    detail = {"van": current.key, "naar": target.key, "motivering": motivation, "automatisch": ladder_move,
              **({"uitzondering": exception} if exception else {}),
              **({"gekozen_termijnen": chosen_terms} if chosen_terms else {}),
              **({"brief_velden": fields} if fields else {}),
              **({"ontvangst": receipt} if receipt else {})}  # fmt: skip
    await ctx.audit("escalation.transition", actor=actor, detail=detail)
    await apply_actions(
        ActionRun(
            ctx=ctx,
            actor=actor,
            step=target,
            motivation=motivation,
            reason=f"stap '{target.title}' is ingegaan",
            depth=depth,
            legal_exception=exception,
            delivery=delivery,
            letter_fields=letter_texts(fields),
        ),
        target.on_enter,
    )
    if target.final and not ctx.is_closed:
        await close_in_context(
            ctx, outcome=target.outcome or target.key, motivation=motivation, actor=actor, step=target
        )
    return event


async def apply_actions(run: ActionRun, actions: list[Action]) -> None:
    """Run a step's ``on_enter`` or a term's ``on_missed`` in ``in_run_order``: letters are issued here
    (``letters.issue_letter``), an automatic move is a transition, every other action is ``run_action``'s."""
    for action in in_run_order(actions):
        if isinstance(action, SendLetter):
            letter = await issue_letter(run.ctx, key=action.letter, step=run.step, actor=run.actor,
                                        motivation=run.motivation, reason=run.reason,
                                        legal_exception=run.legal_exception, method=run.delivery,
                                        fields=run.letter_fields)  # fmt: skip
            await count_from_letter(run.ctx, run.step, letter)  # the step's term runs from this letter's receipt
        elif isinstance(action, MoveToStep):
            await _ladder_move(run, action)
        else:
            await run_action(run, action)


async def _ladder_move(run: ActionRun, action: MoveToStep) -> None:
    if run.depth >= MAX_AUTOMATIC_MOVES:
        raise EscalationError("De ladder zet te veel stappen automatisch achter elkaar; controleer de ladder.")
    target = run.ctx.step(action.step)
    # A step with a letter or a measure: proposed, a person decides. The schema already refuses such a step marked
    # automatic; the engine asks the same question itself rather than trust the flag alone.
    if not target.automatic or formal_features(target):
        await propose_step(run, target)
        return
    closed = refusal(target, await history(run.ctx))
    if closed is not None:  # the ladder never skips a precondition: it proposes the step, a person decides
        await run_action(
            ActionRun(ctx=run.ctx, actor=run.actor, step=run.step, motivation=run.motivation,
                      reason=f"{run.reason}; de stap is nog niet mogelijk: {closed}", term=run.term, depth=run.depth),
            SuggestStep(action="suggest_step", step=action.step),
        )  # fmt: skip
        return
    await transition_in_context(
        run.ctx,
        action.step,
        actor=SYSTEM,
        motivation=f"Automatisch volgens de ladder: {run.reason}.",
        ladder_move=True,
        depth=run.depth + 1,
    )


async def act_on_missed_deadline(
    scope: RegionScope, deadline_id: UUID | str, clock: Clock = system_clock, *, worker: str = "sweep"
) -> bool:
    """Mark a due deadline missed and run its term's missed actions, exactly once (the claim is
    ``deadlines.claim_missed_deadline``'s compare-and-set: of several workers racing for one deadline only one
    acts). The actions run only while the escalation is still in the deadline's step. Returns whether this
    call acted."""
    async with write_transaction():
        claimed = await claim_missed_deadline(scope, deadline_id, clock, worker=worker)
        if claimed is None:
            return False
        ctx, deadline = claimed
        spec = term_spec(ctx, deadline)
        if spec and spec.on_missed and deadline.step == ctx.escalation.current_step:
            step = ctx.spec.step(deadline.step)
            reason = f"termijn '{spec.title or spec.key}' ({spec.term}) is verlopen"
            await apply_actions(
                ActionRun(ctx=ctx, actor=SYSTEM, step=step, motivation="", reason=reason, term=spec), spec.on_missed
            )
        return True


async def react_to_met_term(ctx: Context, deadline: Deadline, spec: TermSpec) -> None:
    """A met term's reaction (``on_met``): the step that follows, proposed for a person to decide, or taken where
    the ladder marks that step automatic. Only while the escalation is still in the term's step."""
    if deadline.step != ctx.escalation.current_step:
        return
    reason = f"termijn '{spec.title or spec.key}' is gehaald"
    await apply_actions(
        ActionRun(ctx=ctx, actor=SYSTEM, step=ctx.spec.step(deadline.step), motivation="", reason=reason, term=spec),
        spec.on_met,
    )


async def meet_deadlines_for_document(
    scope: RegionScope,
    escalation_id: UUID | str,
    document_kind: str,
    at: datetime,
    *,
    actor: Actor = SYSTEM,
    recorded_at: datetime | None = None,
) -> list[Deadline]:
    """``deadlines.meet_deadlines_for_document`` with the ladder's reactions to each met term."""
    return await deadlines.meet_deadlines_for_document(scope, escalation_id, document_kind, at, actor=actor,
                                                       recorded_at=recorded_at, react=react_to_met_term)  # fmt: skip


async def close_in_context(
    ctx: Context, *, outcome: str, motivation: str, actor: Actor, step: StepSpec | None = None
) -> TimelineEvent:
    """Close: running deadlines are cancelled; measures in force stay in force (ended only on purpose)."""
    now = ctx.clock.now()
    _, cancelled = await end_running_deadlines(ctx, None)
    await resolve_proposals(ctx, taken_step=None, actor=actor)
    await ctx.scope.update(
        Escalation, {Escalation.status: "closed", Escalation.outcome: outcome, Escalation.closed_at: now}
    ).where(Escalation.id == ctx.escalation.id)
    ctx.escalation.status, ctx.escalation.outcome, ctx.escalation.closed_at = "closed", outcome, now
    active = await ctx.scope.select(Measure, Measure.kind).where(
        (Measure.escalation == ctx.escalation.id) & Measure.ended_at.is_null()
    )
    current = step or ctx.step(ctx.escalation.current_step)
    event = await ctx.event(
        "escalatie_gesloten",
        actor=actor,
        motivation=motivation,
        payload={
            "uitkomst": outcome,
            "stap": current.key,
            "stap_titel": current.title,
            "termijnen_vervallen": cancelled,
            "maatregelen_van_kracht": sorted(row["kind"] for row in active),
        },
    )
    await ctx.audit("escalation.close", actor=actor, detail={"uitkomst": outcome, "motivering": motivation})
    await notices.escalation_closed(ctx, event, outcome)  # the provider's people; the access team after a stop
    return event


async def close_escalation(
    scope: RegionScope,
    escalation_id: UUID | str,
    *,
    actor: Actor,
    outcome: str,
    motivation: str,
    clock: Clock = system_clock,
) -> Escalation:
    """Close an escalation outside the ladder's final steps (e.g. withdrawn: "ingetrokken"), with a motivation."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise EscalationError("Geef de uitkomst van de escalatie op.")
    if len(outcome) > 60:
        raise EscalationError("De uitkomst mag ten hoogste 60 tekens lang zijn.")
    async with write_transaction():
        ctx = await load_context(scope, escalation_id, clock)
        if ctx.is_closed:
            raise EscalationConflict(f"Escalatie {ctx.escalation.reference} is al afgesloten.")
        require_decides(actor, "een escalatie afsluiten")
        require_motivation(ctx.spec, motivation)
        await close_in_context(ctx, outcome=outcome, motivation=motivation.strip(), actor=actor)
        return await scope.get(Escalation, ctx.escalation.id)
