"""The ladder editor's rules: the form's state, its checks (in Dutch, each problem on the field it is about) and
the difference between two versions, in words.

The editor is stateless: the whole ladder travels in one form. ``EditorState`` holds exactly what was typed (so
nothing is lost when a save is refused); ``validate`` turns it into a ``LadderSpec`` or a list of problems;
``apply_operation`` adds, removes and moves steps and terms. Publishing (``apps.ladders.services.publish``)
happens in ``apps/ladders/pages.py`` after the reader has seen ``describe_changes``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any, Protocol

import tomli_w
from pydantic import TypeAdapter, ValidationError

from apps.ladders.schema import ACTORS, KEY_PATTERN, NOTIFY_ROLES, Action, LadderSpec
from apps.ladders.terms import TermError, parse_term
from apps.tenancy.loader import ROLES_WITHOUT_MAILBOX
from apps.tenancy.schema import format_location
from core.text import ONE_LINE_NL, control_character

ACTIONS_TABLE = "acties"  # actions are edited as TOML: [[acties]] action = "notify" ...
CATEGORIES_TABLE = "categories"
ACTION_ADAPTER: TypeAdapter = TypeAdapter(Action)
ACTOR_LABELS = {"regio": "regio", "aanbieder": "aanbieder", "gemeente": "gemeente", "gezin": "gezin",
                "extern": "extern"}  # fmt: skip


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getall(self, key: str) -> list[Any]: ...


@dataclass(frozen=True)
class EditorProblem:
    field: str  # the form field (e.g. "s2-t0-term"), "s2" for the step as a whole, "" for the ladder
    message: str  # Dutch, names the step and what is wrong


FORMAL_ACTIONS = ("send_letter", "start_measure", "end_measure")  # a person decides these, never the ladder


@dataclass
class TermState:
    key: str = ""
    term: str = ""
    title: str = ""
    responsible: str = "aanbieder"
    remind_before: str = ""
    met_by: str = ""
    starts: str = "step"  # step, document:SOORT, date:JJJJ-MM-DD, contract_end
    on_missed: str = ""  # TOML
    on_met: str = ""  # TOML: the reaction when the term is met (suggest_step, move_to_step, notify)


@dataclass
class StepState:
    key: str = ""
    title: str = ""
    description: str = ""
    actor: str = "regio"
    final: bool = False
    outcome: str = ""
    next: list[str] = field(default_factory=list)
    on_enter: str = ""  # TOML
    terms: list[TermState] = field(default_factory=list)
    requires: str = ""  # TOML: the step's precondition table (steps, term_passed, reason, label, exceptions)
    automatic: bool = False  # the ladder may take it on its own (only harmless steps)


@dataclass
class EditorState:
    key: str
    name: str = ""
    description: str = ""
    source: str = ""
    order: str = "linear"
    motivation_required: bool = True
    categories: str = ""  # TOML
    steps: list[StepState] = field(default_factory=list)
    case: str = ""  # a ladder about one case ([case]): "" none, "verplicht" (required) or "optioneel"
    case_description: str = ""


def _without_none(value):
    """TOML has no null: a field left out means the schema's default."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _actions_toml(actions: list[dict]) -> str:
    return tomli_w.dumps({ACTIONS_TABLE: _without_none(actions)}) if actions else ""


def state_from_spec(spec: LadderSpec) -> EditorState:
    data = spec.model_dump(mode="json")
    return EditorState(
        key=spec.key,
        name=spec.name,
        description=spec.description,
        source=spec.source,
        order=spec.order,
        motivation_required=spec.motivation_required,
        case=("verplicht" if spec.case.required else "optioneel") if spec.case else "",
        case_description=spec.case.description if spec.case else "",
        categories=tomli_w.dumps({CATEGORIES_TABLE: _without_none(data["categories"])}),
        steps=[
            StepState(
                key=step["key"], title=step["title"], description=step["description"], actor=step["actor"],
                final=step["final"], outcome=step["outcome"], next=list(step["next"]),
                on_enter=_actions_toml(step["on_enter"]),
                requires=tomli_w.dumps(_without_none(step["requires"])) if step.get("requires") else "",
                automatic=step["automatic"],
                terms=[
                    TermState(key=t["key"], term=t["term"], title=t["title"], responsible=t["responsible"],
                              remind_before=t["remind_before"] or "", met_by=t["met_by"], starts=t["starts"],
                              on_missed=_actions_toml(t["on_missed"]), on_met=_actions_toml(t.get("on_met") or []))
                    for t in step["terms"]
                ],
            )
            for step in data["steps"]
        ],
    )  # fmt: skip


