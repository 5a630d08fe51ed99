"""Preconditions of steps (ladder data: ``StepSpec.requires``), checked by the transition service for pages, API and
sweep alike, and the steps an escalation may take now, each open or closed with the reason.

A precondition names earlier steps (one of them must have been entered) and, with ``term_passed``, that a term
such a step set has passed without being met and is not suspended (BW 6:81-6:83: verzuim only after a notice of
default whose reasonable term has passed). Where the ladder allows it, the decider records a legal exception of
BW 6:83 instead; it is stored with the decision.

A notice works from its receipt (BW 3:37 lid 3): its term counts from the letter's receipt (``receipt_terms``), so
the precondition holds only once the term counted so has passed, and the refusal says until when it runs. When the
term has passed but the notice went by registered post or by hand and no receipt is recorded, the step is not
closed -- a declaration that did not arrive through the addressee's own doing still works (BW 3:37 lid 3, second
sentence) -- but the decider motivates why the notice counts as received (``check_receipt``); the page and the API
say so next to the step.

A step that imposes a measure already in force is closed too ("instroomstop geldt al"): a ladder may offer the
intake stop from more than one step (Zuid-Limburg's safety branch: at once, beside the direct talk, or after the
letter), and it is imposed once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.escalations.context import MEASURE_LABELS, Context, EscalationError
from apps.escalations.deadlines import term_spec
from apps.escalations.letter_sending import RECORDED_WAYS, SENT_NL
from apps.escalations.tables import Deadline, Escalation, LetterDelivery, Measure, TimelineEvent
from apps.ladders.calendar import AMSTERDAM, format_date_nl
from apps.ladders.schema import LEGAL_EXCEPTIONS, LadderSpec, MoveToStep, StartMeasure, StepSpec, SuggestStep, TermSpec
from core.tenancy import RegionScope

ENTERING_EVENTS = ("escalatie_geopend", "stap_gewijzigd")


def _day(moment: datetime) -> str:
    return format_date_nl(moment.astimezone(AMSTERDAM).date())


@dataclass(frozen=True)
class NoticeTerm:
    """A term a step's letter set, counted from the letter's receipt (BW 3:37 lid 3), as a precondition weighs it."""

    step: str
    status: str
    due_at: datetime
    starts_at: datetime  # the receipt it counts from: expected, or as recorded when later
    passed: bool  # due, not met, not suspended
    letter: str  # the letter's title
    method: str  # how it went (letter_sending.METHODS)
    sent_at: datetime
    received_at: datetime | None

    @property
    def proved(self) -> bool:
        """Received: through the portal (the day it went), or with a recorded receipt."""
        return self.method not in RECORDED_WAYS or self.received_at is not None

    def still_runs(self) -> str:
        """Dutch: until when the term runs, counted from which receipt."""
        if self.status == "suspended":
            return f"De termijn van de brief ‘{self.letter}’ is opgeschort."
        expected = "" if self.proved else "verwachte "
        return (f"De termijn van de brief ‘{self.letter}’ loopt nog tot en met {_day(self.due_at)}, gerekend vanaf "
                f"de {expected}ontvangst van de brief op {_day(self.starts_at)}.")  # fmt: skip

    def unreceived(self) -> str:
        """Dutch: the receipt is not recorded, and what the decider may do."""
        return (f"De ontvangst van de brief ‘{self.letter}’ ({SENT_NL.get(self.method, self.method)} op "
                f"{_day(self.sent_at)}) is niet vastgelegd. Leg de ontvangst vast bij ‘Brieven en ontvangst’, of "
                "motiveer waarom de brief toch als ontvangen geldt (artikel 3:37 lid 3 BW), bijvoorbeeld omdat de "
                "aanbieder de aangetekende brief niet heeft afgehaald of de afgifte heeft geweigerd.")  # fmt: skip


@dataclass(frozen=True)
class History:
    """What happened so far that preconditions look at."""

    entered: frozenset[str]  # steps the escalation has been in
    passed: frozenset[str]  # steps that set a term which has passed (due, not met, not suspended)
    in_force: frozenset[str] = frozenset()  # kinds of the escalation's measures in force
    notices: tuple[NoticeTerm, ...] = ()  # the terms counted from a letter's receipt, not met


@dataclass(frozen=True)
class StepOption:
    key: str
    title: str
    open: bool
    label: str = ""  # the word on the page why it is closed ("eerst verzuim")
    reason: str = ""  # the full Dutch refusal
    exceptions: tuple[tuple[str, str], ...] = ()  # (key, Dutch text) of BW 6:83 grounds the decider may record
    receipt: str = ""  # open, but the notice it rests on has no recorded receipt: the decider motivates (Dutch)


async def history(ctx: Context) -> History:
    return await history_of(ctx.scope, ctx.escalation, ctx.clock.now())


async def history_of(scope: RegionScope, escalation: Escalation, now: datetime) -> History:
    """``history`` for a reader that holds no lock on the escalation (the API's detail)."""
    rows = await scope.select(TimelineEvent, TimelineEvent.kind, TimelineEvent.payload).where(
        (TimelineEvent.escalation == escalation.id) & TimelineEvent.kind.is_in(list(ENTERING_EVENTS))
    )
    deadlines = await scope.select(
        Deadline, Deadline.step, Deadline.status, Deadline.due_at, Deadline.starts_at, Deadline.letter_delivery
    ).where(
        (Deadline.escalation == escalation.id)
        & Deadline.status.is_in([*PASSING, "suspended"])
        & Deadline.due_at.is_not_null()
        & Deadline.met_at.is_null()
    )
    measures = await scope.select(Measure, Measure.kind).where(
        (Measure.escalation == escalation.id) & Measure.ended_at.is_null()
    )
    letter_ids = sorted({r["letter_delivery"] for r in deadlines if r["letter_delivery"]}, key=str)
    letters = await scope.select(
        LetterDelivery, LetterDelivery.id, LetterDelivery.title, LetterDelivery.method, LetterDelivery.sent_at,
        LetterDelivery.received_at,
    ).where(LetterDelivery.id.is_in(letter_ids)) if letter_ids else []  # fmt: skip
    passed = [r["step"] for r in deadlines if r["status"] in PASSING and r["due_at"] <= now]
    return history_from(escalation, rows, passed, [r["kind"] for r in measures],
                        notice_terms(deadlines, {str(x["id"]): x for x in letters}, now))  # fmt: skip


PASSING = ["open", "missed", "cancelled"]  # a term in one of these states, due and not met, has passed


def notice_terms(deadlines: Iterable[Deadline | Mapping[str, Any]], letters: Mapping[str, Mapping[str, Any]],
                 now: datetime) -> tuple[NoticeTerm, ...]:  # fmt: skip
    """The terms counted from a letter's receipt among ``deadlines`` (rows or objects: step, status, due_at,
    starts_at, letter_delivery, met_at), not met, with their letter from ``letters`` (by id as text: title, method,
    sent_at, received_at), newest letter first."""
    found = []
    for row in deadlines:
        get = row.get if isinstance(row, Mapping) else (lambda name, row=row: getattr(row, name))
        letter = letters.get(str(get("letter_delivery") or ""))
        if letter is None or get("due_at") is None or get("met_at") is not None:
            continue
        status = get("status")
        if status not in (*PASSING, "suspended"):
            continue
        found.append(NoticeTerm(step=get("step"), status=status, due_at=get("due_at"), starts_at=get("starts_at"),
                                passed=status in PASSING and get("due_at") <= now, letter=letter["title"],
                                method=letter["method"], sent_at=letter["sent_at"],
                                received_at=letter["received_at"]))  # fmt: skip
    return tuple(sorted(found, key=lambda n: n.sent_at, reverse=True))


def history_from(escalation: Escalation, entering: list[dict], passed_steps: list[str],
                 measures_in_force: list[str], notices: tuple[NoticeTerm, ...] = ()) -> History:  # fmt: skip
    """``History`` from rows read already: the escalation's entering events (kind, payload), the steps of its
    passed terms, the kinds of its measures in force and the terms counted from a letter's receipt
    (``notice_terms``; the escalation page reads them all for itself)."""
    entered = {escalation.current_step}
    for row in entering:
        payload = row["payload"] or {}
        entered.add(payload.get("naar") if row["kind"] == "stap_gewijzigd" else payload.get("stap"))
    return History(entered=frozenset(k for k in entered if k), passed=frozenset(passed_steps),
                   in_force=frozenset(measures_in_force), notices=notices)  # fmt: skip


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
    if any(key in done for key in requires.steps):
        return None
    running = [n for n in past.notices if n.step in requires.steps and not n.passed] if requires.term_passed else []
    return f"{requires.reason} {running[0].still_runs()}" if running else requires.reason


def unproved_notice(step: StepSpec, past: History) -> NoticeTerm | None:
    """For a step whose precondition holds because a notice's term passed: the notice it rests on when none of the
    passed notices is proved received (registered post or by hand, no receipt recorded), else None. A step that
    passed by a term not counted from a letter rests on no letter."""
    requires = step.requires
    if requires is None or not requires.term_passed or refusal(step, past) is not None:
        return None
    passed = [n for n in past.notices if n.step in requires.steps and n.passed]
    for key in requires.steps:
        of_step = [n for n in passed if n.step == key]
        if key in past.passed and (not of_step or any(n.proved for n in of_step)):
            return None
    return passed[0] if passed else None


def closed_because(step: StepSpec, past: History) -> tuple[str, str] | None:
    """(label, Dutch reason) why ``step`` cannot be taken now, or None when it can (as ``step_options`` says)."""
    if in_force := measure_in_force(step, past):
        return f"{in_force} geldt al", f"Voor deze escalatie geldt al een {in_force}; hef die eerst op."
    reason = refusal(step, past)
    if reason is None:
        return None
    return (step.requires.label if step.requires else ""), reason


# an open step whose notice's receipt is recorded (or needs none)
CLOSED_NOT = {"closed_label": None, "closed_reason": None, "legal_exceptions": [], "receipt_unconfirmed": None}


async def closed_steps(scope: RegionScope, escalation: Escalation, spec: LadderSpec, keys: list[str],
                       now: datetime) -> dict[str, dict]:  # fmt: skip
    """For the API: each of ``keys`` that is closed now, with its label, reason and the BW 6:83 grounds allowed, and
    each open one that rests on a notice whose receipt is not recorded (``receipt_unconfirmed``: the Dutch text the
    page shows; a transition then needs ``receipt_motivation``)."""
    if not keys:
        return {}
    past = await history_of(scope, escalation, now)
    found = {}
    for key in keys:
        step = spec.step(key)
        if (closed := closed_because(step, past)) is not None:
            grounds = list(step.requires.exceptions) if step.requires and not measure_in_force(step, past) else []
            found[key] = {"closed_label": closed[0], "closed_reason": closed[1], "legal_exceptions": grounds,
                          "receipt_unconfirmed": None}  # fmt: skip
        elif (notice := unproved_notice(step, past)) is not None:
            found[key] = {**CLOSED_NOT, "receipt_unconfirmed": notice.unreceived()}
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
        notice = unproved_notice(step, past) if reason is None else None
        options.append(StepOption(key=key, title=step.title, open=reason is None,
                                  label=step.requires.label if reason and step.requires else "", reason=reason or "",
                                  exceptions=grounds, receipt=notice.unreceived() if notice else ""))  # fmt: skip
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


class ReceiptUnproved(EscalationError):
    """A step that rests on a notice whose receipt is not recorded, taken without saying why it counts as received."""


async def check_receipt(ctx: Context, target: StepSpec, motivation: str) -> dict | None:
    """BW 3:37 lid 3: a step that rests on a notice sent by registered post or by hand whose receipt is not recorded
    needs the decider's motivation why the notice counts as received (ReceiptUnproved, Dutch, otherwise). Returns
    what to store with the decision (the motivation and the letter it is about), or None when the receipt is
    recorded or needs none (a motivation given then is not stored: the decision does not rest on it)."""
    notice = unproved_notice(target, await history(ctx))
    if notice is None:
        return None
    text = (motivation or "").strip()
    if not text:
        raise ReceiptUnproved(notice.unreceived())
    return {"tekst": text, "brief": notice.letter, "verzending": notice.method,
            "verzonden_op": notice.sent_at.astimezone(AMSTERDAM).date().isoformat()}  # fmt: skip


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
