"""The shape of a ladder definition, as written in ``tenants/`` and stored in ``LadderVersion.definition``.

A ladder is data: steps, which steps may follow which, terms, and what happens on entering a step or when a
term is missed. Rules about one ladder's consistency (reachability, references, terms that parse) live here
so that the tenant files, the admin editor and the API all refuse the same mistakes with the same words.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from apps.ladders.letter_kinds import LETTER_KINDS, TEMPLATE_KINDS, fields_of, kind_of
from apps.ladders.terms import TermError, parse_term
from apps.ladders.texts import PLACEHOLDERS, texts_of, unknown_placeholders

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
Key = Annotated[str, Field(pattern=KEY_PATTERN, max_length=64)]

# Who receives a notice. "toegang" is every municipality's access team of the region; the others are
# role mailboxes of the region file ("aanbieder" is the provider of the escalation).
NOTIFY_ROLES = (
    "inkoop",
    "toegang",
    "gi",
    "inspectie",
    "aanbieder",
    "account_houdende_regio",
    "ozj",
    "jeugdautoriteit",
    "geschillencommissie",
    "zi2t",
    "lokale_aanstuurder",
)
ACTORS = ("regio", "aanbieder", "gemeente", "gezin", "extern")
DOCUMENT_KINDS = (
    "plan_van_aanpak",
    "verbeterplan",
    "reactie",
    "arrangement",
    "gezinsplan",
    "jaarverslag",
    "kwartaalrapportage",
    "financiele_verantwoording",
    "bewijsstuk",
)
# How a page or letter names a document kind ("wacht op levering van het arrangement").
DOCUMENT_NAMES = {
    "plan_van_aanpak": "plan van aanpak",
    "verbeterplan": "verbeterplan",
    "reactie": "reactie",
    "arrangement": "arrangement",
    "gezinsplan": "gezinsplan",
    "jaarverslag": "jaarverslag",
    "kwartaalrapportage": "kwartaalrapportage",
    "financiele_verantwoording": "financiële verantwoording",
    "bewijsstuk": "bewijsstuk",
}
MEASURE_KINDS = (
    "instroomstop",
    "clientenstop",
    "overdracht_clienten",
    "terugvordering",
    "verrekening",
    "boete",
    "ontbinding",
    "opzegging",
)

# BW 6:83 (and 6:74 lid 2): when default (verzuim) needs no notice of default. A step's precondition may let the
# decider record one of these instead; it is stored with the decision and printed in the letter.
LEGAL_EXCEPTIONS = {
    "fatale_termijn": "er gold een fatale termijn die is verstreken (artikel 6:83 onder a BW)",
    "nakoming_blijvend_onmogelijk": "nakoming is blijvend onmogelijk (artikel 6:74 lid 2 BW)",
    "weigering_nakoming": "u heeft ons laten weten dat u de verplichting niet zult nakomen (artikel 6:83 onder c BW)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_term(value: str) -> str:
    try:
        parse_term(value)
    except TermError as exc:
        raise ValueError(str(exc)) from None
    return value


class Notify(_Strict):
    action: Literal["notify"]
    roles: list[Literal[NOTIFY_ROLES]] = Field(min_length=1)  # type: ignore[valid-type]
    message: str = ""  # Dutch, shown in the notice


class DemandDocument(_Strict):
    action: Literal["demand_document"]
    document: Literal[DOCUMENT_KINDS]  # type: ignore[valid-type]
    term: str | None = None  # the key of the step's term that the delivery meets


class SendLetter(_Strict):
    action: Literal["send_letter"]
    letter: Key  # template key in the region's letter templates, e.g. "verzoek_plan_van_aanpak"
    # The letter's legal kind (``letter_kinds.KINDS``): the decider fills the kind's fields in the confirm form
    # (amount, article, effective date ...), the step is refused without them and the letter prints them.
    kind: Literal[LETTER_KINDS] | None = None  # type: ignore[valid-type]
    # Dutch, to the provider: what a field of the kind says until the decider changes it, by field key (an
    # ingebrekestelling's ``gevolg``: what the region may do when the term passes); the letter prints the field.
    defaults: dict[str, str] | None = None

    @model_validator(mode="after")
    def _known_defaults(self) -> SendLetter:
        known = {f.key for f in fields_of([self.kind or TEMPLATE_KINDS.get(self.letter)])}
        for key, text in (self.defaults or {}).items():
            if key not in known:
                raise ValueError(f"de brief '{self.letter}' heeft geen veld '{key}'")
            if not text.strip():
                raise ValueError(f"de standaardtekst van het veld '{key}' is leeg")
        return self


class StartMeasure(_Strict):
    action: Literal["start_measure"]
    measure: Literal[MEASURE_KINDS]  # type: ignore[valid-type]
    scope: Literal["alle_gemeenten"] = "alle_gemeenten"
    requires_role: Literal["inkoop_lead"] = "inkoop_lead"  # only a purchasing team lead imposes measures
    # Dutch, to the provider: what happens to the clients in its care now (the measure's letter prints it; a
    # ladder that says nothing makes the letter say nothing, rather than promise that care simply continues).
    current_clients: str = ""


class EndMeasure(_Strict):
    action: Literal["end_measure"]
    measure: Literal[MEASURE_KINDS]  # type: ignore[valid-type]


class SuggestStep(_Strict):
    action: Literal["suggest_step"]
    step: Key


class MoveToStep(_Strict):
    action: Literal["move_to_step"]
    step: Key


Action = Annotated[
    Notify | DemandDocument | SendLetter | StartMeasure | EndMeasure | SuggestStep | MoveToStep,
    Field(discriminator="action"),
]


class TermSpec(_Strict):
    key: Key
    term: str  # as the source writes it: "2 weken", "10 werkdagen", "3 maanden", "1 april", "oktober"
    title: str = ""  # Dutch: "Plan van aanpak binnen?"
    responsible: Literal[ACTORS] = "aanbieder"  # type: ignore[valid-type]
    remind_before: str | None = None  # e.g. "3 werkdagen" before the term ends
    met_by: str = ""  # e.g. "document:plan_van_aanpak" or "step:hersteld"
    # When the term starts: "step" (entering the step), "letter" (the receipt of the letter the step sends, BW 3:37
    # lid 3: ``runs_from_letter``), "document:KIND" (such a document delivered), "date:YYYY-MM-DD", or
    # "contract_end" (counted back: "3 maanden" before the contract's end date).
    starts: str = "step"
    on_missed: list[Action] = Field(default_factory=list)
    # What follows when the term is met (a reaction): suggest_step proposes the next step for a person; move_to_step
    # takes it only when that step is automatic (else it is proposed too); notify tells people.
    on_met: list[Action] = Field(default_factory=list)

    _term = field_validator("term")(_check_term)

    @field_validator("remind_before")
    @classmethod
    def _remind(cls, value: str | None) -> str | None:
        return None if value is None else _check_term(value)


class Precondition(_Strict):
    """What must have happened before a step may be taken (also in a free-order ladder)."""

    steps: list[Key] = Field(min_length=1)  # one of these steps was entered earlier ...
    term_passed: bool = False  # ... and a term it set has passed without being met (nor is it suspended)
    reason: str = Field(min_length=1)  # Dutch: the refusal, e.g. "Verzuim vereist een ingebrekestelling ..."
    label: str = Field(min_length=1, max_length=60)  # Dutch, a word on the page: "eerst ingebrekestelling"
    exceptions: list[Literal[tuple(LEGAL_EXCEPTIONS)]] = Field(default_factory=list)  # type: ignore[valid-type]


class StepSpec(_Strict):
    key: Key
    title: str = Field(min_length=1)
    description: str = ""
    actor: Literal[ACTORS] = "regio"  # type: ignore[valid-type]
    final: bool = False
    outcome: str = ""  # for final steps: e.g. "hersteld", "ontbonden"
    next: list[Key] = Field(default_factory=list)
    terms: list[TermSpec] = Field(default_factory=list)
    on_enter: list[Action] = Field(default_factory=list)
    requires: Precondition | None = None
    # The ladder may take this step on its own (a move_to_step when a term is missed). Only for harmless steps:
    # never one that sends a letter, imposes or lifts a measure, or needs a precondition (verzuim, ontbinding).
    # A move_to_step into any other step is proposed for a person to decide ("Te beoordelen").
    automatic: bool = False


class CategorySpec(_Strict):
    key: Key
    title: str
    start_step: Key
    subcategories: dict[Key, str] = Field(default_factory=dict)  # key -> Dutch title


class CaseSpec(_Strict):
    """A ladder about one young person's case (seed 001: a dispute between a provider and one municipality's
    access team). Opening an escalation on it records the case: the municipality (from the region's list), the
    access team's pseudonymous case reference (never a BSN or a name), the discussion point (the category's
    subcategories are the ladder's discussion points) and the professionals involved. Its notices to "toegang"
    and "lokale_aanstuurder" reach that municipality only, never every municipality of the region."""

    required: bool = True  # opening is refused without the case; false: the fields are offered, not demanded
    # Dutch, shown above the case fields of the open form
    description: str = "Een geschil gaat over één casus: kies de gemeente en het discussiepunt."


class DisputeSpec(_Strict):
    """The parties' own route of a dispute about one case (seed 001 §2.3, "los op of schaal op"): the provider and
    the municipality's people (a region role held for the case's municipality) each take the next step of ``route``
    themselves; ``decision_step`` is decided by the municipality (its lokale aanstuurder), ``advice_step`` holds the
    region team's advice, ``committee_step`` chooses one of ``subcommittees`` and makes the dispute file, and
    ``agreement_step`` is taken only once both parties agreed with the solution on the table
    (``apps.escalations.dispute_state``). A person takes every step; nothing moves by itself."""

    route: list[Key] = Field(min_length=2)  # the steps in order: either party may take the next one
    decision_step: Key
    advice_step: Key
    committee_step: Key
    agreement_step: Key
    subcommittees: dict[Key, str] = Field(min_length=1)  # key -> Dutch name, as the committee calls it
    financial: list[Key] = Field(default_factory=list)  # discussion points that are financial disagreements
    # Dutch, shown wherever a financial dispute's case is shown
    financial_notice: str = "Financieel knelpunt: nooit bespreken met de jeugdige of het gezin."


class LadderSpec(_Strict):
    key: Key
    name: str = Field(min_length=1)
    description: str = ""
    source: str = ""  # which document the ladder comes from
    # "linear": only the listed next steps; "free": any step may follow any (the contract ladder's
    # "situationeel": measures 5a-5d usable out of order), still never out of a final step.
    order: Literal["linear", "free"] = "linear"
    motivation_required: bool = True  # decisions need a written motivation
    categories: list[CategorySpec] = Field(min_length=1)
    steps: list[StepSpec] = Field(min_length=1)
    case: CaseSpec | None = None  # a case-level ladder (``[case]``): see CaseSpec
    dispute: DisputeSpec | None = None  # the parties' route of a case ladder (``[dispute]``): see DisputeSpec

    @model_validator(mode="after")
    def _consistent(self) -> LadderSpec:
        problems = ladder_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def step(self, key: str) -> StepSpec:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def allowed_next(self, key: str) -> list[str]:
        step = self.step(key)
        if step.final:
            return []
        if self.order == "free":
            return [s.key for s in self.steps if s.key != key]
        return list(step.next)


# Steps a person always decides, whatever they do on entering (issue 14 point 5): a step whose key names one of these
# is never automatic, also when the ladder gives it no letter or precondition.
FORMAL_STEP_WORDS = ("ingebrekestelling", "verzuim", "opzegging", "ontbinding", *MEASURE_KINDS)


def formal_features(step: StepSpec) -> list[str]:
    """Why ``step`` may not be taken by the ladder on its own (empty: it is harmless): a letter, a measure imposed or
    lifted, a precondition, or a key naming a notice of default, default, termination, dissolution or a measure."""
    found = sorted({a.action for a in step.on_enter if isinstance(a, SendLetter | StartMeasure | EndMeasure)})
    if step.requires:
        found.append("requires")
    words = [word for word in FORMAL_STEP_WORDS if word in step.key]
    if words:
        found.append(f"a key naming {words[0]}")
    return found


TERM_STARTS = ("step", "letter", "document:KIND", "date:YYYY-MM-DD", "contract_end")
LETTER = "letter"  # a term counted from the receipt of the step's letter
# Letters whose term the law counts from their receipt whatever the ladder says: a notice of default and a written
# warning with a reasonable term (BW 6:82 with 3:37 lid 3). A ladder version stored before ``starts = "letter"``
# existed, or one that says "step" for such a term, still has it counted from the letter's receipt.
RECEIPT_TERM_KINDS = frozenset({"ingebrekestelling", "schriftelijke_waarschuwing"})
_LENGTHS = frozenset({"days", "weeks", "months", "years", "working_days"})  # terms of a length, not hours


def runs_from_letter(step: StepSpec, term: TermSpec) -> bool:
    """Whether ``term`` counts from the receipt of the letter ``step`` sends (BW 3:37 lid 3): the ladder says so
    (``starts = "letter"``), or the step sends a notice whose term the law counts so (``RECEIPT_TERM_KINDS``) and
    the term would otherwise start with the step. Only a length (not hours, not a date) counts from a receipt."""
    if term.starts == LETTER:
        return True
    if term.starts != "step" or parse_term(term.term).kind not in _LENGTHS:
        return False
    return any(kind_of(a.letter, a.kind) in RECEIPT_TERM_KINDS for a in step.on_enter if isinstance(a, SendLetter))


def start_problems(term: TermSpec) -> list[str]:
    """What is wrong with a term's ``starts`` (empty: nothing)."""
    starts = term.starts
    if starts == LETTER:
        if parse_term(term.term).kind not in _LENGTHS:
            return [f"a term counted from a letter's receipt must be a length such as \"2 weken\" (not hours or a "
                    f"date), not '{term.term}'"]  # fmt: skip
        return []
    if starts in ("step", "contract_end"):
        if starts == "contract_end" and parse_term(term.term).kind not in _BACKWARD_KINDS:
            return [f"a term before the contract's end must be a length such as \"3 maanden\", not '{term.term}'"]
        return []
    kind, _, value = starts.partition(":")
    if kind == "document":
        return [] if value in DOCUMENT_KINDS else [f"starts at unknown document kind '{value}'"]
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return [f"starts at '{value}', which is not a date (YYYY-MM-DD)"]
        return []
    return [f"starts must be one of {', '.join(TERM_STARTS)}, not '{starts}'"]