def getall(form: FormData, name: str) -> list[Any]:
    """Every value of a repeated field (checkboxes, a multiple select); [] when none was sent."""
    try:
        return list(form.getall(name))
    except KeyError:
        return []


def _count(form: FormData, name: str, limit: int = 200) -> int:
    try:
        return max(0, min(int(form.get(name) or 0), limit))
    except ValueError:
        return 0


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _multiline(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def state_from_form(key: str, form: FormData) -> EditorState:
    """The editor's state exactly as typed (field names as in ``frontend/templates/ladders/bewerken.html``)."""
    steps = []
    for i in range(_count(form, "steps")):
        p = f"s{i}-"
        terms = [
            TermState(
                key=_text(form, f"{p}t{j}-key"), term=_text(form, f"{p}t{j}-term"), title=_text(form, f"{p}t{j}-title"),
                responsible=_text(form, f"{p}t{j}-responsible") or "aanbieder",
                remind_before=_text(form, f"{p}t{j}-remind_before"), met_by=_text(form, f"{p}t{j}-met_by"),
                starts=_text(form, f"{p}t{j}-starts") or "step", on_missed=_multiline(form, f"{p}t{j}-on_missed"),
                on_met=_multiline(form, f"{p}t{j}-on_met"),
            )
            for j in range(_count(form, f"{p}terms"))
        ]  # fmt: skip
        steps.append(
            StepState(
                key=_text(form, f"{p}key"), title=_text(form, f"{p}title"), description=_text(form, f"{p}description"),
                actor=_text(form, f"{p}actor") or "regio", final=form.get(f"{p}final") == "ja",
                outcome=_text(form, f"{p}outcome"),
                next=[v for v in getall(form, f"{p}next") if isinstance(v, str) and v],
                on_enter=_multiline(form, f"{p}on_enter"), terms=terms, requires=_multiline(form, f"{p}requires"),
                automatic=form.get(f"{p}automatic") == "ja",
            )
        )  # fmt: skip
    return EditorState(
        key=key,
        name=_text(form, "name"),
        description=_multiline(form, "description").strip(),
        source=_text(form, "source"),
        order="free" if form.get("order") == "free" else "linear",
        motivation_required=form.get("motivation_required") == "ja",
        case=form.get("case") if form.get("case") in ("verplicht", "optioneel") else "",
        case_description=_text(form, "case_description"),
        categories=_multiline(form, "categories"),
        steps=steps,
    )


# --- structural edits ------------------------------------------------------------------------------------


def apply_operation(state: EditorState, operation: str) -> bool:
    """Add, remove or move a step or term ("add_step", "remove_step:2", "up:2", "down:2", "add_term:2",
    "remove_term:2:0"). Returns False for anything else (e.g. "check")."""
    name, _, rest = operation.partition(":")
    numbers = [int(n) for n in rest.split(":") if n.isdigit()]
    steps = state.steps
    if name == "add_step":
        steps.append(StepState())
    elif name == "remove_step" and numbers and numbers[0] < len(steps):
        removed = steps.pop(numbers[0])
        for step in steps:  # transitions to the removed step go with it
            step.next = [k for k in step.next if k != removed.key]
    elif name in ("up", "down") and numbers and numbers[0] < len(steps):
        i = numbers[0]
        j = i - 1 if name == "up" else i + 1
        if 0 <= j < len(steps):
            steps[i], steps[j] = steps[j], steps[i]
    elif name == "add_term" and numbers and numbers[0] < len(steps):
        steps[numbers[0]].terms.append(TermState())
    elif name == "remove_term" and len(numbers) == 2 and numbers[0] < len(steps):
        terms = steps[numbers[0]].terms
        if numbers[1] < len(terms):
            terms.pop(numbers[1])
    else:
        return False
    return True


# --- validation ------------------------------------------------------------------------------------------


def _parse_toml_list(text: str, table: str, field_name: str, what: str, problems: list[EditorProblem]) -> list:
    if not text.strip():
        return []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(EditorProblem(field_name, f"{what}: dit is geen geldige TOML ({exc})."))
        return []
    unknown = sorted(set(data) - {table})
    if unknown:
        problems.append(EditorProblem(field_name, f"{what}: schrijf elke regel onder [[{table}]] (onbekend: "
                                                  f"{', '.join(unknown)})."))  # fmt: skip
    items = data.get(table, [])
    return items if isinstance(items, list) else []


def _check_term(value: str, field_name: str, label: str, problems: list[EditorProblem]) -> None:
    if not value:
        problems.append(EditorProblem(field_name, f"{label}: vul de termijn in, bijvoorbeeld ‘2 weken’."))
        return
    try:
        parse_term(value)
    except TermError as exc:
        problems.append(
            EditorProblem(
                field_name,
                f"{label}: ‘{value}’ is geen termijn die Trede kan lezen ({exc}). Schrijf bijvoorbeeld ‘2 weken’, "
                "‘10 werkdagen’, ‘3 maanden’ of ‘1 oktober’.",
            )
        )


def _check_actions(
    actions: list, field_name: str, label: str, step_keys: set[str], mailbox_roles: set[str],
    problems: list[EditorProblem],
) -> list[dict]:  # fmt: skip
    valid = []
    for number, action in enumerate(actions, start=1):
        where = f"{label}, actie {number}"
        if not isinstance(action, dict):
            problems.append(EditorProblem(field_name, f"{where}: schrijf de actie als [[{ACTIONS_TABLE}]]-tabel."))
            continue
        if action.get("action") == "notify":
            roles = action.get("roles") if isinstance(action.get("roles"), list) else []
            for role in roles:
                if role not in NOTIFY_ROLES:
                    problems.append(EditorProblem(
                        field_name, f"{where}: onbekende rol ‘{role}’ (bekend: {', '.join(NOTIFY_ROLES)})."
                    ))  # fmt: skip
                elif role not in mailbox_roles and role not in ROLES_WITHOUT_MAILBOX:
                    problems.append(EditorProblem(
                        field_name,
                        f"{where}: de regio heeft geen postbus voor rol ‘{role}’; voeg die postbus toe bij de "
                        "regio-instellingen of kies een andere rol.",
                    ))  # fmt: skip
        if action.get("action") in ("suggest_step", "move_to_step") and action.get("step") not in step_keys:
            problems.append(EditorProblem(field_name, f"{where}: verwijst naar onbekende stap ‘{action.get('step')}’."))
        try:
            ACTION_ADAPTER.validate_python(action)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                location = format_location(error["loc"]) or "actie"
                if error["type"] == "literal_error" and "roles" in error["loc"]:
                    continue  # an unknown role: reported above, in words
                problems.append(EditorProblem(field_name, f"{where}: {location}: {error['msg']}."))
            continue
        valid.append(action)
    return valid


def validate(state: EditorState, *, mailbox_roles: set[str]) -> tuple[LadderSpec | None, list[EditorProblem]]:
    """The ladder the editor describes, or every problem with it. ``mailbox_roles``: the region's mailboxes."""
    problems: list[EditorProblem] = []
    keys = [s.key for s in state.steps]
    known = set(keys)
    if not state.name:
        problems.append(EditorProblem("name", "Geef de ladder een naam."))
    elif control_character(state.name):
        problems.append(EditorProblem("name", f"De naam van de ladder {ONE_LINE_NL}."))
    if control_character(state.source):
        problems.append(EditorProblem("source", f"De bron {ONE_LINE_NL}."))
    if not state.steps:
        problems.append(EditorProblem("", "Een ladder heeft minstens één stap."))
    categories = _parse_toml_list(state.categories, CATEGORIES_TABLE, "categories", "Categorieën", problems)
    if not categories:
        problems.append(EditorProblem("categories", "Categorieën: een ladder heeft minstens één categorie."))
    for number, category in enumerate(categories, start=1):
        titles = [category.get("title"), *(category.get("subcategories") or {}).values()] if isinstance(
            category, dict) else []  # fmt: skip
        if any(control_character(title) for title in titles):
            problems.append(EditorProblem("categories", f"Categorie {number}: een titel {ONE_LINE_NL}."))
        if isinstance(category, dict) and category.get("start_step") not in known:
            problems.append(EditorProblem(
                "categories",
                f"Categorie {number} (‘{category.get('title', category.get('key', ''))}’) begint bij onbekende stap "
                f"‘{category.get('start_step', '')}’.",
            ))  # fmt: skip

    steps_data = []
    for i, step in enumerate(state.steps):
        p = f"s{i}-"
        label = f"Stap {i + 1} (‘{step.title or step.key or 'nieuw'}’)"
        if not re.match(KEY_PATTERN, step.key):
            problems.append(EditorProblem(f"{p}key", f"{label}: geef een sleutel van kleine letters, cijfers en _ die "
                                                     "met een letter begint, bijvoorbeeld "
                                                     "‘formeel_gesprek’."))  # fmt: skip
        elif keys.count(step.key) > 1:
            problems.append(EditorProblem(f"{p}key", f"{label}: de sleutel ‘{step.key}’ komt twee keer voor."))
        if not step.title:
            problems.append(EditorProblem(f"{p}title", f"{label}: geef de stap een titel."))
        elif control_character(step.title):
            label = f"Stap {i + 1}"  # the title itself would break the message
            problems.append(EditorProblem(f"{p}title", f"{label}: de titel {ONE_LINE_NL}."))
        if control_character(step.outcome):
            problems.append(EditorProblem(f"{p}outcome", f"{label}: de uitkomst {ONE_LINE_NL}."))
        if step.actor not in ACTORS:
            problems.append(EditorProblem(f"{p}actor", f"{label}: onbekende partij ‘{step.actor}’."))
        for target in step.next:
            if target not in known:
                problems.append(EditorProblem(f"{p}next", f"{label}: leidt naar onbekende stap ‘{target}’."))
        if step.final and step.next:
            problems.append(EditorProblem(f"{p}next", f"{label} is een eindstap maar heeft vervolgstappen: vink "
                                                      "‘eindstap’ uit of haal de vervolgstappen weg."))  # fmt: skip
        if not step.final and not step.next and state.order == "linear":
            problems.append(EditorProblem(f"{p}next", f"{label} heeft geen uitweg en is geen eindstap: kies een "
                                                      "vervolgstap of maak er een eindstap van."))  # fmt: skip
        on_enter = _parse_toml_list(step.on_enter, ACTIONS_TABLE, f"{p}on_enter", f"{label}, acties", problems)
        on_enter = _check_actions(on_enter, f"{p}on_enter", f"{label}, bij binnenkomst", known, mailbox_roles,
                                  problems)  # fmt: skip
        term_keys = [t.key for t in step.terms]
        terms_data = []
        for j, term in enumerate(step.terms):
            q = f"{p}t{j}-"
            term_label = f"{label}, termijn {j + 1}"
            if not re.match(KEY_PATTERN, term.key):
                problems.append(EditorProblem(f"{q}key", f"{term_label}: geef een sleutel van kleine letters, cijfers "
                                                         "en _, bijvoorbeeld ‘plan_binnen’."))  # fmt: skip
            elif term_keys.count(term.key) > 1:
                problems.append(EditorProblem(f"{q}key", f"{term_label}: de sleutel ‘{term.key}’ komt twee keer voor."))
            _check_term(term.term, f"{q}term", term_label, problems)
            if control_character(term.title):
                problems.append(EditorProblem(f"{q}title", f"{term_label}: de titel {ONE_LINE_NL}."))
            if term.remind_before:
                _check_term(term.remind_before, f"{q}remind_before", f"{term_label}, herinnering", problems)
            if term.responsible not in ACTORS:
                problems.append(
                    EditorProblem(f"{q}responsible", f"{term_label}: onbekende partij ‘{term.responsible}’.")
                )
            if term.met_by and not re.match(r"^(document|step):[a-z_]+$", term.met_by):
                problems.append(EditorProblem(f"{q}met_by", f"{term_label}: ‘voldaan door’ is document:SOORT of "
                                                            "step:STAP, bijvoorbeeld "
                                                            "‘document:plan_van_aanpak’."))  # fmt: skip
            elif term.met_by.startswith("step:") and term.met_by[5:] not in known:
                problems.append(EditorProblem(f"{q}met_by", f"{term_label}: voldaan door onbekende stap "
                                                            f"‘{term.met_by[5:]}’."))  # fmt: skip
            on_missed = _parse_toml_list(term.on_missed, ACTIONS_TABLE, f"{q}on_missed", f"{term_label}, acties",
                                         problems)  # fmt: skip
            on_missed = _check_actions(on_missed, f"{q}on_missed", f"{term_label}, bij verlopen", known,
                                       mailbox_roles, problems)  # fmt: skip
            if any(a.get("action") in FORMAL_ACTIONS for a in on_missed if isinstance(a, dict)):
                problems.append(EditorProblem(f"{q}on_missed", f"{term_label}: een verlopen termijn verstuurt geen "
                                                               "brief en legt geen maatregel op; stel de stap "
                                                               "voor die dat doet (move_to_step)."))  # fmt: skip
            on_met = _parse_toml_list(term.on_met, ACTIONS_TABLE, f"{q}on_met", f"{term_label}, reactie", problems)
            on_met = _check_actions(on_met, f"{q}on_met", f"{term_label}, bij gehaald", known, mailbox_roles, problems)
            if any(a.get("action") not in ("suggest_step", "move_to_step", "notify") for a in on_met
                   if isinstance(a, dict)):
                problems.append(EditorProblem(f"{q}on_met", f"{term_label}: een gehaalde termijn kan een stap "
                                                            "voorstellen (suggest_step), zetten (move_to_step) of "
                                                            "melden (notify), meer niet."))  # fmt: skip
            if not re.match(r"^(step|contract_end|document:[a-z_]+|date:[0-9]{4}-[0-9]{2}-[0-9]{2})$", term.starts):
                problems.append(EditorProblem(f"{q}starts", f"{term_label}: ‘begint bij’ is step, document:SOORT, "
                                                            "date:JJJJ-MM-DD of contract_end."))  # fmt: skip
            terms_data.append({"key": term.key, "term": term.term, "title": term.title,
                               "responsible": term.responsible, "remind_before": term.remind_before or None,
                               "met_by": term.met_by, "starts": term.starts, "on_missed": on_missed,
                               "on_met": on_met})  # fmt: skip
        for action in on_enter:
            if action.get("action") == "demand_document" and action.get("term") and action["term"] not in term_keys:
                problems.append(EditorProblem(f"{p}on_enter", f"{label}: vraagt een document bij onbekende termijn "
                                                              f"‘{action['term']}’."))  # fmt: skip
        requires = None
        if step.requires.strip():
            try:
                requires = tomllib.loads(step.requires)
            except tomllib.TOMLDecodeError as exc:
                problems.append(EditorProblem(f"{p}requires", f"{label}, voorwaarden: geen geldige TOML ({exc})."))
        if step.automatic and (requires or any(a.get("action") in FORMAL_ACTIONS for a in on_enter)):
            problems.append(EditorProblem(f"{p}automatic", f"{label}: een stap met een brief, een maatregel of "
                                                           "voorwaarden zet de ladder nooit zelf; een persoon "
                                                           "beslist."))  # fmt: skip
        steps_data.append({"key": step.key, "title": step.title, "description": step.description,
                           "actor": step.actor, "final": step.final, "outcome": step.outcome,
                           "next": step.next, "terms": terms_data, "on_enter": on_enter,
                           "requires": requires, "automatic": step.automatic})  # fmt: skip
    if state.steps and not any(step.final for step in state.steps):
        problems.append(EditorProblem("", "De ladder heeft geen eindstap: maak minstens één stap een eindstap."))
    if problems:
        return None, problems

    # Reachability, only once every reference is known (otherwise the list would repeat the same mistake).
    if state.order == "linear":
        by_key = {s["key"]: s for s in steps_data}
        reached: set[str] = set()
        frontier = [c["start_step"] for c in categories if isinstance(c, dict)]
        while frontier:
            key = frontier.pop()
            if key in reached or key not in by_key:
                continue
            reached.add(key)
            step = by_key[key]
            frontier.extend(step["next"])
            moves = [*step["on_enter"], *(a for t in step["terms"] for a in [*t["on_missed"], *t.get("on_met", [])])]
            frontier.extend(a["step"] for a in moves if a.get("action") == "move_to_step")
        for i, step in enumerate(state.steps):
            if step.key not in reached:
                problems.append(EditorProblem(
                    f"s{i}", f"Stap {i + 1} (‘{step.title}’) is niet bereikbaar: geen startstap van een categorie en "
                             "geen vervolgstap leidt ernaartoe."))  # fmt: skip
        if problems:
            return None, problems

    data = {"key": state.key, "name": state.name, "description": state.description, "source": state.source,
            "order": state.order, "motivation_required": state.motivation_required, "categories": categories,
            "steps": steps_data}  # fmt: skip
    if state.case:
        data["case"] = {"required": state.case == "verplicht",
                        **({"description": state.case_description} if state.case_description else {})}  # fmt: skip
    try:
        return LadderSpec.model_validate(data), []
    except ValidationError as exc:  # what the checks above do not word themselves (e.g. a category's fields)
        for error in exc.errors(include_url=False):
            location = format_location(error["loc"])
            field_name = "categories" if location.startswith("categories") else ""
            message = error["msg"].removeprefix("Value error, ")
            problems.append(EditorProblem(field_name, f"{location}: {message}." if location else f"{message}."))
        return None, problems


# --- the difference between two versions, in words ---------------------------------------------------------


def _action_words(action) -> str:
    data = action.model_dump(mode="json") if hasattr(action, "model_dump") else dict(action)
    kind = data.pop("action")
    details = ", ".join(
        f"{k}: {'/'.join(v) if isinstance(v, list) else v}" for k, v in data.items() if v not in ("", None)
    )
    return f"{kind} ({details})" if details else kind


def _actions_words(actions) -> str:
    return "; ".join(_action_words(a) for a in actions) or "geen"


def describe_changes(old: LadderSpec | None, new: LadderSpec) -> list[str]:
    """What changes from ``old`` to ``new``, one Dutch sentence per change."""
    if old is None:
        return [f"Nieuwe ladder ‘{new.name}’ met {len(new.steps)} stappen."]
    changes: list[str] = []
    if old.name != new.name:
        changes.append(f"Naam gewijzigd van ‘{old.name}’ in ‘{new.name}’.")
    if old.description != new.description:
        changes.append("Beschrijving van de ladder gewijzigd.")
    if old.source != new.source:
        changes.append(f"Bron gewijzigd van ‘{old.source}’ in ‘{new.source}’.")
    if old.order != new.order:
        words = {"linear": "alleen de genoemde vervolgstappen", "free": "elke stap mag op elke stap volgen"}
        changes.append(f"Volgorde gewijzigd van ‘{words[old.order]}’ in ‘{words[new.order]}’.")
    if old.case != new.case:
        words = {None: "niet over één casus", True: "over één casus (verplicht)", False: "over één casus (optioneel)"}
        before, after = (words[c.required if c else None] for c in (old.case, new.case))
        changes.append(f"De ladder gaat nu {after} (was: {before}).")
    if old.motivation_required != new.motivation_required:
        changes.append(
            "Motivering bij besluiten is nu " + ("verplicht." if new.motivation_required else "niet verplicht.")
        )
    old_categories = {c.key: c for c in old.categories}
    new_categories = {c.key: c for c in new.categories}
    titles = {s.key: s.title for s in [*old.steps, *new.steps]}
    for key in new_categories.keys() - old_categories.keys():
        changes.append(f"Categorie toegevoegd: ‘{new_categories[key].title}’.")
    for key in old_categories.keys() - new_categories.keys():
        changes.append(f"Categorie verwijderd: ‘{old_categories[key].title}’.")
    for key in sorted(old_categories.keys() & new_categories.keys()):
        before, after = old_categories[key], new_categories[key]
        if before.start_step != after.start_step:
            changes.append(f"Categorie ‘{after.title}’ begint nu bij ‘{titles[after.start_step]}’ in plaats van "
                           f"‘{titles[before.start_step]}’.")  # fmt: skip
        elif before != after:
            changes.append(f"Categorie ‘{after.title}’ gewijzigd (titel of subcategorieën).")
    old_steps = {s.key: s for s in old.steps}
    new_steps = {s.key: s for s in new.steps}
    for step in new.steps:
        if step.key not in old_steps:
            changes.append(f"Stap toegevoegd: ‘{step.title}’.")
    for step in old.steps:
        if step.key not in new_steps:
            changes.append(f"Stap verwijderd: ‘{step.title}’.")
    common_old = [s.key for s in old.steps if s.key in new_steps]
    common_new = [s.key for s in new.steps if s.key in old_steps]
    if common_old != common_new:
        changes.append("Volgorde van de stappen gewijzigd: " + ", ".join(f"‘{titles[k]}’" for k in common_new) + ".")
    for key in common_new:
        before, after = old_steps[key], new_steps[key]
        name = f"Stap ‘{after.title}’"
        if before.title != after.title:
            changes.append(f"Stap ‘{before.title}’: titel gewijzigd in ‘{after.title}’.")
        if before.description != after.description:
            changes.append(f"{name}: beschrijving gewijzigd.")
        if before.actor != after.actor:
            changes.append(f"{name}: aan zet gewijzigd van {before.actor} in {after.actor}.")
        if before.final != after.final:
            changes.append(f"{name} is nu een eindstap." if after.final else f"{name} is geen eindstap meer.")
        if before.automatic != after.automatic:
            changes.append(f"{name} zet de ladder nu zelf." if after.automatic else f"{name} beslist nu een persoon.")
        if before.outcome != after.outcome:
            changes.append(f"{name}: uitkomst gewijzigd van ‘{before.outcome}’ in ‘{after.outcome}’.")
        for target in after.next:
            if target not in before.next:
                changes.append(f"{name}: overgang toegevoegd naar ‘{titles.get(target, target)}’.")
        for target in before.next:
            if target not in after.next:
                changes.append(f"{name}: overgang naar ‘{titles.get(target, target)}’ verwijderd.")
        if before.on_enter != after.on_enter:
            changes.append(f"{name}: acties bij binnenkomst gewijzigd van ‘{_actions_words(before.on_enter)}’ in "
                           f"‘{_actions_words(after.on_enter)}’.")  # fmt: skip
        if before.requires != after.requires:
            changes.append(f"{name}: voorwaarden gewijzigd.")
        old_terms = {t.key: t for t in before.terms}
        new_terms = {t.key: t for t in after.terms}
        for term in after.terms:
            if term.key not in old_terms:
                changes.append(f"{name}: termijn ‘{term.title or term.key}’ toegevoegd ({term.term}).")
                continue
            was = old_terms[term.key]
            label = f"{name}, termijn ‘{term.title or term.key}’"
            if was.term != term.term:
                changes.append(f"{label}: gewijzigd van {was.term} in {term.term}.")
            if was.title != term.title:
                changes.append(f"{label}: vraag gewijzigd van ‘{was.title}’ in ‘{term.title}’.")
            if was.responsible != term.responsible:
                changes.append(f"{label}: verantwoordelijke gewijzigd van {was.responsible} in {term.responsible}.")
            if was.remind_before != term.remind_before:
                changes.append(f"{label}: herinnering gewijzigd van {was.remind_before or 'geen'} in "
                               f"{term.remind_before or 'geen'}.")  # fmt: skip
            if was.met_by != term.met_by:
                changes.append(f"{label}: voldaan door gewijzigd van ‘{was.met_by}’ in ‘{term.met_by}’.")
            if was.starts != term.starts:
                changes.append(f"{label}: begint nu bij ‘{term.starts}’ (was ‘{was.starts}’).")
            if was.on_met != term.on_met:
                changes.append(f"{label}: reactie bij gehaald gewijzigd van ‘{_actions_words(was.on_met)}’ in "
                               f"‘{_actions_words(term.on_met)}’.")  # fmt: skip
            if was.on_missed != term.on_missed:
                changes.append(f"{label}: acties bij verlopen gewijzigd van ‘{_actions_words(was.on_missed)}’ in "
                               f"‘{_actions_words(term.on_missed)}’.")  # fmt: skip
        for term in before.terms:
            if term.key not in new_terms:
                changes.append(f"{name}: termijn ‘{term.title or term.key}’ verwijderd ({term.term}).")
    return changes


def problems_by_field(problems: list[EditorProblem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.field, []).append(problem.message)
    return grouped
