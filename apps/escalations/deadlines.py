"""Deadlines of an escalation: made on entering a step, ended on leaving it, met by a document, started when what
they wait for arrives, reopened by a verdict, and acted on when missed. Every change is a timeline event. Changing
one term by hand (suspending, resuming, extending) is ``term_changes.py``.

Due dates come from ``apps.ladders.deadlines`` (the Atw calendar plus the region's closed days); the reasons
a due date moved are kept on the deadline, oldest first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from dateutil.relativedelta import relativedelta
from piccolo.querystring import QueryString

from apps.escalations.context import (
    SHARED,
    Context,
    EscalationError,
    load_context,
    meets_as_party,
)
from apps.escalations.letter_sending import PORTAL, SENT_NL, expected_receipt
from apps.escalations.tables import Deadline, Escalation
from apps.ladders.calendar import AMSTERDAM, DueDate, DutchCalendar, format_date_nl
from apps.ladders.deadlines import due_date_for
from apps.ladders.schema import DOCUMENT_KINDS, DOCUMENT_NAMES, LETTER, StepSpec, TermSpec, runs_from_letter
from apps.ladders.terms import parse_term
from apps.providers.tables import Contract
from apps.tenancy.tables import Region
from core.actor import SYSTEM, Actor
from core.clock import Clock, FrozenClock, system_clock
from core.tenancy import RegionScope, RegionsScope
from core.transactions import write_transaction

WAITING, OPEN, SUSPENDED, MET, MISSED, CANCELLED = "waiting", "open", "suspended", "met", "missed", "cancelled"
STATUS_NL = {
    WAITING: "wacht",
    OPEN: "lopend",
    SUSPENDED: "opgeschort",
    MET: "gehaald",
    MISSED: "verlopen",
    CANCELLED: "vervallen",
}
REMIND_AT = time(9, 0)  # reminders go out at 09:00 Dutch time on the reminder day


def local_date(moment: datetime) -> date:
    return moment.astimezone(AMSTERDAM).date()


def end_of_day(d: date) -> datetime:
    return datetime.combine(d, time.max, AMSTERDAM).astimezone(UTC)


def remind_at_for(
    due_at: datetime, remind_before: str | None, calendar: DutchCalendar, not_before: datetime
) -> datetime | None:
    """When to remind: ``remind_before`` ("3 werkdagen") before the due date, at 09:00; None if that moment
    is not after ``not_before`` (a reminder in the past is no reminder) or the term gives no such moment."""
    if not remind_before:
        return None
    term = parse_term(remind_before)
    due_day = local_date(due_at)
    if term.kind == "hours":
        moment = due_at - timedelta(hours=term.amount or 0)
    elif term.kind == "working_days":
        day, left = due_day, term.amount or 0
        while left:
            day -= timedelta(days=1)
            if calendar.is_working_day(day):
                left -= 1
        moment = datetime.combine(day, REMIND_AT, AMSTERDAM)
    elif term.kind in ("days", "weeks", "months", "years"):
        delta = relativedelta(**{term.kind: term.amount or 0})
        moment = datetime.combine(due_day - delta, REMIND_AT, AMSTERDAM)
    else:  # a fixed date or month is no distance before a due date
        return None
    moment = moment.astimezone(UTC)
    return moment if moment > not_before else None


def waiting_for(starts: str) -> str:
    """What a waiting term waits for, in Dutch: "wacht op levering van het arrangement"."""
    kind, _, value = starts.partition(":")
    if kind == "document":
        return f"wacht op levering van het {DOCUMENT_NAMES.get(value, value)}"
    if starts == "contract_end":
        return "wacht op de einddatum van de overeenkomst"
    return "wacht op het begin van de termijn"


def term_spec(ctx: Context, deadline: Deadline) -> TermSpec | None:
    try:
        step = ctx.spec.step(deadline.step)
    except KeyError:
        return None
    return next((t for t in step.terms if t.key == deadline.key), None)


def describe(ctx: Context, deadline: Deadline) -> dict[str, Any]:
    """The deadline as timeline payloads show it."""
    return describe_with(term_spec(ctx, deadline), deadline)


def describe_with(spec: TermSpec | None, deadline: Deadline) -> dict[str, Any]:
    return {
        "termijn": deadline.key,
        "titel": spec.title if spec and spec.title else deadline.key,
        "stap": deadline.step,
        "termijn_tekst": deadline.term,
        "vervaldatum": local_date(deadline.due_at).isoformat() if deadline.due_at else None,
        "deadline_id": str(deadline.id),
    }


NEXT_DUE = QueryString(
    "(SELECT MIN(d.due_at) FROM deadline d WHERE d.escalation = escalation.id AND d.status = 'open')"
)


async def refresh_next_due(scope: RegionScope, escalation_ids: UUID | str | list) -> None:
    """Set ``escalation.next_due_at`` to the earliest due moment of its open deadlines (one UPDATE through the
    deadline's escalation index). Called by every change of a deadline, inside its transaction, so the lists can
    sort on an indexed column instead of a subquery per row."""
    ids = escalation_ids if isinstance(escalation_ids, list) else [escalation_ids]
    if ids:
        await scope.update(Escalation, {Escalation.next_due_at: NEXT_DUE}).where(
            Escalation.id.is_in([UUID(str(i)) for i in ids])
        )


# --- entering and leaving steps ------------------------------------------------------------------------


async def create_step_deadlines(
    ctx: Context, step: StepSpec, *, sending: str = PORTAL
) -> tuple[list[dict], list[dict]]:
    """A deadline per term of ``step``. Returns (created, skipped) for the step's event.

    A term starts where its ``starts`` says: on entering the step (counted from now), on a fixed date, before
    the contract's end date (counted back), or when a document of a kind is delivered -- until then it waits,
    without a due date ("wacht op levering van het arrangement"). A term the step's letter sets
    (``runs_from_letter``: an ingebrekestelling's reasonable term) counts from the letter's expected receipt for
    its way of ``sending`` (``letter_sending.expected_receipt``: registered post a working day later); the letter,
    issued next in the same transaction, is linked to it (``receipt_terms.count_from_letter``) and a receipt recorded
    later than expected moves it on.

    A term that would end before the step begins -- a fixed date with a year that has passed (the VNG ladder's
    "1 april 2021", one round of agreements), a moment before the contract's end that has gone, or a contract
    without an end date -- makes no deadline: it could only be missed at once. It is listed as skipped instead.
    """
    now = ctx.clock.now()
    calendar = ctx.calendar
    created: list[dict] = []
    skipped: list[dict] = []
    received = expected_receipt(sending, now, calendar)
    for term in step.terms:
        from_letter = runs_from_letter(step, term)
        planned = await _plan_term(ctx, term, received if from_letter else now)
        if isinstance(planned, str):
            skipped.append({"termijn": term.key, "titel": term.title or term.key, "reden": planned})
            continue
        if planned is None:  # waits for its event
            row = ctx.scope.new(
                Deadline,
                escalation=ctx.escalation.id,
                step=step.key,
                key=term.key,
                term=term.term,
                met_by=term.met_by,
                starts=term.starts,
                starts_at=None,
                due_at=None,
                status=WAITING,
                reasons=[],
            )
            await row.save()
            created.append(
                {
                    "termijn": term.key,
                    "titel": term.title or term.key,
                    "termijn_tekst": term.term,
                    "vervaldatum": None,
                    "wacht_op": waiting_for(term.starts),
                    "redenen": [],
                }
            )
            continue
        starts_at, due = planned
        # a letter expected later than it goes (registered post): the reason is kept with the term
        reasons = [*([receipt_reason(sending, received)] if from_letter and received > now else []), *due.reasons]
        row = ctx.scope.new(
            Deadline,
            escalation=ctx.escalation.id,
            step=step.key,
            key=term.key,
            term=term.term,
            met_by=term.met_by,
            starts=LETTER if from_letter else term.starts,
            starts_at=starts_at,
            due_at=due.due_at,
            remind_at=remind_at_for(due.due_at, term.remind_before, calendar, now),
            status=OPEN,
            reasons=reasons,
        )
        await row.save()
        created.append(
            {
                "termijn": term.key,
                "titel": term.title or term.key,
                "termijn_tekst": term.term,
                "vervaldatum": due.due_date.isoformat(),
                "redenen": reasons,
            }
        )
    await refresh_next_due(ctx.scope, ctx.escalation.id)
    return created, skipped


def receipt_reason(sending: str, received: datetime, *, recorded: bool = False) -> str:
    """Why a term starts when it does, in Dutch: "gerekend vanaf de verwachte ontvangst van de brief op 3 maart 2026
    (aangetekend verstuurd)"."""
    day, how = format_date_nl(local_date(received)), SENT_NL.get(sending, sending)
    if recorded:
        return f"herberekend vanaf de ontvangst van de brief op {day} ({how})"
    return f"gerekend vanaf de verwachte ontvangst van de brief op {day} ({how})"


async def _plan_term(ctx: Context, term: TermSpec, now: datetime) -> tuple[datetime, DueDate] | str | None:
    """(start, due date) of a term entering its step at ``now`` (for a term its letter sets: the letter's expected
    receipt); None when it waits for a delivery; a Dutch reason when it makes no deadline."""
    calendar = ctx.calendar
    kind, _, value = term.starts.partition(":")
    if kind == "document":
        return None
    if term.starts == "contract_end":
        contract = await ctx.scope.get(Contract, ctx.escalation.contract) if ctx.escalation.contract else None
        if contract is None or contract.valid_until is None:
            return "de overeenkomst van deze escalatie heeft geen einddatum"
        due = due_before(contract.valid_until, term.term, calendar)
        if due.due_at < now:
            return (
                f"{term.term} vóór het einde van de overeenkomst ({format_date_nl(contract.valid_until)}) "
                f"was {format_date_nl(due.due_date)}, vóór het begin van deze stap"
            )
        return now, due
    start: datetime = now
    if kind == "date":
        start = datetime.combine(date.fromisoformat(value), time(0), AMSTERDAM)
    parsed = parse_term(term.term)
    due = due_date_for(start, term.term, calendar)
    if parsed.kind == "fixed_date" and parsed.year is not None and due.due_at < now:
        return f"de vaste datum {format_date_nl(due.due_date)} ligt vóór het begin van deze stap"
    return start, due


def due_before(end: date, term_text: str, calendar: DutchCalendar) -> DueDate:
    """The last day to act ``term_text`` before ``end`` ("3 maanden voor einde overeenkomst"). Counting back
    has no Atw extension: a day that is not a working day moves EARLIER, to the working day before, so that
    acting on the due date is always in time."""
    term = parse_term(term_text)
    amount = term.amount or 0
    if term.kind == "working_days":
        day, left = end, amount
        while left:
            day -= timedelta(days=1)
            if calendar.is_working_day(day):
                left -= 1
    else:
        day = end - relativedelta(**{term.kind: amount})
    reasons: list[str] = []
    while not calendar.is_working_day(day):
        reasons.append(f"vervroegd: {calendar.closed_reason(day)} ({format_date_nl(day)})")
        day -= timedelta(days=1)
    return DueDate(due_date=day, due_at=end_of_day(day), reasons=tuple(reasons))


async def end_running_deadlines(ctx: Context, to_step: str | None) -> tuple[list[str], list[str]]:
    """End every running (open or suspended) deadline: "met" when the term is met by entering ``to_step``,
    else "cancelled". Returns the keys (met, cancelled)."""
    scope, now = ctx.scope, ctx.clock.now()
    running = await scope.select(Deadline, Deadline.id, Deadline.key, Deadline.met_by).where(
        (Deadline.escalation == ctx.escalation.id) & Deadline.status.is_in([WAITING, OPEN, SUSPENDED])
    )
    met = [r for r in running if to_step and r["met_by"] == f"step:{to_step}"]
    cancelled = [r for r in running if r not in met]
    for rows, status in ((met, MET), (cancelled, CANCELLED)):
        if not rows:
            continue
        values: dict = {Deadline.status: status, Deadline.ended_at: now, Deadline.remind_at: None}
        if status == MET:
            values[Deadline.met_at] = now
        await scope.update(Deadline, values).where(Deadline.id.is_in([r["id"] for r in rows]))
    if running:
        await refresh_next_due(scope, ctx.escalation.id)
    return [r["key"] for r in met], [r["key"] for r in cancelled]


# --- meeting and missing -------------------------------------------------------------------------------


async def meet_deadlines_for_document(
    scope: RegionScope,
    escalation_id: UUID | str,
    document_kind: str,
    at: datetime,
    *,
    actor: Actor = SYSTEM,
    recorded_at: datetime | None = None,
    react: Callable[[Context, Deadline, TermSpec], Awaitable[None]] | None = None,
) -> list[Deadline]:
    """A document of ``document_kind`` was delivered at ``at``: the current step's running deadlines met by
    it are met (by a provider's person: only the provider's terms, ``meets_as_party``), and the terms that wait for
    it start from ``at``. ``recorded_at`` (default ``at``): when this is
    recorded -- a receipt the region enters later is dated on the timeline when entered, and no reminder is set
    in the past. ``react``: runs a met term's ``on_met`` (the transition service's, which may move a step), after
    the waiting terms started. Late delivery is accepted: a deadline past its due moment, or already missed (its
    missed-term actions have run), is met as well and recorded with ``te_laat: true``. A suspended deadline is
    never late.
    Returns the deadlines met (none: nothing waited for this document)."""
    if document_kind not in DOCUMENT_KINDS:
        raise EscalationError(f"Onbekende documentsoort '{document_kind}'.")
    if at.tzinfo is None:
        raise ValueError("at must be a timezone-aware datetime")
    clock = FrozenClock(recorded_at or at)
    met: list[Deadline] = []
    async with write_transaction():
        ctx = await load_context(scope, escalation_id, clock)
        candidates = await scope.objects(Deadline).where(
            (Deadline.escalation == ctx.escalation.id)
            & (Deadline.met_by == f"document:{document_kind}")
            & (Deadline.step == ctx.escalation.current_step)
            & Deadline.status.is_in([OPEN, SUSPENDED, MISSED])
            & Deadline.met_at.is_null()
        )
        for deadline in sorted(candidates, key=lambda d: d.due_at):
            if not meets_as_party(actor, term_spec(ctx, deadline)):
                continue  # a provider's upload never meets the municipality's or the region's term
            late = deadline.status == MISSED or (deadline.status == OPEN and at > deadline.due_at)
            changed = (
                await scope.update(
                    Deadline,
                    {
                        Deadline.status: MET,
                        Deadline.met_at: at,
                        Deadline.ended_at: at,
                        Deadline.remind_at: None,
                        Deadline.suspended_at: None,
                    },
                )
                .where((Deadline.id == deadline.id) & (Deadline.status == deadline.status))
                .returning(Deadline.id)
            )
            if not changed:
                continue
            await ctx.event(
                "termijn_gehaald",
                actor=actor,
                payload={**describe(ctx, deadline), "document": document_kind, "te_laat": late},
            )
            met.append(await scope.get(Deadline, deadline.id))
        await _start_waiting_for_document(ctx, document_kind, at, actor)
        for deadline in met:
            spec = term_spec(ctx, deadline)
            if react is not None and spec is not None and spec.on_met:
                await react(ctx, deadline, spec)
        await refresh_next_due(scope, ctx.escalation.id)
    return met


async def _start_waiting_for_document(ctx: Context, document_kind: str, at: datetime, actor: Actor) -> None:
    """The current step's terms that wait for this kind of document start now, counted from the delivery
    ("reactie op het arrangement binnen 10 werkdagen na aanlevering")."""
    waiting = await ctx.scope.objects(Deadline).where(
        (Deadline.escalation == ctx.escalation.id)
        & (Deadline.step == ctx.escalation.current_step)
        & (Deadline.status == WAITING)
        & (Deadline.starts == f"document:{document_kind}")
    )
    for deadline in waiting:
        started = await _start_term(ctx, deadline, at, keep_reasons=False)
        if started is not None:
            due, row = started
            await ctx.event(
                "termijn_gestart",
                actor=actor,
                payload={**describe(ctx, row), "document": document_kind, "redenen": list(due.reasons)},
            )


async def _start_term(
    ctx: Context, deadline: Deadline, at: datetime, *, keep_reasons: bool, because: tuple[str, ...] = ()
) -> tuple[DueDate, Deadline] | None:
    """Let ``deadline`` run from ``at``: open, its due date counted from ``at`` in the region's calendar, its reminder
    set, ``because`` and the calendar's moves added to its reasons (after the earlier ones when ``keep_reasons``).
    A compare-and-set on the status it had: None when it changed meanwhile."""
    scope, calendar = ctx.scope, ctx.calendar
    due = due_date_for(at, deadline.term, calendar)
    spec = term_spec(ctx, deadline)
    reasons = [*((deadline.reasons or []) if keep_reasons else []), *because, *due.reasons]
    changed = (
        await scope.update(
            Deadline,
            {
                Deadline.status: OPEN,
                Deadline.starts_at: at,
                Deadline.due_at: due.due_at,
                Deadline.met_at: None,
                Deadline.ended_at: None,
                Deadline.claimed_by: "",
                Deadline.claimed_at: None,
                Deadline.reasons: reasons,
                Deadline.remind_at: remind_at_for(
                    due.due_at, spec.remind_before if spec else None, calendar, ctx.clock.now()
                ),
            },
        )
        .where((Deadline.id == deadline.id) & (Deadline.status == deadline.status))
        .returning(Deadline.id)
    )
    if not changed:
        return None
    return due, await scope.get(Deadline, deadline.id)


# --- verdicts: a delivery judged reopens or meets again the terms it met ---------------------------------


async def reopen_met_terms(
    ctx: Context, deadlines: list[Deadline], *, because: str, actor: Actor, motivation: str, payload: dict
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A verdict refused what met ``deadlines``: each met term of the current step is open again, counted anew from
    now in the region's calendar ("heropend: <because> op 6 april 2026"), with a ``termijn_heropend`` event (``payload``
    added), so the provider must deliver again and a new delivery meets it as before.

    A term belongs to its step: a met term of an earlier step stays met (the escalation has moved on; the team takes
    a step if the refusal calls for one) and is returned in the second list, for the verdict to say so.
    Returns (reopened: each described with ``vervaldatum_tekst``, kept: each described)."""
    now = ctx.clock.now()
    reopened: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    note = f"heropend: {because} op {format_date_nl(local_date(now))}"
    for deadline in deadlines:
        if deadline.status != MET:
            continue
        if deadline.step != ctx.escalation.current_step:
            kept.append(describe(ctx, deadline))
            continue
        started = await _start_term(ctx, deadline, now, keep_reasons=True, because=(note,))
        if started is None:
            continue
        due, row = started
        info = describe(ctx, row)
        await ctx.event("termijn_heropend", actor=actor, motivation=motivation,
                        payload={**info, **payload, "redenen": [note, *due.reasons]})  # fmt: skip
        reopened.append({**info, "vervaldatum_tekst": format_date_nl(due.due_date)})
    if reopened:
        await refresh_next_due(ctx.scope, ctx.escalation.id)
    return reopened, kept


async def meet_terms_again(
    ctx: Context, deadlines: list[Deadline], *, actor: Actor, payload: dict
) -> list[dict[str, Any]]:
    """A verdict accepts what had met ``deadlines`` after an earlier verdict reopened them: each such term of the
    current step that is running (or was missed since) is met again, now, with a ``termijn_gehaald`` event. The
    ladder's reaction to a met term ran when it was first met and does not run twice."""
    now = ctx.clock.now()
    met: list[dict[str, Any]] = []
    for deadline in deadlines:
        if deadline.step != ctx.escalation.current_step or deadline.status not in (OPEN, SUSPENDED, MISSED):
            continue
        changed = (
            await ctx.scope.update(
                Deadline,
                {Deadline.status: MET, Deadline.met_at: now, Deadline.ended_at: now, Deadline.remind_at: None,
                 Deadline.suspended_at: None},
            )  # fmt: skip
            .where((Deadline.id == deadline.id) & (Deadline.status == deadline.status))
            .returning(Deadline.id)
        )
        if not changed:
            continue
        info = describe(ctx, deadline)
        await ctx.event("termijn_gehaald", actor=actor, payload={**info, **payload, "te_laat": False})
        met.append(info)
    if met:
        await refresh_next_due(ctx.scope, ctx.escalation.id)
    return met


async def claim_missed_deadline(
    scope: RegionScope, deadline_id: UUID | str, clock: Clock, *, worker: str
) -> tuple[Context, Deadline] | None:
    """Inside the caller's write transaction: mark a due deadline missed, exactly once, with its
    ``termijn_verlopen`` event. Returns the context and the deadline, or None when there was nothing to claim.

    The claim is a compare-and-set (UPDATE ... WHERE id = ? AND status = 'open' AND due_at <= now RETURNING
    id): of several workers racing for one deadline only the one whose update changed a row gets it. What the
    ladder does about the missed term is the transition service's (``transitions.act_on_missed_deadline``)."""
    found = await scope.get(Deadline, deadline_id)
    if found is None or found.status != OPEN:
        return None
    ctx = await load_context(scope, found.escalation, clock)
    now = clock.now()
    claimed = (
        await scope.update(
            Deadline,
            {
                Deadline.status: MISSED,
                Deadline.ended_at: now,
                Deadline.claimed_by: worker[:80],
                Deadline.claimed_at: now,
                Deadline.remind_at: None,
            },
        )
        .where((Deadline.id == found.id) & (Deadline.status == OPEN) & (Deadline.due_at <= now))
        .returning(Deadline.id)
    )
    if not claimed:
        return None
    await refresh_next_due(scope, found.escalation)
    deadline = await scope.get(Deadline, found.id)
    info = describe(ctx, deadline)
    await ctx.event("termijn_verlopen", actor=SYSTEM, visibility=SHARED, payload=info)
    await ctx.audit("deadline.missed", actor=SYSTEM, detail=info)
    return ctx, deadline


@dataclass(frozen=True)
class DueDeadline:
    region_id: UUID
    deadline_id: UUID


def due_query(region_ids: list, now: datetime, limit: int):
    """The due query itself (``EXPLAIN``-ed in tests/escalations/test_due_index.py): open deadlines of these regions
    due by ``now``, oldest first: a range of the partial index ``deadline_open_due_at``."""
    return (
        RegionsScope(region_ids).select(Deadline, Deadline.id, Deadline.region)
        .where((Deadline.status == OPEN) & (Deadline.due_at <= now))
        .order_by(Deadline.due_at)
        .limit(limit)
    )  # fmt: skip


async def due_deadlines(clock: Clock = system_clock, *, limit: int = 500) -> list[DueDeadline]:
    """FOR THE SWEEP ONLY (workers): the open deadlines of every active region whose due moment has passed,
    oldest first, at most ``limit``, in one index range across the regions (``due_query``); pass the region back
    in (``RegionScope(d.region_id)``) to ``transitions.act_on_missed_deadline``."""
    regions = [row["id"] for row in await Region.select(Region.id).where(Region.active == True)]  # noqa: E712
    rows = await due_query(regions, clock.now(), limit)
    return [DueDeadline(UUID(str(r["region"])), r["id"]) for r in rows]
