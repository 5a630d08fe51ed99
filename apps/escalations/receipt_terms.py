"""Terms a formal letter sets, counted from the letter's receipt (BW 3:37 lid 3: a declaration works from the moment
it reaches the provider; BW 6:82: the reasonable term of an ingebrekestelling runs from then).

Entering the step counts such a term from the letter's *expected* receipt (``deadlines.create_step_deadlines`` with
``letter_sending.expected_receipt``); the letter, issued next in the same transaction, is linked to it here
(``count_from_letter``). When the receipt of a registered or hand-delivered letter is recorded -- the team's date on
the receipt, or the provider's acknowledgement -- later than expected, the term is counted again from that day
(``recount_from_receipt``): a shared ``termijn_herberekend`` event, and the provider is told the new end date. An
earlier receipt never shortens a term the letter already stated; a letter through the portal reached the provider
when it was sent.
"""

from __future__ import annotations

from typing import Any

from apps.escalations import notices
from apps.escalations.context import SHARED, Context
from apps.escalations.deadlines import (
    MISSED,
    OPEN,
    SUSPENDED,
    describe,
    local_date,
    receipt_reason,
    refresh_next_due,
    remind_at_for,
    term_spec,
)
from apps.escalations.letter_sending import RECORDED_WAYS, counted_from
from apps.escalations.tables import Deadline, LetterDelivery, TimelineEvent
from apps.ladders.calendar import format_date_nl
from apps.ladders.deadlines import due_date_for
from apps.ladders.schema import LETTER, StepSpec, runs_from_letter
from core.actor import Actor

RECOUNTED_TEMPLATE = "termijn_herberekend"


async def count_from_letter(ctx: Context, step: StepSpec, letter_event: TimelineEvent) -> None:
    """Link the step's fresh terms counted from its letter to the letter just issued (its ``brief_verstuurd``
    event), in the transaction that issued it. A step that sends two letters counts from the first."""
    if not any(runs_from_letter(step, term) for term in step.terms):
        return
    delivery = await ctx.scope.select(LetterDelivery, LetterDelivery.id).where(
        LetterDelivery.event == letter_event.id
    ).first()
    if delivery is None:
        return
    await ctx.scope.update(Deadline, {Deadline.letter_delivery: delivery["id"]}).where(
        (Deadline.escalation == ctx.escalation.id)
        & (Deadline.step == step.key)
        & (Deadline.starts == LETTER)
        & Deadline.letter_delivery.is_null()
        & Deadline.status.is_in([OPEN, SUSPENDED])
    )


async def recount_from_receipt(ctx: Context, letter: LetterDelivery, *, actor: Actor) -> list[dict[str, Any]]:
    """The letter's receipt was just recorded (``letter.received_at``): each term counted from it that has not been
    met ends later when counted from that day, and is moved on -- a term already missed whose new end lies ahead
    runs again. One shared ``termijn_herberekend`` event per term, and a notice to the provider's people. Returns
    what moved (described, with ``vervaldatum_tekst``)."""
    if letter.method not in RECORDED_WAYS or letter.received_at is None:
        return []
    rows = await ctx.scope.objects(Deadline).where(
        (Deadline.escalation == ctx.escalation.id)
        & (Deadline.letter_delivery == letter.id)
        & Deadline.status.is_in([OPEN, SUSPENDED, MISSED])
        & Deadline.met_at.is_null()
    )
    now, calendar = ctx.clock.now(), ctx.calendar
    moved: list[dict[str, Any]] = []
    for deadline in rows:
        start = counted_from(letter.method, deadline.starts_at, letter.received_at)
        due = due_date_for(start, deadline.term, calendar)
        if due.due_at <= deadline.due_at:
            continue  # never shortened: the receipt came as expected, or earlier
        reopens = deadline.status == MISSED and due.due_at > now
        status = OPEN if reopens else deadline.status
        note = receipt_reason(letter.method, start, recorded=True)
        spec = term_spec(ctx, deadline)
        values: dict = {Deadline.starts_at: start, Deadline.due_at: due.due_at,
                        Deadline.reasons: [*(deadline.reasons or []), note, *due.reasons]}  # fmt: skip
        if status == OPEN:
            values[Deadline.remind_at] = remind_at_for(due.due_at, spec.remind_before if spec else None, calendar, now)
        if reopens:
            values.update({Deadline.status: OPEN, Deadline.ended_at: None, Deadline.claimed_by: "",
                           Deadline.claimed_at: None})  # fmt: skip
        changed = (
            await ctx.scope.update(Deadline, values)
            .where((Deadline.id == deadline.id) & (Deadline.status == deadline.status))
            .returning(Deadline.id)
        )
        if not changed:
            continue
        old_day, new_day = local_date(deadline.due_at), due.due_date
        info = describe(ctx, await ctx.scope.get(Deadline, deadline.id))
        payload = {**info, "oude_vervaldatum": old_day.isoformat(), "ontvangen_op": local_date(start).isoformat(),
                   "brief": letter.letter, "brief_titel": letter.title, "brief_id": str(letter.id),
                   "loopt_weer": reopens, "redenen": [note, *due.reasons]}  # fmt: skip
        event = await ctx.event("termijn_herberekend", actor=actor, visibility=SHARED, payload=payload)
        await notices.tell_provider(ctx, event, RECOUNTED_TEMPLATE, {
            "escalatie": ctx.escalation.reference, "escalation_id": str(ctx.escalation.id), "regio": ctx.region.name,
            "wat": info["titel"], "brief_titel": letter.title, "termijn": deadline.term,
            "ontvangen_op": format_date_nl(local_date(start)), "oude_vervaldatum": format_date_nl(old_day),
            "vervaldatum": format_date_nl(new_day)})  # fmt: skip
        moved.append({**info, "vervaldatum_tekst": format_date_nl(new_day)})
    if moved:
        await refresh_next_due(ctx.scope, ctx.escalation.id)
    return moved

