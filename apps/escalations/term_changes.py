"""Changing one running term by hand: suspending it (opschorting, the budget left is kept), resuming it (the budget
counted again from today) and extending it (a number of days, or a new length from its start). Each change is a
timeline event and an audit entry, checked by compare-and-set on the deadline's status.

Split from ``deadlines.py`` (the rows a step makes, meets, reopens and misses), which these use.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from apps.escalations.context import Context, EscalationConflict, EscalationError, load_context, require_decides
from apps.escalations.deadlines import (
    OPEN,
    STATUS_NL,
    SUSPENDED,
    describe,
    end_of_day,
    local_date,
    refresh_next_due,
    remind_at_for,
    term_spec,
)
from apps.escalations.tables import Deadline
from apps.ladders.calendar import DutchCalendar, format_date_nl
from apps.ladders.deadlines import due_date_for
from apps.ladders.terms import TermError, parse_term
from core.actor import Actor
from core.clock import Clock, system_clock
from core.tenancy import RegionScope
from core.transactions import write_transaction


async def _load_for_change(scope: RegionScope, deadline_id: UUID | str, clock: Clock) -> tuple[Context, Deadline]:
    found = await scope.get(Deadline, deadline_id)
    if found is None:
        raise EscalationError("Deze termijn bestaat niet.")
    ctx = await load_context(scope, found.escalation, clock)  # locks the escalation first, then re-read
    deadline = await scope.get(Deadline, found.id)
    if ctx.is_closed:
        raise EscalationConflict(f"Escalatie {ctx.escalation.reference} is afgesloten; termijnen lopen niet meer.")
    return ctx, deadline


def _budget_left(deadline: Deadline, calendar: DutchCalendar) -> tuple[str, int | timedelta]:
    """What is left of the term at suspension: ("werkdagen", n), ("dagen", n) or ("uur", timedelta)."""
    kind = parse_term(deadline.term).kind
    suspended_at = deadline.suspended_at
    if kind == "hours":
        return "uur", max(deadline.due_at - suspended_at, timedelta(0))
    start, end = local_date(suspended_at), local_date(deadline.due_at)
    if kind == "working_days":
        return "werkdagen", calendar.working_days_between(start, end)
    return "dagen", max((end - start).days, 0)


def _describe_budget(unit: str, left: int | timedelta) -> str:
    if isinstance(left, timedelta):
        hours = left.total_seconds() / 3600
        return f"{hours:g} uur"
    if unit == "werkdagen":
        return f"{left} werkdag" if left == 1 else f"{left} werkdagen"
    return f"{left} dag" if left == 1 else f"{left} dagen"


async def suspend_deadline(
    scope: RegionScope,
    deadline_id: UUID | str,
    *,
    actor: Actor,
    reason: str,
    clock: Clock = system_clock,
) -> Deadline:
    """Stop a term's clock (opschorting), e.g. while waiting on a third party. The budget left is kept."""
    require_decides(actor, "een termijn opschorten")
    if not (reason or "").strip():
        raise EscalationError("Geef een reden voor de opschorting.")
    async with write_transaction():
        ctx, deadline = await _load_for_change(scope, deadline_id, clock)
        now = clock.now()
        if deadline.status == SUSPENDED:
            raise EscalationConflict("Deze termijn is al opgeschort.")
        if deadline.status != OPEN:
            raise EscalationError(
                f"Een termijn met status '{STATUS_NL.get(deadline.status, deadline.status)}' kan niet worden "
                "opgeschort."
            )
        if deadline.due_at <= now:
            raise EscalationConflict("Deze termijn is al verstreken en kan niet meer worden opgeschort.")
        changed = (
            await scope.update(
                Deadline, {Deadline.status: SUSPENDED, Deadline.suspended_at: now, Deadline.remind_at: None}
            )
            .where((Deadline.id == deadline.id) & (Deadline.status == OPEN))
            .returning(Deadline.id)
        )
        if not changed:
            raise EscalationConflict("Deze termijn is intussen gewijzigd; probeer het opnieuw.")
        await refresh_next_due(scope, deadline.escalation)
        deadline = await scope.get(Deadline, deadline.id)
        unit, left = _budget_left(deadline, ctx.calendar)
        info = describe(ctx, deadline)
        await ctx.event(
            "termijn_opgeschort",
            actor=actor,
            motivation=reason.strip(),
            payload={**info, "opgeschort_op": local_date(now).isoformat(), "resterend": _describe_budget(unit, left)},
        )
        await ctx.audit("deadline.suspend", actor=actor, detail={**info, "reden": reason.strip()})
        return deadline