def dispute_problems(ladder: LadderSpec, known: set[str]) -> list[str]:
    """What is wrong with a ladder's ``[dispute]`` (empty: nothing, or no such section)."""
    dispute = ladder.dispute
    if dispute is None:
        return []
    if ladder.case is None:
        return ["a dispute route ([dispute]) needs a ladder about one case ([case])"]
    named = [*dispute.route, dispute.decision_step, dispute.advice_step, dispute.committee_step, dispute.agreement_step]
    unknown = sorted({key for key in named if key not in known})
    if unknown:
        return [f"the dispute route names unknown step '{key}'" for key in unknown]
    problems = []
    for key in (dispute.decision_step, dispute.advice_step, dispute.committee_step):
        if key not in dispute.route:
            problems.append(f"the dispute route's step '{key}' is not in its route")
    for before, after in zip(dispute.route, dispute.route[1:], strict=False):
        if after not in ladder.allowed_next(before):
            problems.append(f"the dispute route goes from '{before}' to '{after}', which does not follow it")
    for key in dispute.route:
        if dispute.agreement_step not in ladder.allowed_next(key):
            problems.append(f"the dispute route's step '{key}' cannot lead to the agreement '{dispute.agreement_step}'")
    points = {key for category in ladder.categories for key in category.subcategories}
    problems.extend(f"the dispute route's financial point '{key}' is no discussion point"
                    for key in dispute.financial if key not in points)  # fmt: skip
    return problems


