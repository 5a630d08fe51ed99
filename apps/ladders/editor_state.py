"""The ladder editor's form model: the whole ladder as a person edits it, field by field (steps, terms, actions,
roles, categories), exactly as typed, so that nothing is lost when a save is refused.

``state_from_data`` reads a ladder's definition (a stored version, a template, an imported TOML file) leniently into
the form; ``state_from_form`` reads the posted form (field names: see ``frontend/templates/ladders/_editor.html``);
``apply_operation`` adds, removes and moves steps, terms, actions, categories and subcategories. The checks and the
ladder the form describes are ``apps.ladders.editor``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Protocol

from apps.ladders.letter_kinds import TEMPLATE_KINDS, fields_of
from apps.ladders.terms import RELATIVE_KINDS, TermError, parse_term
from core.formatting import source_title

UNIT_OF_KIND = {"days": "dagen", "working_days": "werkdagen", "weeks": "weken", "months": "maanden", "years": "jaar",
                "hours": "uur"}  # fmt: skip
MAX_ITEMS = 200  # steps, terms, actions, categories: more than any ladder needs, and a cap on what a form may claim


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getall(self, key: str) -> list[Any]: ...


@dataclass
class ActionState:
    action: str
    roles: list[str] = field(default_factory=list)  # notify
    message: str = ""  # notify
    document: str = ""  # demand_document
    term: str = ""  # demand_document: the key of the step's term the delivery meets
    letter: str = ""  # send_letter
    kind: str = ""  # send_letter: the letter's legal kind
    defaults: dict[str, str] = field(default_factory=dict)  # send_letter: first texts of the kind's fields
    measure: str = ""  # start_measure, end_measure
    current_clients: str = ""  # start_measure
    step: str = ""  # suggest_step, move_to_step


@dataclass
class TermState:
    key: str = ""
    title: str = ""
    amount: str = ""  # a number of ``unit``, or empty when the term is a date
    unit: str = "weken"  # dagen, werkdagen, weken, maanden, jaar, uur
    date: str = ""  # "1 april", "1 april 2021", "oktober"
    was: str = ""  # the term as the version wrote it ("2 wkn"): kept when the length is the same
    responsible: str = "aanbieder"
    remind_amount: str = ""
    remind_unit: str = "werkdagen"
    remind_was: str = ""
    met_by: str = ""  # "", document:KIND, step:KEY
    starts: str = "step"  # step, letter, document, date, contract_end
    starts_document: str = ""
    starts_date: str = ""  # JJJJ-MM-DD
    on_missed: list[ActionState] = field(default_factory=list)
    on_met: list[ActionState] = field(default_factory=list)


@dataclass
class RequiresState:
    steps: list[str] = field(default_factory=list)  # none: the step has no precondition
    term_passed: bool = False
    reason: str = ""
    label: str = ""
    exceptions: list[str] = field(default_factory=list)


@dataclass
class StepState:
    key: str = ""
    was: str = ""  # the key when the form was shown: a renamed step takes its references along
    title: str = ""
    description: str = ""
    actor: str = "regio"
    final: bool = False
    outcome: str = ""
    next: list[str] = field(default_factory=list)
    automatic: bool = False
    on_enter: list[ActionState] = field(default_factory=list)
    terms: list[TermState] = field(default_factory=list)
    requires: RequiresState = field(default_factory=RequiresState)


@dataclass
class SubcategoryState:
    key: str = ""
    title: str = ""


@dataclass
class CategoryState:
    key: str = ""
    title: str = ""
    start_step: str = ""
    subcategories: list[SubcategoryState] = field(default_factory=list)


@dataclass
class EditorState:
    key: str
    name: str = ""
    description: str = ""
    source: str = ""
    order: str = "linear"
    motivation_required: bool = True
    case: str = ""  # a ladder about one case ([case]): "" none, "verplicht" (required) or "optioneel"
    case_description: str = ""
    # The parties' route of a dispute ([dispute], seed 001): no fields of its own, kept as the ladder has it.
    dispute: dict | None = None
    categories: list[CategoryState] = field(default_factory=list)
    steps: list[StepState] = field(default_factory=list)

    def step_titles(self) -> dict[str, str]:
        return {s.key: s.title or s.key for s in self.steps if s.key}


# --- from a ladder's definition --------------------------------------------------------------------------------


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def length_fields(text: str) -> tuple[str, str, str]:
    """(amount, unit, date) of a term as written: "2 weken" -> ("2", "weken", ""), "1 april" -> ("", "", "1 april");
    a text that is no term stays in the date field, so that the form shows it with its error."""
    try:
        term = parse_term(text)
    except (TermError, TypeError):
        return "", "weken", text
    if term.kind in RELATIVE_KINDS:
        return str(term.amount), UNIT_OF_KIND[term.kind], ""
    return "", "weken", text


def action_from_data(data: Any) -> ActionState:
    data = _dict(data)
    return ActionState(
        action=_str(data.get("action")), roles=[_str(r) for r in _list(data.get("roles"))],
        message=_str(data.get("message")), document=_str(data.get("document")), term=_str(data.get("term")),
        letter=_str(data.get("letter")), kind=_str(data.get("kind")),
        defaults={_str(k): _str(v) for k, v in _dict(data.get("defaults")).items()},
        measure=_str(data.get("measure")), current_clients=_str(data.get("current_clients")),
        step=_str(data.get("step")),
    )  # fmt: skip


def term_from_data(data: Any) -> TermState:
    data = _dict(data)
    text = _str(data.get("term"))
    amount, unit, on_date = length_fields(text)
    remind = _str(data.get("remind_before"))
    remind_amount, remind_unit, _ = length_fields(remind) if remind else ("", "werkdagen", "")
    starts = _str(data.get("starts")) or "step"
    kind, _, value = starts.partition(":")
    return TermState(
        key=_str(data.get("key")), title=_str(data.get("title")), amount=amount, unit=unit, date=on_date, was=text,
        responsible=_str(data.get("responsible")) or "aanbieder", remind_amount=remind_amount,
        remind_unit=remind_unit if remind_amount else "werkdagen", remind_was=remind, met_by=_str(data.get("met_by")),
        starts=kind if kind in ("document", "date") else starts, starts_document=value if kind == "document" else "",
        starts_date=value if kind == "date" else "",
        on_missed=[action_from_data(a) for a in _list(data.get("on_missed"))],
        on_met=[action_from_data(a) for a in _list(data.get("on_met"))],
    )  # fmt: skip


def state_from_data(key: str, data: Any) -> EditorState:
    """The form for a ladder definition (a dict as stored, or as read from TOML), without checking anything."""
    data = _dict(data)
    case = data.get("case")
    steps = []
    for step in _list(data.get("steps")):
        step = _dict(step)
        requires = _dict(step.get("requires"))
        steps.append(StepState(
            key=_str(step.get("key")), was=_str(step.get("key")), title=_str(step.get("title")),
            description=_str(step.get("description")), actor=_str(step.get("actor")) or "regio",
            final=step.get("final") is True, outcome=_str(step.get("outcome")),
            next=[_str(k) for k in _list(step.get("next"))], automatic=step.get("automatic") is True,
            on_enter=[action_from_data(a) for a in _list(step.get("on_enter"))],
            terms=[term_from_data(t) for t in _list(step.get("terms"))],
            requires=RequiresState(
                steps=[_str(k) for k in _list(requires.get("steps"))], term_passed=requires.get("term_passed") is True,
                reason=_str(requires.get("reason")), label=_str(requires.get("label")),
                exceptions=[_str(e) for e in _list(requires.get("exceptions"))],
            ),
        ))  # fmt: skip
    return EditorState(
        key=key,
        name=_str(data.get("name")),
        description=_str(data.get("description")),
        source=_str(data.get("source")),
        order=_str(data.get("order")) or "linear",
        motivation_required=data.get("motivation_required", True) is not False,
        case=("verplicht" if _dict(case).get("required", True) is not False else "optioneel") if case else "",
        case_description=_str(_dict(case).get("description")),
        dispute=_dict(data.get("dispute")) or None,
        categories=[
            CategoryState(
                key=_str(c.get("key")), title=_str(c.get("title")), start_step=_str(c.get("start_step")),
                subcategories=[SubcategoryState(_str(k), _str(v)) for k, v in _dict(c.get("subcategories")).items()],
            )
            for c in map(_dict, _list(data.get("categories")))
        ],
        steps=steps,
    )  # fmt: skip


def empty_state(key: str, name: str) -> EditorState:
    """A new ladder to start from: one category, a first step and a final step, so it can be drawn at once."""
    return EditorState(
        key=key, name=name,
        categories=[CategoryState(key="tekortkoming", title="Tekortkoming", start_step="eerste_stap")],
        steps=[
            StepState(key="eerste_stap", was="eerste_stap", title="Eerste stap", next=["afgesloten"]),
            StepState(key="afgesloten", was="afgesloten", title="Afgesloten", final=True, outcome="afgesloten"),
        ],
    )  # fmt: skip


# --- from the posted form ---------------------------------------------------------------------------------------


def getall(form: FormData, name: str) -> list[Any]:
    """Every value of a repeated field (checkboxes, a multiple select); [] when none was sent."""
    try:
        return list(form.getall(name))
    except KeyError:
        return []


def _count(form: FormData, name: str) -> int:
    try:
        return max(0, min(int(form.get(name) or 0), MAX_ITEMS))
    except ValueError:
        return 0


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _multiline(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def _values(form: FormData, name: str) -> list[str]:
    return [v for v in getall(form, name) if isinstance(v, str) and v]


def _actions(form: FormData, prefix: str) -> list[ActionState]:
    """The actions of one list: ``{prefix}n`` of them, each ``{prefix}{n}-field``. A letter's first texts are read
    for the fields of its kind (``{prefix}{n}-default-gevolg``); a changed kind leaves the old kind's texts behind."""
    found = []
    for n in range(_count(form, f"{prefix}n")):
        p = f"{prefix}{n}-"
        kind = _text(form, f"{p}kind") or TEMPLATE_KINDS.get(_text(form, f"{p}letter"))
        defaults = {f.key: _multiline(form, f"{p}default-{f.key}") for f in fields_of([kind])}
        defaults = {k: v for k, v in defaults.items() if v}
        found.append(ActionState(
            action=_text(form, f"{p}action"), roles=_values(form, f"{p}roles"), message=_multiline(form, f"{p}message"),
            document=_text(form, f"{p}document"), term=_text(form, f"{p}term"), letter=_text(form, f"{p}letter"),
            kind=_text(form, f"{p}kind"), defaults=defaults, measure=_text(form, f"{p}measure"),
            current_clients=_multiline(form, f"{p}current_clients"), step=_text(form, f"{p}step"),
        ))  # fmt: skip
    return found


