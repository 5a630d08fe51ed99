"""The term a decider sets when taking a step (BW 6:82: an ingebrekestelling gives a reasonable term; the ladder's
term is the default). ``transition(term_overrides={term_key: "6 weken"})`` counts the step's deadline from the
chosen term; the letter prints it, the step's event and the audit entry record it (``gekozen_termijnen``).

Only a term that starts on entering the step or at its letter's receipt and is a length ("4 weken", "10 werkdagen")
can be set: a fixed date or a term counted back from the contract's end is the ladder's, not the decider's.
"""

from __future__ import annotations

from collections.abc import Mapping

from apps.escalations.context import EscalationError
from apps.ladders.schema import LETTER, SendLetter, StepSpec, TermSpec
from apps.ladders.terms import RELATIVE_KINDS, TermError, parse_term

# Letters that set the reasonable term themselves (a notice of default, a written warning with a term): their
# step's page offers the field "Redelijke termijn".
REASONABLE_TERM_LETTERS = frozenset({"ingebrekestelling", "schriftelijke_waarschuwing"})


def settable_terms(step: StepSpec) -> list[TermSpec]:
    """The terms of ``step`` a decider may set: counted from entering the step or from its letter's receipt, as a
    length."""
    found = []
    for term in step.terms:
        try:
            kind = parse_term(term.term).kind
        except TermError:
            continue
        if term.starts in ("step", LETTER) and kind in RELATIVE_KINDS:
            found.append(term)
    return found


def page_terms(step: StepSpec) -> list[TermSpec]:
    """The terms the escalation page lets the decider set when sending the step's letter (an ingebrekestelling)."""
    letters = {a.letter for a in step.on_enter if isinstance(a, SendLetter)}
    return settable_terms(step) if REASONABLE_TERM_LETTERS & letters else []


def checked_term(value: str) -> str:
    """The term as typed, written canonically ("6 weken"); EscalationError (Dutch) when it is no length."""
    try:
        term = parse_term(value)
    except TermError:
        term = None
    if term is None or term.kind not in RELATIVE_KINDS:
        raise EscalationError(
            f"'{value}' is geen termijn. Schrijf een aantal met een eenheid, "
            'bijvoorbeeld "4 weken" of "10 werkdagen".'
        )
    return term.describe()


def with_chosen_terms(step: StepSpec, overrides: Mapping[str, str] | None) -> tuple[StepSpec, list[dict]]:
    """``step`` with the decider's terms in place of the ladder's, and what was chosen (for event and audit).
    An empty value keeps the ladder's term; an unknown term or a term that cannot be set is refused."""
    chosen = {key: (value or "").strip() for key, value in (overrides or {}).items() if (value or "").strip()}
    if not chosen:
        return step, []
    settable = {t.key: t for t in settable_terms(step)}
    for key in chosen:
        if key not in settable:
            raise EscalationError(f"De stap '{step.title}' heeft geen termijn '{key}' die u zelf kunt instellen.")
    terms, recorded = [], []
    for term in step.terms:
        if term.key in chosen:
            text = checked_term(chosen[term.key])
            recorded.append({"termijn": term.key, "titel": term.title or term.key, "ladder": term.term,
                             "gekozen": text})  # fmt: skip
            term = term.model_copy(update={"term": text})
        terms.append(term)
    return step.model_copy(update={"terms": terms}), recorded
