"""The ladder editor's checks: the form (``apps.ladders.editor_state``) to a ``LadderSpec``, or every problem with
it in Dutch, each on the field it is about ("s2-t0-amount": step 3, term 1, its length).

The checks are the schema's (``apps.ladders.schema.ladder_problems``: unreachable steps, no way out, a final step with
next steps, no final step, references to unknown steps and terms, automatic formal steps, what a missed or met term
may do, when a term starts, unknown placeholders, a case ladder's discussion points) plus what only a region knows
(a notice to a role the region has no mailbox for) and what only a form can get wrong (a length that is no number,
a key that is no key). The schema validates the result once more; what it still refuses lands on the nearest field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from apps.ladders.editor_state import (
    ActionState,
    EditorState,
    FormData,
    StepState,
    TermState,
    apply_operation,
    getall,
    state_from_data,
    state_from_form,
)
from apps.ladders.letter_kinds import LETTER_KINDS, TEMPLATE_KINDS, fields_of
from apps.ladders.schema import (
    ACTORS,
    DOCUMENT_KINDS,
    FORMAL_STEP_WORDS,
    KEY_PATTERN,
    LEGAL_EXCEPTIONS,
    MEASURE_KINDS,
    NOTIFY_ROLES,
    LadderSpec,
)
from apps.ladders.terms import RELATIVE_KINDS, Term, TermError, parse_term
from apps.ladders.texts import PLACEHOLDERS, unknown_placeholders
from apps.ladders.vocabulary import (
    ACTION_NAMES,
    ACTIONS_ON_ENTER,
    ACTIONS_ON_MET,
    ACTIONS_ON_MISSED,
    REMIND_UNITS,
    ROLE_NAMES,
    TERM_UNITS,
)
from apps.tenancy.loader import ROLES_WITHOUT_MAILBOX
from core.text import ONE_LINE_NL, control_character

__all__ = ["EditorProblem", "EditorState", "FormData", "apply_operation", "getall", "problems_by_field",
           "state_from_data", "state_from_form", "state_from_spec", "validate"]  # fmt: skip

FORMAL_ACTIONS = ("send_letter", "start_measure", "end_measure")  # a person decides these, never the ladder
MAX_AMOUNT = 999
MAX_LABEL = 60


@dataclass(frozen=True)
class EditorProblem:
    field: str  # the form field ("s2-t0-amount"), a part ("s2" a step, "s2-a1" an action), "" the ladder
    message: str  # Dutch, names the step and what is wrong


def state_from_spec(spec: LadderSpec) -> EditorState:
    """The form for a published ladder."""
    return state_from_data(spec.key, spec.model_dump(mode="json"))


def problems_by_field(problems: list[EditorProblem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.field, []).append(problem.message)
    return grouped


def _known_placeholders() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


class _Checks:
    """The problems found so far, and the Dutch checks that add to them."""

    def __init__(self, state: EditorState, mailbox_roles: set[str]):
        self.state = state
        self.mailbox_roles = mailbox_roles
        self.problems: list[EditorProblem] = []
        self.step_keys = {s.key for s in state.steps if s.key}
        self.titles = state.step_titles()

    def add(self, field_name: str, message: str) -> None:
        self.problems.append(EditorProblem(field_name, message))

    def line(self, field_name: str, value: str, what: str) -> None:
        """A name or title: one line (it ends up in mail subjects and letters), with known placeholders only."""
        if control_character(value):
            self.add(field_name, f"{what} {ONE_LINE_NL}.")
        self.placeholders(field_name, value, what)

    def placeholders(self, field_name: str, value: str, what: str) -> None:
        unknown = unknown_placeholders(value or "")
        if unknown:
            names = ", ".join(f"{{{n}}}" for n in unknown)
            self.add(field_name, f"{what}: onbekende invulplek {names}. Bekend zijn: {_known_placeholders()}.")

    def key(self, field_name: str, value: str, taken: list[str], what: str, example: str) -> None:
        if not re.match(KEY_PATTERN, value) or len(value) > 64:
            self.add(field_name, f"{what}: geef een sleutel van kleine letters, cijfers en _ die met een letter "
                                 f"begint, bijvoorbeeld ‘{example}’.")  # fmt: skip
        elif taken.count(value) > 1:
            self.add(field_name, f"{what}: de sleutel ‘{value}’ komt twee keer voor.")

    def step_ref(self, field_name: str, key: str, what: str) -> bool:
        if not key:
            self.add(field_name, f"{what}: kies een stap.")
            return False
        if key not in self.step_keys:
            self.add(field_name, f"{what}: verwijst naar een stap die er niet (meer) is (‘{key}’).")
            return False
        return True

    # --- terms ---------------------------------------------------------------------------------------------------

    def length(self, term: TermState, q: str, label: str) -> str | None:
        """The term's text ("2 weken", "1 april") from its fields, or None with a problem on the field."""
        if term.amount and term.date:
            self.add(f"{q}date", f"{label}: kies een aantal óf een vaste datum, niet allebei.")
            return None
        if term.date:
            try:
                text = parse_term(term.date).describe()
            except TermError:
                self.add(f"{q}date", f"{label}: ‘{term.date}’ is geen datum die Trede kan lezen. Schrijf bijvoorbeeld "
                                     "‘1 april’, ‘1 april 2027’ of ‘oktober’.")  # fmt: skip
                return None
        else:
            if not term.amount:
                self.add(f"{q}amount", f"{label}: vul de lengte van de termijn in, bijvoorbeeld 2 weken, of een vaste "
                                       "datum.")  # fmt: skip
                return None
            text = self.amount(term.amount, term.unit, TERM_UNITS, f"{q}amount", f"{q}unit", label)
            if text is None:
                return None
        return _as_written(text, term.was)

    def amount(self, amount: str, unit: str, units: dict, amount_field: str, unit_field: str, label: str) -> str | None:
        if not amount.isascii() or not amount.isdigit() or not 1 <= int(amount) <= MAX_AMOUNT:
            self.add(amount_field, f"{label}: ‘{amount}’ is geen aantal. Vul een heel getal van 1 tot en met "
                                   f"{MAX_AMOUNT} in.")  # fmt: skip
            return None
        if unit not in units:
            self.add(unit_field, f"{label}: kies een eenheid ({', '.join(units)}).")
            return None
        return parse_term(f"{int(amount)} {unit}").describe()

    def term(self, step: StepState, term: TermState, i: int, j: int, label: str) -> dict[str, Any]:
        q = f"s{i}-t{j}-"
        term_label = f"{label}, termijn {j + 1}"
        self.key(f"{q}key", term.key, [t.key for t in step.terms], term_label, "plan_binnen")
        self.line(f"{q}title", term.title, f"{term_label}: de vraag")
        text = self.length(term, q, term_label)
        remind = None
        if term.remind_amount:
            remind = self.amount(term.remind_amount, term.remind_unit, REMIND_UNITS, f"{q}remind_amount",
                                 f"{q}remind_unit", f"{term_label}, herinnering")  # fmt: skip
            remind = _as_written(remind, term.remind_was) if remind else None
        if term.responsible not in ACTORS:
            self.add(f"{q}responsible", f"{term_label}: kies wie de termijn moet halen.")
        kind, _, value = term.met_by.partition(":")
        if term.met_by and not (kind == "document" and value in DOCUMENT_KINDS or kind == "step"):
            self.add(f"{q}met_by", f"{term_label}: kies waarmee de termijn wordt gehaald.")
        elif kind == "step":
            self.step_ref(f"{q}met_by", value, f"{term_label}: gehaald door een stap")
        starts = self.starts(term, q, term_label, text, step)
        on_missed = self.actions(term.on_missed, f"{q}m", f"{term_label}, als de termijn verloopt", ACTIONS_ON_MISSED,
                                 step)  # fmt: skip
        on_met = self.actions(term.on_met, f"{q}r", f"{term_label}, als de termijn is gehaald", ACTIONS_ON_MET, step)
        if kind == "step" and term.on_met:
            self.add(f"{q}r", f"{term_label}: een termijn die met een stap wordt gehaald, eindigt met die stap; er is "
                              "dan niets om op te reageren. Haal de reacties weg.")  # fmt: skip
        return {"key": term.key, "term": text or "", "title": term.title, "responsible": term.responsible,
                "remind_before": remind, "met_by": term.met_by, "starts": starts, "on_missed": on_missed,
                "on_met": on_met}  # fmt: skip

    def starts(self, term: TermState, q: str, label: str, text: str | None, step: StepState) -> str:
        if term.starts == "document":
            if term.starts_document not in DOCUMENT_KINDS:
                self.add(f"{q}starts_document", f"{label}: kies bij aanlevering van welk document de termijn begint.")
            return f"document:{term.starts_document}"
        if term.starts == "date":
            try:
                date.fromisoformat(term.starts_date)
            except ValueError:
                self.add(f"{q}starts_date", f"{label}: vul de datum in waarop de termijn begint (dag-maand-jaar).")
            return f"date:{term.starts_date}"
        if term.starts == "contract_end":
            parsed = _parsed(text)
            if parsed is not None and (parsed.kind not in RELATIVE_KINDS or parsed.kind == "hours"):
                self.add(f"{q}starts", f"{label}: terugrekenen vanaf het einde van de overeenkomst kan alleen met "
                                       "een aantal dagen, weken, maanden of jaren, niet met een datum of "
                                       "uren.")  # fmt: skip
            return "contract_end"
        if term.starts == "letter":  # BW 3:37 lid 3: from the receipt of the letter the step sends
            if not any(a.action == "send_letter" for a in step.on_enter):
                self.add(f"{q}starts", f"{label}: de termijn loopt vanaf de ontvangst van de brief, maar de stap "
                                       "verstuurt geen brief. Voeg een brief toe of kies een ander begin.")  # fmt: skip
            parsed = _parsed(text)
            if parsed is not None and (parsed.kind not in RELATIVE_KINDS or parsed.kind == "hours"):
                self.add(f"{q}starts", f"{label}: vanaf de ontvangst van een brief loopt alleen een aantal dagen, "
                                       "werkdagen, weken, maanden of jaren, geen datum of uren.")  # fmt: skip
            return "letter"
        if term.starts != "step":
            self.add(f"{q}starts", f"{label}: kies wanneer de termijn begint.")
        return "step"

    # --- actions -------------------------------------------------------------------------------------------------

    def actions(self, actions: list[ActionState], prefix: str, label: str, allowed: tuple[str, ...],
                step: StepState) -> list[dict[str, Any]]:  # fmt: skip
        found = []
        for n, action in enumerate(actions):
            where = f"{label}, actie {n + 1}"
            p = f"{prefix}{n}-"
            if action.action not in ACTION_NAMES:
                self.add(f"{prefix}{n}", f"{where}: onbekende actie ‘{action.action}’.")
                continue
            if action.action not in allowed:
                if action.action in FORMAL_ACTIONS:
                    self.add(f"{prefix}{n}", f"{where}: een verlopen of gehaalde termijn verstuurt geen brief en legt "
                                             "geen maatregel op; stel de stap voor die dat doet (volgende stap "
                                             "voorstellen). Een persoon beslist.")  # fmt: skip
                else:
                    self.add(f"{prefix}{n}", f"{where}: ‘{ACTION_NAMES[action.action].lower()}’ kan hier niet; "
                                             "kies een andere actie.")  # fmt: skip
                continue
            found.append(self.action(action, p, where, step))
        return found

    def action(self, action: ActionState, p: str, where: str, step: StepState) -> dict[str, Any]:
        kind = action.action
        if kind == "notify":
            if not action.roles:
                self.add(f"{p}roles", f"{where}: kies wie de melding krijgt.")
            for role in action.roles:
                if role not in NOTIFY_ROLES:
                    self.add(f"{p}roles", f"{where}: onbekende ontvanger ‘{role}’.")
                elif role not in self.mailbox_roles and role not in ROLES_WITHOUT_MAILBOX:
                    self.add(f"{p}roles", f"{where}: de regio heeft geen postbus voor {ROLE_NAMES[role]}; voeg "
                                          "die postbus toe bij de regio-instellingen of kies een andere "
                                          "ontvanger.")  # fmt: skip
            self.placeholders(f"{p}message", action.message, f"{where}: het bericht")
            return {"action": kind, "roles": action.roles, "message": action.message}
        if kind == "demand_document":
            if action.document not in DOCUMENT_KINDS:
                self.add(f"{p}document", f"{where}: kies welk document de aanbieder aanlevert.")
            if action.term and action.term not in {t.key for t in step.terms}:
                self.add(f"{p}term", f"{where}: de termijn ‘{action.term}’ hoort niet bij deze stap.")
            return {"action": kind, "document": action.document, "term": action.term or None}
        if kind == "send_letter":
            if not re.match(KEY_PATTERN, action.letter):
                self.add(f"{p}letter", f"{where}: kies welke brief de stap verstuurt.")
            if action.kind and action.kind not in LETTER_KINDS:
                self.add(f"{p}kind", f"{where}: kies de soort brief.")
            known = {f.key for f in fields_of([action.kind or TEMPLATE_KINDS.get(action.letter)])}
            defaults = {k: v for k, v in action.defaults.items() if k in known and v.strip()}
            for key, text in defaults.items():
                self.placeholders(f"{p}default-{key}", text, f"{where}: de eerste tekst")
            return {"action": kind, "letter": action.letter, "kind": action.kind or None, "defaults": defaults or None}
        if kind in ("start_measure", "end_measure"):
            if action.measure not in MEASURE_KINDS:
                self.add(f"{p}measure", f"{where}: kies de maatregel.")
            if kind == "end_measure":
                return {"action": kind, "measure": action.measure}
            self.placeholders(f"{p}current_clients", action.current_clients, f"{where}: de tekst over de cliënten")
            return {"action": kind, "measure": action.measure, "current_clients": action.current_clients}
        self.step_ref(f"{p}step", action.step, where)  # suggest_step, move_to_step
        return {"action": kind, "step": action.step}

    # --- steps ---------------------------------------------------------------------------------------------------

    def step(self, step: StepState, i: int, start_steps: set[str]) -> dict[str, Any]:
        p = f"s{i}-"
        label = f"Stap {i + 1} (‘{step.title or step.key or 'nieuw'}’)"
        if control_character(step.title):
            label = f"Stap {i + 1}"  # the title itself would break the message
        self.key(f"{p}key", step.key, [s.key for s in self.state.steps], label, "formeel_gesprek")
        if not step.title:
            self.add(f"{p}title", f"{label}: geef de stap een titel.")
        self.line(f"{p}title", step.title, f"{label}: de titel")
        self.placeholders(f"{p}description", step.description, f"{label}: de beschrijving")
        self.line(f"{p}outcome", step.outcome, f"{label}: de uitkomst")
        if step.actor not in ACTORS:
            self.add(f"{p}actor", f"{label}: kies wie aan zet is.")
        for target in step.next:
            self.step_ref(f"{p}next", target, f"{label}: vervolgstap")
        if step.final and step.next:
            self.add(f"{p}next", f"{label} is een eindstap maar heeft vervolgstappen: vink ‘eindstap’ uit of haal de "
                                 "vervolgstappen weg.")  # fmt: skip
        if not step.final and not step.next and self.state.order == "linear":
            self.add(f"{p}next", f"{label} heeft geen uitweg en is geen eindstap: kies een vervolgstap of maak er een "
                                 "eindstap van.")  # fmt: skip
        on_enter = self.actions(step.on_enter, f"{p}a", f"{label}, bij binnenkomst", ACTIONS_ON_ENTER, step)
        terms = [self.term(step, term, i, j, label) for j, term in enumerate(step.terms)]
        requires = self.requires(step, p, label, start_steps)
        formal = any(a.action in FORMAL_ACTIONS for a in step.on_enter) or requires is not None or any(
            word in step.key for word in FORMAL_STEP_WORDS)  # fmt: skip
        if step.automatic and formal:
            self.add(f"{p}automatic", f"{label}: een stap met een brief, een maatregel, een voorwaarde of een formele "
                                      "naam (ingebrekestelling, verzuim, ontbinding ...) zet de ladder nooit zelf; een "
                                      "persoon beslist.")  # fmt: skip
        return {"key": step.key, "title": step.title, "description": step.description, "actor": step.actor,
                "final": step.final, "outcome": step.outcome, "next": step.next, "terms": terms, "on_enter": on_enter,
                "requires": requires, "automatic": step.automatic}  # fmt: skip

    def requires(self, step: StepState, p: str, label: str, start_steps: set[str]) -> dict[str, Any] | None:
        r = step.requires
        if not r.steps:
            if r.reason or r.label or r.term_passed or r.exceptions:
                self.add(f"{p}requires-steps", f"{label}, voorwaarde: kies welke stap eerst gezet moet zijn, of maak "
                                               "de voorwaarde leeg.")  # fmt: skip
            return None
        for key in r.steps:
            if key == step.key:
                self.add(f"{p}requires-steps", f"{label}, voorwaarde: een stap kan niet op zichzelf wachten.")
            elif self.step_ref(f"{p}requires-steps", key, f"{label}, voorwaarde"):
                required = next(s for s in self.state.steps if s.key == key)
                if r.term_passed and not required.terms:
                    self.add(f"{p}requires-term_passed", f"{label}, voorwaarde: stap ‘{required.title}’ heeft geen "
                                                         "termijn die kan verstrijken.")  # fmt: skip
        if step.key in start_steps:
            self.add(f"{p}requires-steps", f"{label} is de startstap van een categorie en kan niet wachten op een "
                                           "eerdere stap.")  # fmt: skip
        if not r.reason:
            self.add(f"{p}requires-reason", f"{label}, voorwaarde: schrijf waarom de stap anders wordt geweigerd.")
        self.placeholders(f"{p}requires-reason", r.reason, f"{label}, voorwaarde")
        if not r.label:
            self.add(f"{p}requires-label", f"{label}, voorwaarde: geef een korte aanduiding, zoals ‘eerst "
                                           "ingebrekestelling’.")  # fmt: skip
        elif len(r.label) > MAX_LABEL:
            self.add(f"{p}requires-label", f"{label}, voorwaarde: de aanduiding is te lang (hooguit {MAX_LABEL} "
                                           "tekens).")  # fmt: skip
        self.line(f"{p}requires-label", r.label, f"{label}, voorwaarde: de aanduiding")
        for exception in r.exceptions:
            if exception not in LEGAL_EXCEPTIONS:
                self.add(f"{p}requires-exceptions", f"{label}, voorwaarde: onbekende uitzondering ‘{exception}’.")
        return {"steps": r.steps, "term_passed": r.term_passed, "reason": r.reason, "label": r.label,
                "exceptions": r.exceptions}  # fmt: skip

    # --- the ladder ----------------------------------------------------------------------------------------------

    def categories(self) -> list[dict[str, Any]]:
        state = self.state
        if not state.categories:
            self.add("categories", "Een ladder heeft minstens één categorie: voeg er een toe.")
        found = []
        for k, category in enumerate(state.categories):
            c = f"c{k}-"
            label = f"Categorie {k + 1} (‘{category.title or category.key or 'nieuw'}’)"
            self.key(f"{c}key", category.key, [x.key for x in state.categories], label, "veiligheid")
            if not category.title:
                self.add(f"{c}title", f"{label}: geef de categorie een titel.")
            self.line(f"{c}title", category.title, f"{label}: de titel")
            self.step_ref(f"{c}start_step", category.start_step, f"{label}: startstap")
            for m, sub in enumerate(category.subcategories):
                where = f"{label}, onderwerp {m + 1}"
                self.key(f"{c}u{m}-key", sub.key, [s.key for s in category.subcategories], where, "vog_werknemers")
                if not sub.title:
                    self.add(f"{c}u{m}-title", f"{where}: geef het onderwerp een titel.")
                self.line(f"{c}u{m}-title", sub.title, f"{where}: de titel")
            if state.case and not category.subcategories:
                self.add(f"c{k}", f"{label}: een ladder over één casus vraagt de discussiepunten als onderwerpen van "
                                  "de categorie.")  # fmt: skip
            found.append({"key": category.key, "title": category.title, "start_step": category.start_step,
                          "subcategories": {s.key: s.title for s in category.subcategories}})  # fmt: skip
        return found

    def unreachable(self, steps: list[dict[str, Any]], categories: list[dict[str, Any]]) -> None:
        """Steps no category's start and no transition leads to (a free-order ladder reaches every step)."""
        by_key = {s["key"]: s for s in steps}
        reached: set[str] = set()
        frontier = [c["start_step"] for c in categories]
        while frontier:
            key = frontier.pop()
            if key in reached or key not in by_key:
                continue
            reached.add(key)
            step = by_key[key]
            frontier.extend(step["next"])
            moves = [*step["on_enter"], *(a for t in step["terms"] for a in [*t["on_missed"], *t["on_met"]])]
            frontier.extend(a["step"] for a in moves if a["action"] == "move_to_step")
        for i, step in enumerate(self.state.steps):
            if step.key not in reached:
                self.add(f"s{i}", f"Stap {i + 1} (‘{step.title}’) is niet bereikbaar: geen startstap van een categorie "
                                  "en geen vervolgstap leidt ernaartoe.")  # fmt: skip