def state_from_form(key: str, form: FormData) -> EditorState:
    """The editor's state exactly as typed; keys left empty are made from the titles, and a renamed step or term takes
    its references along."""
    steps = []
    for i in range(_count(form, "steps")):
        p = f"s{i}-"
        terms = []
        for j in range(_count(form, f"{p}terms")):
            q = f"{p}t{j}-"
            t = {name: _text(form, f"{q}{name}") for name in (
                "key", "title", "amount", "unit", "date", "was", "responsible", "remind_amount", "remind_unit",
                "remind_was", "met_by", "starts", "starts_document", "starts_date")}  # fmt: skip
            starts, _, document = t["starts"].partition(":")  # one choice: "step", "document:KIND", "date" ...
            if starts == "document":
                t["starts_document"] = document
            terms.append(TermState(
                **{**t, "unit": t["unit"] or "weken", "responsible": t["responsible"] or "aanbieder",
                   "remind_unit": t["remind_unit"] or "werkdagen", "starts": starts or "step"},
                on_missed=_actions(form, f"{q}m"), on_met=_actions(form, f"{q}r"),
            ))  # fmt: skip
        steps.append(StepState(
            key=_text(form, f"{p}key"), was=_text(form, f"{p}was"), title=_text(form, f"{p}title"),
            description=_multiline(form, f"{p}description"), actor=_text(form, f"{p}actor") or "regio",
            final=form.get(f"{p}final") == "ja", outcome=_text(form, f"{p}outcome"), next=_values(form, f"{p}next"),
            automatic=form.get(f"{p}automatic") == "ja", on_enter=_actions(form, f"{p}a"), terms=terms,
            requires=RequiresState(
                steps=_values(form, f"{p}requires-steps"), term_passed=form.get(f"{p}requires-term_passed") == "ja",
                reason=_multiline(form, f"{p}requires-reason"), label=_text(form, f"{p}requires-label"),
                exceptions=_values(form, f"{p}requires-exceptions"),
            ),
        ))  # fmt: skip
    categories = []
    for k in range(_count(form, "categories")):
        c = f"c{k}-"
        categories.append(CategoryState(
            key=_text(form, f"{c}key"), title=_text(form, f"{c}title"), start_step=_text(form, f"{c}start_step"),
            subcategories=[SubcategoryState(_text(form, f"{c}u{m}-key"), _text(form, f"{c}u{m}-title"))
                           for m in range(_count(form, f"{c}subs"))],
        ))  # fmt: skip
    state = EditorState(
        key=key,
        name=_text(form, "name"),
        description=_multiline(form, "description"),
        source=_source(_text(form, "source"), _text(form, "source_was")),
        order="free" if form.get("order") == "free" else "linear",
        motivation_required=form.get("motivation_required") == "ja",
        case=form.get("case") if form.get("case") in ("verplicht", "optioneel") else "",
        case_description=_text(form, "case_description"),
        categories=categories,
        steps=steps,
    )
    fill_missing_keys(state)
    for step in state.steps:
        if step.was and step.key and step.was != step.key and step.was not in {s.key for s in state.steps}:
            rename_step(state, step.was, step.key)
        step.was = step.key
    return state