async def resume_deadline(
    scope: RegionScope,
    deadline_id: UUID | str,
    *,
    actor: Actor,
    motivation: str = "",
    clock: Clock = system_clock,
) -> Deadline:
    """Restart a suspended term. The new due date is the budget left at suspension counted from today:
    working days for "werkdagen" terms, the exact time for "uur" terms, calendar days otherwise (then moved
    to a working day by the Atw). The reasons record the suspension and any new move."""
    require_decides(actor, "een termijn hervatten")
    async with write_transaction():
        ctx, deadline = await _load_for_change(scope, deadline_id, clock)
        if deadline.status != SUSPENDED:
            raise EscalationConflict("Deze termijn is niet opgeschort.")
        now, calendar = clock.now(), ctx.calendar
        unit, left = _budget_left(deadline, calendar)
        today = local_date(now)
        moves: tuple[str, ...] = ()
        if isinstance(left, timedelta):
            due_at = now + left
        elif left == 0:  # suspended on its last day: it ends at the end of the (first working) day of resuming
            day, moves = calendar.next_working_day(today)
            due_at = end_of_day(day)
        else:
            due = due_date_for(now, f"{left} {'werkdagen' if unit == 'werkdagen' else 'dagen'}", calendar)
            due_at, moves = due.due_at, due.reasons
        since = local_date(deadline.suspended_at)
        new_reasons = [f"opgeschort van {format_date_nl(since)} tot {format_date_nl(today)}", *moves]
        reasons = [*(deadline.reasons or []), *new_reasons]
        spec = term_spec(ctx, deadline)
        remind_at = remind_at_for(due_at, spec.remind_before if spec else None, calendar, now)
        changed = (
            await scope.update(
                Deadline,
                {
                    Deadline.status: OPEN,
                    Deadline.suspended_at: None,
                    Deadline.due_at: due_at,
                    Deadline.remind_at: remind_at,
                    Deadline.reasons: reasons,
                },
            )
            .where((Deadline.id == deadline.id) & (Deadline.status == SUSPENDED))
            .returning(Deadline.id)
        )
        if not changed:
            raise EscalationConflict("Deze termijn is intussen gewijzigd; probeer het opnieuw.")
        await refresh_next_due(scope, deadline.escalation)
        old_due = local_date(deadline.due_at)
        deadline = await scope.get(Deadline, deadline.id)
        info = describe(ctx, deadline)
        await ctx.event(
            "termijn_hervat",
            actor=actor,
            motivation=(motivation or "").strip(),
            payload={
                **info,
                "oude_vervaldatum": old_due.isoformat(),
                "opgeschort_van": since.isoformat(),
                "opgeschort_tot": today.isoformat(),
                "resterend": _describe_budget(unit, left),
                "redenen": new_reasons,
            },
        )
        await ctx.audit("deadline.resume", actor=actor, detail=info)
        return deadline


async def extend_deadline(
    scope: RegionScope,
    deadline_id: UUID | str,
    *,
    actor: Actor,
    reason: str,
    new_term: str | None = None,
    days: int | None = None,
    clock: Clock = system_clock,
) -> Deadline:
    """Give more time, with a reason. Either ``days``: the due date moves that many calendar days (then to a
    working day by the Atw); or ``new_term``: the term as the region now sets it ("6 weken", e.g. the
    "redelijke termijn" of an ingebrekestelling), counted from the deadline's original start. It must end
    later than the current due date."""
    require_decides(actor, "een termijn verlengen")
    if (new_term is None) == (days is None):
        raise EscalationError("Geef een nieuwe termijn óf een aantal dagen op.")
    if not (reason or "").strip():
        raise EscalationError("Geef een reden voor de verlenging.")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        raise EscalationError("Verleng met ten minste één dag.")
    if new_term is not None:
        try:
            parse_term(new_term)
        except TermError:
            raise EscalationError(
                f'\'{new_term}\' is geen termijn (bijvoorbeeld "4 weken", "10 werkdagen" of "1 april").'
            ) from None
    async with write_transaction():
        ctx, deadline = await _load_for_change(scope, deadline_id, clock)
        if deadline.status not in (OPEN, SUSPENDED):
            raise EscalationError(
                f"Een termijn met status '{STATUS_NL.get(deadline.status, deadline.status)}' kan niet worden verlengd."
            )
        if new_term is not None and deadline.starts == "contract_end":  # counted back: a new length means nothing
            raise EscalationError("Een termijn vóór het einde van de overeenkomst verlengt u met een aantal dagen.")
        now, calendar = clock.now(), ctx.calendar
        old_due_at = deadline.due_at
        old_day = local_date(old_due_at)
        term_text = deadline.term
        moves: tuple[str, ...] = ()
        if days is not None:
            if parse_term(deadline.term).kind == "hours":
                due_at = old_due_at + timedelta(days=days)
            else:
                day, moves = calendar.next_working_day(old_day + timedelta(days=days))
                due_at = end_of_day(day)
        else:
            assert new_term is not None
            due = due_date_for(deadline.starts_at, new_term, calendar)
            if due.due_at <= old_due_at:
                raise EscalationError(
                    f"De termijn '{new_term}' eindigt niet later dan de huidige vervaldatum "
                    f"({format_date_nl(old_day)}); een verlenging moet later eindigen."
                )
            due_at, moves, term_text = due.due_at, due.reasons, new_term.strip()
        new_day = local_date(due_at)
        new_reasons = [
            f"verlengd: {reason.strip()} (van {format_date_nl(old_day)} naar {format_date_nl(new_day)})",
            *moves,
        ]
        reasons = [*(deadline.reasons or []), *new_reasons]
        spec = term_spec(ctx, deadline)
        values: dict = {Deadline.due_at: due_at, Deadline.reasons: reasons, Deadline.term: term_text}
        if deadline.status == OPEN:
            values[Deadline.remind_at] = remind_at_for(due_at, spec.remind_before if spec else None, calendar, now)
        changed = (
            await scope.update(Deadline, values)
            .where((Deadline.id == deadline.id) & (Deadline.status == deadline.status))
            .returning(Deadline.id)
        )
        if not changed:
            raise EscalationConflict("Deze termijn is intussen gewijzigd; probeer het opnieuw.")
        await refresh_next_due(scope, deadline.escalation)
        deadline = await scope.get(Deadline, deadline.id)
        info = describe(ctx, deadline)
        payload = {**info, "oude_vervaldatum": old_day.isoformat(), "redenen": new_reasons}
        payload.update({"dagen": days} if days is not None else {"nieuwe_termijn": term_text})
        await ctx.event("termijn_verlengd", actor=actor, motivation=reason.strip(), payload=payload)
        await ctx.audit("deadline.extend", actor=actor, detail={**info, "reden": reason.strip()})
        return deadline
