"""Preconditions of steps (ladder data: ``StepSpec.requires``), checked by the transition service for pages, API and
sweep alike, and the steps an escalation may take now, each open or closed with the reason.

A precondition names earlier steps (one of them must have been entered) and, with ``term_passed``, that a term
such a step set has passed without being met and is not suspended (BW 6:81-6:83: verzuim only after a notice of
default whose reasonable term has passed). Where the ladder allows it, the decider records a legal exception of
BW 6:83 instead; it is stored with the decision.

A step that imposes a measure already in force is closed too ("instroomstop geldt al"): a ladder may offer the
intake stop from more than one step (Zuid-Limburg's safety branch: at once, beside the direct talk, or after the
letter), and it is imposed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.escalations.context import MEASURE_LABELS, Context, EscalationError
from apps.escalations.deadlines import term_spec
from apps.escalations.tables import Deadline, Escalation, Measure, TimelineEvent
from apps.ladders.calendar import AMSTERDAM, format_date_nl
from apps.ladders.schema import LEGAL_EXCEPTIONS, LadderSpec, MoveToStep, StartMeasure, StepSpec, SuggestStep, TermSpec
from core.tenancy import RegionScope

ENTERING_EVENTS = ("escalatie_geopend", "stap_gewijzigd")


@dataclass(frozen=True)
class History:
    """What happened so far that preconditions look at."""

    entered: frozenset[str]  # steps the escalation has been in
    passed: frozenset[str]  # steps that set a term which has passed (due, not met, not suspended)
    in_force: frozenset[str] = frozenset()  # kinds of the escalation's measures in force


@dataclass(frozen=True)
class StepOption:
    key: str
    title: str
    open: bool
    label: str = ""  # the word on the page why it is closed ("eerst verzuim")
    reason: str = ""  # the full Dutch refusal
    exceptions: tuple[tuple[str, str], ...] = ()  # (key, Dutch text) of BW 6:83 grounds the decider may record


async def history(ctx: Context) -> History:
    return await history_of(ctx.scope, ctx.escalation, ctx.clock.now())


async def history_of(scope: RegionScope, escalation: Escalation, now: datetime) -> History:
    """``history`` for a reader that holds no lock on the escalation (the API's detail)."""
    rows = await scope.select(TimelineEvent, TimelineEvent.kind, TimelineEvent.payload).where(
        (TimelineEvent.escalation == escalation.id) & TimelineEvent.kind.is_in(list(ENTERING_EVENTS))
    )
    deadlines = await scope.select(Deadline, Deadline.step).where(
        (Deadline.escalation == escalation.id)
        & Deadline.status.is_in(PASSING)
        & (Deadline.due_at <= now)
        & Deadline.met_at.is_null()
    )
    measures = await scope.select(Measure, Measure.kind).where(
        (Measure.escalation == escalation.id) & Measure.ended_at.is_null()
    )
    return history_from(escalation, rows, [r["step"] for r in deadlines], [r["kind"] for r in measures])


PASSING = ["open", "missed", "cancelled"]  # a term in one of these states, due and not met, has passed


def history_from(escalation: Escalation, entering: list[dict], passed_steps: list[str],
                 measures_in_force: list[str]) -> History:  # fmt: skip
    """``History`` from rows read already: the escalation's entering events (kind, payload), the steps of its
    passed terms and the kinds of its measures in force (the escalation page reads them all for itself)."""
    entered = {escalation.current_step}
    for row in entering:
        payload = row["payload"] or {}
        entered.add(payload.get("naar") if row["kind"] == "stap_gewijzigd" else payload.get("stap"))
    return History(entered=frozenset(k for k in entered if k), passed=frozenset(passed_steps),
                   in_force=frozenset(measures_in_force))  # fmt: skip


def measure_in_force(step: StepSpec, past: History) -> str | None:
    """The Dutch name of a measure ``step`` imposes that is in force already, or None."""
    kinds = [a.measure for a in step.on_enter if isinstance(a, StartMeasure) and a.measure in past.in_force]
    return MEASURE_LABELS.get(kinds[0], kinds[0]) if kinds else None


def refusal(step: StepSpec, past: History) -> str | None:
    """None when ``step``'s precondition holds (or it has none), else the ladder's Dutch reason. (A measure in
    force is refused when the step would impose it again, with the date it started: ``actions.start_measure``.)"""
    requires = step.requires
    if requires is None:
        return None
    done = past.passed if requires.term_passed else past.entered
    return None if any(key in done for key in requires.steps) else requires.reason


def closed_because(step: StepSpec, past: History) -> tuple[str, str] | None:
    """(label, Dutch reason) why ``step`` cannot be taken now, or None when it can (as ``step_options`` says)."""
    if in_force := measure_in_force(step, past):
        return f"{in_force} geldt al", f"Voor deze escalatie geldt al een {in_force}; hef die eerst op."
    reason = refusal(step, past)
    if reason is None:
        return None
    return (step.requires.label if step.requires else ""), reason


CLOSED_NOT = {"closed_label": None, "closed_reason": None, "legal_exceptions": []}  # an open step


async def closed_steps(scope: RegionScope, escalation: Escalation, spec: LadderSpec, keys: list[str],
                       now: datetime) -> dict[str, dict]:  # fmt: skip
    """For the API: each of ``keys`` that is closed now, with its label, reason and the BW 6:83 grounds allowed."""
    if not keys:
        return {}
    past = await history_of(scope, escalation, now)
    found = {}
    for key in keys:
        step = spec.step(key)
        if (closed := closed_because(step, past)) is not None:
            grounds = list(step.requires.exceptions) if step.requires and not measure_in_force(step, past) else []
            found[key] = {"closed_label": closed[0], "closed_reason": closed[1], "legal_exceptions": grounds}
    return found


def exception_text(key: str) -> str:
    return LEGAL_EXCEPTIONS[key]


async def step_options(ctx: Context, past: History | None = None) -> list[StepOption]:
    """The steps the ladder allows from the current one, each open or closed now (none once closed). ``past``:
    the history when the caller has it already (``history_from``)."""
    if ctx.is_closed:
        return []
    past = past or await history(ctx)
    options = []
    for key in ctx.spec.allowed_next(ctx.escalation.current_step):
        step = ctx.step(key)
        reason = refusal(step, past)
        if in_force := measure_in_force(step, past):  # no exception opens it: the measure is in force already
            options.append(StepOption(key=key, title=step.title, open=False, label=f"{in_force} geldt al",
                                      reason=f"Voor deze escalatie geldt al een {in_force}; hef die eerst op."))
            continue
        grounds = tuple((g, LEGAL_EXCEPTIONS[g]) for g in (step.requires.exceptions if step.requires else []))
        options.append(StepOption(key=key, title=step.title, open=reason is None,
                                  label=step.requires.label if reason and step.requires else "", reason=reason or "",
                                  exceptions=grounds))  # fmt: skip
    return options


async def check_preconditions(ctx: Context, target: StepSpec, legal_exception: str | None) -> dict | None:
    """Refuse (EscalationError, Dutch) a step whose precondition does not hold, unless ``legal_exception`` is a
    BW 6:83 ground the ladder allows for it. Returns the exception to store with the decision, or None."""
    legal_exception = (legal_exception or "").strip() or None
    if legal_exception is not None and legal_exception not in LEGAL_EXCEPTIONS:
        raise EscalationError(f"'{legal_exception}' is geen uitzondering van artikel 6:83 BW.")
    reason = refusal(target, await history(ctx))
    if reason is None:
        if legal_exception is None:
            return None
        # Recorded only where it is what the decision rests on: a step whose precondition holds needs none.
        raise EscalationError(
            f"Voor de stap '{target.title}' is geen uitzondering nodig: de voorwaarden zijn vervuld. "
            "Laat de uitzondering weg."
        )
    if legal_exception is None:
        raise EscalationError(reason)
    assert target.requires is not None
    if legal_exception not in target.requires.exceptions:
        raise EscalationError(f"De ladder staat voor de stap '{target.title}' deze uitzondering niet toe. {reason}")
    return {"grond": legal_exception, "tekst": LEGAL_EXCEPTIONS[legal_exception]}


# --- a step the ladder takes for a missed term, taken before that term passed ------------------------------


def leads_to(term: TermSpec, step_key: str) -> bool:
    """Whether missing ``term`` moves to or proposes ``step_key`` (the letter of that step says it was missed)."""
    return any(isinstance(a, MoveToStep | SuggestStep) and a.step == step_key for a in term.on_missed)


async def terms_leading_to(ctx: Context, step_key: str) -> list[tuple[Deadline, TermSpec]]:
    """The escalation's terms (with a due date, not met) whose missing leads to ``step_key``."""
    rows = await ctx.scope.objects(Deadline).where(
        (Deadline.escalation == ctx.escalation.id) & Deadline.due_at.is_not_null() & Deadline.met_at.is_null()
    )
    found = [(row, term_spec(ctx, row)) for row in rows]
    return [(row, spec) for row, spec in found if spec is not None and leads_to(spec, step_key)]


async def check_not_early(ctx: Context, target: StepSpec, motivation: str) -> None:
    """A step the ladder would take when a term is missed, taken while that term still runs, needs a motivation
    (also where the ladder requires none): its letter then says the document has not come yet, not that a
    term was missed."""
    if (motivation or "").strip():
        return
    now = ctx.clock.now()
    for deadline, spec in await terms_leading_to(ctx, target.key):
        if deadline.step == ctx.escalation.current_step and deadline.status in ("open", "suspended") and (
            deadline.due_at > now
        ):
            day = format_date_nl(deadline.due_at.astimezone(AMSTERDAM).date())
            raise EscalationError(
                f"De termijn ‘{spec.title or spec.key}’ loopt nog tot {day}. Motiveer waarom u de stap "
                f"‘{target.title}’ nu al zet."
            )


async def term_was_missed(ctx: Context, step_key: str) -> bool:
    """Whether a term that leads to ``step_key`` has passed: only then may its letter say it was missed."""
    now = ctx.clock.now()
    return any(
        deadline.status == "missed" or deadline.due_at <= now for deadline, _ in await terms_leading_to(ctx, step_key)
    )