def _source(typed: str, was: str) -> str:
    """The form shows the source's title without the developers' reference ("seed 000: "): the same title typed back
    is the source as it was."""
    return was if was and typed == source_title(was) else typed


# --- keys -------------------------------------------------------------------------------------------------------


def key_from(title: str, taken: set[str], fallback: str) -> str:
    """A key for ``title`` ("Officiële brief" -> "officiele_brief"), not in ``taken``."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:40].rstrip("_") or fallback
    if not base[0].isalpha():
        base = f"{fallback}_{base}"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def fill_missing_keys(state: EditorState) -> None:
    """Steps, terms, categories and subcategories without a key get one from their title."""
    taken = {s.key for s in state.steps if s.key}
    for step in state.steps:
        if not step.key and step.title:
            step.key = key_from(step.title, taken, "stap")
            taken.add(step.key)
        term_keys = {t.key for t in step.terms if t.key}
        for term in step.terms:
            if not term.key and (term.title or term.amount or term.date):
                term.key = key_from(term.title or "termijn", term_keys, "termijn")
                term_keys.add(term.key)
    category_keys = {c.key for c in state.categories if c.key}
    for category in state.categories:
        if not category.key and category.title:
            category.key = key_from(category.title, category_keys, "categorie")
            category_keys.add(category.key)
        sub_keys = {s.key for s in category.subcategories if s.key}
        for sub in category.subcategories:
            if not sub.key and sub.title:
                sub.key = key_from(sub.title, sub_keys, "onderwerp")
                sub_keys.add(sub.key)


def _all_actions(state: EditorState):
    for step in state.steps:
        yield from step.on_enter
        for term in step.terms:
            yield from term.on_missed
            yield from term.on_met


def rename_step(state: EditorState, old: str, new: str) -> None:
    """Every reference to step ``old`` now names ``new``."""
    for step in state.steps:
        step.next = [new if k == old else k for k in step.next]
        step.requires.steps = [new if k == old else k for k in step.requires.steps]
        for term in step.terms:
            if term.met_by == f"step:{old}":
                term.met_by = f"step:{new}"
    for category in state.categories:
        if category.start_step == old:
            category.start_step = new
    for action in _all_actions(state):
        if action.step == old:
            action.step = new


# --- structural edits -------------------------------------------------------------------------------------------

ACTION_LISTS = {"a": "on_enter", "m": "on_missed", "r": "on_met"}
CATEGORIES = -2  # what ``apply_operation`` returns for a change of the categories (the page opens them)


def action_list(state: EditorState, prefix: str) -> list[ActionState] | None:
    """The list named by a form prefix: "s2-a" (step 3 on entering), "s2-t0-m" (its first term when missed),
    "s2-t0-r" (... when met); None for anything else."""
    match = re.fullmatch(r"s(\d+)-(?:t(\d+)-)?([amr])", prefix)
    if not match or int(match[1]) >= len(state.steps):
        return None
    step = state.steps[int(match[1])]
    if match[2] is None:
        return step.on_enter if match[3] == "a" else None
    if int(match[2]) >= len(step.terms) or match[3] == "a":
        return None
    return getattr(step.terms[int(match[2])], ACTION_LISTS[match[3]])


def apply_operation(state: EditorState, operation: str, new_action: str = "") -> int | None:
    """Add, remove or move a part: "add_step", "remove_step:2", "up:2", "down:2", "add_term:2", "remove_term:2:0",
    "add_action:s2-t0-m" (of kind ``new_action``), "remove_action:s2-t0-m:1", "add_category", "remove_category:1",
    "add_sub:1", "remove_sub:1:0". Returns the index of the step the change is in (-1 for the ladder's own parts,
    ``CATEGORIES`` for its categories), or None when ``operation`` is none of these (e.g. "check")."""
    name, _, rest = operation.partition(":")
    numbers = [int(n) for n in rest.split(":") if n.isdigit()]
    steps = state.steps
    first = numbers[0] if numbers else -1
    if name == "add_step" and len(steps) < MAX_ITEMS:
        steps.append(StepState())
        return len(steps) - 1
    if name == "remove_step" and 0 <= first < len(steps):
        removed = steps.pop(first)
        for step in steps:  # transitions to the removed step go with it
            step.next = [k for k in step.next if k != removed.key]
        return -1
    if name in ("up", "down") and 0 <= first < len(steps):
        other = first - 1 if name == "up" else first + 1
        if 0 <= other < len(steps):
            steps[first], steps[other] = steps[other], steps[first]
            return other
        return first
    if name == "add_term" and 0 <= first < len(steps):
        steps[first].terms.append(TermState())
        return first
    if name == "remove_term" and len(numbers) == 2 and 0 <= first < len(steps):
        if numbers[1] < len(steps[first].terms):
            steps[first].terms.pop(numbers[1])
        return first
    if name in ("add_action", "remove_action"):
        prefix = rest.split(":")[0]
        actions = action_list(state, prefix)
        if actions is None:
            return None
        index = int(prefix[1:].split("-")[0])
        if name == "add_action" and new_action:
            actions.append(ActionState(action=new_action))
        elif name == "remove_action" and len(numbers) == 1 and numbers[0] < len(actions):
            actions.pop(numbers[0])
        return index
    if name == "add_category":
        state.categories.append(CategoryState())
        return CATEGORIES
    if name == "remove_category" and 0 <= first < len(state.categories):
        state.categories.pop(first)
        return CATEGORIES
    if name == "add_sub" and 0 <= first < len(state.categories):
        state.categories[first].subcategories.append(SubcategoryState())
        return CATEGORIES
    if name == "remove_sub" and len(numbers) == 2 and 0 <= first < len(state.categories):
        subs = state.categories[first].subcategories
        if numbers[1] < len(subs):
            subs.pop(numbers[1])
        return CATEGORIES
    return None