def _parsed(text: str | None) -> Term | None:
    try:
        return parse_term(text) if text else None
    except TermError:
        return None


def _as_written(text: str, was: str) -> str:
    """``text``, or the version's own spelling of the same length ("2 wkn" stays "2 wkn": no change to publish)."""
    before = _parsed(was)
    return was if before is not None and before == _parsed(text) else text


def validate(state: EditorState, *, mailbox_roles: set[str]) -> tuple[LadderSpec | None, list[EditorProblem]]:
    """The ladder the editor describes, or every problem with it. ``mailbox_roles``: the region's mailboxes."""
    checks = _Checks(state, mailbox_roles)
    if not state.name:
        checks.add("name", "Geef de ladder een naam.")
    checks.line("name", state.name, "De naam van de ladder")
    checks.line("source", state.source, "De bron")
    checks.placeholders("description", state.description, "De beschrijving")
    checks.line("case_description", state.case_description, "De uitleg bij de casus")
    if not state.steps:
        checks.add("", "Een ladder heeft minstens één stap: voeg er een toe.")
    categories = checks.categories()
    start_steps = {c.start_step for c in state.categories}
    steps = [checks.step(step, i, start_steps) for i, step in enumerate(state.steps)]
    if state.steps and not any(step.final for step in state.steps):
        checks.add("", "De ladder heeft geen eindstap: maak minstens één stap een eindstap.")
    if checks.problems:
        return None, checks.problems
    if state.order == "linear":  # only once every reference is known, or the list would repeat the same mistake
        checks.unreachable(steps, categories)
        if checks.problems:
            return None, checks.problems
    data: dict[str, Any] = {
        "key": state.key, "name": state.name, "description": state.description, "source": state.source,
        "order": state.order, "motivation_required": state.motivation_required, "categories": categories,
        "steps": steps,
    }  # fmt: skip
    if state.case:
        data["case"] = {"required": state.case == "verplicht",
                        **({"description": state.case_description} if state.case_description else {})}  # fmt: skip
    if state.dispute and state.case:  # the parties' route belongs to a ladder about one case
        data["dispute"] = state.dispute
    try:
        return LadderSpec.model_validate(data), []
    except ValidationError as exc:  # what the checks above do not word themselves: on the nearest field
        for error in exc.errors(include_url=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            checks.add(field_of(error["loc"]), f"De ladder wordt zo niet aanvaard: {message}.")
        return None, checks.problems


LIST_PREFIX = {"on_enter": "a", "on_missed": "m", "on_met": "r"}  # the form's names of a step's action lists


def field_of(loc: tuple) -> str:
    """The form field nearest to a schema error's location: ('steps', 2, 'terms', 0, 'title') -> "s2-t0-title"."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "steps" and isinstance(parts[1], int):
        name = f"s{parts[1]}"
        rest = parts[2:]
        if len(rest) >= 2 and rest[0] == "terms" and isinstance(rest[1], int):
            name += f"-t{rest[1]}"
            rest = rest[2:]
        if len(rest) >= 2 and rest[0] in ("on_enter", "on_missed", "on_met") and isinstance(rest[1], int):
            return f"{name}-{LIST_PREFIX[rest[0]]}{rest[1]}"
        if rest and isinstance(rest[0], str):
            return f"{name}-{rest[0]}"
        return name
    if len(parts) >= 2 and parts[0] == "categories" and isinstance(parts[1], int):
        return f"c{parts[1]}-{parts[2]}" if len(parts) > 2 and isinstance(parts[2], str) else f"c{parts[1]}"
    return str(parts[0]) if parts and isinstance(parts[0], str) else ""