_BACKWARD_KINDS = _LENGTHS


def ladder_problems(ladder: LadderSpec) -> list[str]:
    """Every consistency problem of a ladder, each naming the step and what is wrong."""
    problems: list[str] = []
    keys = [step.key for step in ladder.steps]
    known = set(keys)
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"step '{key}' is defined twice")
    for category in ladder.categories:
        if category.start_step not in known:
            problems.append(f"category '{category.key}' starts at unknown step '{category.start_step}'")
    for step in ladder.steps:
        for target in step.next:
            if target not in known:
                problems.append(f"step '{step.key}' leads to unknown step '{target}'")
        if step.final and step.next:
            problems.append(f"step '{step.key}' is final but has next steps")
        if not step.final and not step.next and ladder.order == "linear":
            problems.append(f"step '{step.key}' has no way out and is not final")
        term_keys = [term.key for term in step.terms]
        for action in [*step.on_enter, *(a for term in step.terms for a in [*term.on_missed, *term.on_met])]:
            if isinstance(action, SuggestStep | MoveToStep) and action.step not in known:
                problems.append(f"step '{step.key}' refers to unknown step '{action.step}'")
            if isinstance(action, DemandDocument) and action.term and action.term not in term_keys:
                problems.append(f"step '{step.key}' demands a document by unknown term '{action.term}'")
        if step.requires:
            for required in step.requires.steps:
                if required not in known:
                    problems.append(f"step '{step.key}' requires unknown step '{required}'")
                elif step.requires.term_passed and not next(s for s in ladder.steps if s.key == required).terms:
                    problems.append(f"step '{step.key}' requires a passed term of '{required}', which has no terms")
            if ladder.categories and step.key in {c.start_step for c in ladder.categories}:
                problems.append(f"step '{step.key}' starts a category and cannot require earlier steps")
        if step.automatic and (formal := formal_features(step)):
            problems.append(
                f"step '{step.key}' is automatic but has {', '.join(formal)}: a person decides every letter and measure"
            )
        for term in step.terms:
            for action in term.on_met:
                if not isinstance(action, SuggestStep | MoveToStep | Notify):
                    problems.append(f"step '{step.key}' term '{term.key}': on_met can suggest_step, move_to_step or "
                                    f"notify, not {action.action}")  # fmt: skip
                if term.met_by.startswith("step:"):
                    problems.append(f"step '{step.key}' term '{term.key}' is met by taking a step: it has no on_met")
            for action in term.on_missed:
                if isinstance(action, SendLetter | StartMeasure | EndMeasure):
                    problems.append(
                        f"step '{step.key}' term '{term.key}': a missed term cannot {action.action} on its own; "
                        "propose the step that does it (suggest_step or move_to_step) for a person to decide"
                    )
            if term.met_by and not re.match(r"^(document|step):[a-z_]+$", term.met_by):
                problems.append(f"step '{step.key}' term '{term.key}': met_by must be document:KIND or step:KEY")
            problems.extend(f"step '{step.key}' term '{term.key}': {p}" for p in start_problems(term))
            if term.starts == LETTER and not any(isinstance(a, SendLetter) for a in step.on_enter):
                problems.append(f"step '{step.key}' term '{term.key}' runs from the step's letter, but the step "
                                "sends no letter")  # fmt: skip
            if term.met_by.startswith("step:") and term.met_by[5:] not in known:
                problems.append(f"step '{step.key}' term '{term.key}' is met by unknown step '{term.met_by[5:]}'")
    if not any(step.final for step in ladder.steps):
        problems.append("the ladder has no final step")
    unknown = sorted({name for text in texts_of(ladder.model_dump(mode="json")) for name in unknown_placeholders(text)})
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        problems.append(f"unknown placeholder {', '.join(f'{{{n}}}' for n in unknown)} (known: {known})")
    if ladder.case is not None:
        for category in ladder.categories:
            if not category.subcategories:
                problems.append(f"category '{category.key}' of a case ladder ([case]) needs its discussion points "
                                "as subcategories")  # fmt: skip
    problems.extend(dispute_problems(ladder, known))
    if problems:
        return problems
    # Reachability from the categories' start steps (free-order ladders reach every step by definition).
    if ladder.order == "linear":
        reached: set[str] = set()
        frontier = [category.start_step for category in ladder.categories]
        by_key = {step.key: step for step in ladder.steps}
        while frontier:
            key = frontier.pop()
            if key in reached:
                continue
            reached.add(key)
            step = by_key[key]
            frontier.extend(step.next)
            frontier.extend(a.step for a in step.on_enter if isinstance(a, MoveToStep))
            frontier.extend(a.step for t in step.terms for a in [*t.on_missed, *t.on_met] if isinstance(a, MoveToStep))
        for key in keys:
            if key not in reached:
                problems.append(f"step '{key}' cannot be reached from any category's start step")
    return problems
