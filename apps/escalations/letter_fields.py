"""The fields the decider fills for a step's letters (``apps.ladders.letter_kinds``): offered in the confirm form,
checked by the transition service (refused per field, in Dutch), stored with the decision (``brief_velden`` on the
step's event and in the audit) and printed in the letter. The ladder names a letter's kind in data (``send_letter``
with ``kind``); nothing here knows a step by its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from apps.escalations.context import EscalationError
from apps.escalations.tables import Escalation, TimelineEvent
from apps.ladders.letter_kinds import LADDER_DEFAULTS, REFERENCE, FieldSpec, check_fields, fields_of, kind_of
from apps.ladders.schema import SendLetter, StartMeasure, StepSpec

FORM_PREFIX = "veld_"  # the form's name of a field: "veld_bedrag"


class LetterFieldsError(EscalationError):
    """A letter's field is missing or wrong: ``errors`` per field key (Dutch); the message names them all."""

    def __init__(self, errors: Mapping[str, str], labels: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("De brief is nog niet compleet. " + " ".join(
            f"{labels.get(k, k)}: {message}" for k, message in self.errors.items()))  # fmt: skip


def step_fields(step: StepSpec) -> list[FieldSpec]:
    """The fields of the kinds of the letters ``step`` sends (each once); a letter without a kind has the kind of
    its default template (``kind_of``), so that it never goes out with its fields empty. A step that sends a letter
    also offers the provider's own reference (``uw_kenmerk``, never required), last."""
    letters = [a for a in step.on_enter if isinstance(a, SendLetter)]
    return [*fields_of(kind_of(a.letter, a.kind) for a in letters), *([REFERENCE] if letters else [])]


def ladder_defaults(step: StepSpec) -> dict[str, str]:
    """What the ladder already says for a field, as the form's first value: what happens to current clients (the
    measure's), and a letter's own ``defaults`` (an ingebrekestelling's consequence)."""
    found: dict[str, str] = {}
    for action in step.on_enter:
        if isinstance(action, SendLetter):
            found.update({k: v for k, v in (action.defaults or {}).items() if k not in found})
        elif isinstance(action, StartMeasure):
            found.update({key: getattr(action, attr) for key, attr in LADDER_DEFAULTS.items()
                          if getattr(action, attr, "") and key not in found})  # fmt: skip
    return found


# Fields the form fills in first from what the escalation already says: the text a letter of it printed before
# (the ingebrekestelling's shortcoming for the verzuim letter, the provider's reference), else -- for the shortcoming
# only -- the summary typed at opening. A person reads and confirms it in the form before any letter prints it.
FROM_EARLIER_LETTERS = {"tekortkoming": ("tekortkoming",), "gronden": ("gronden", "tekortkoming"),
                    "uw_kenmerk": ("uw_kenmerk",)}  # fmt: skip
FROM_SUMMARY = ("tekortkoming", "gronden")


def opening_values(step: StepSpec, summary: str) -> dict[str, str]:
    """The first values of the start step's letter fields when an escalation opens: the ladder's, and the summary
    as the shortcoming (the person opening confirms the letter before it goes)."""
    keys = {f.key for f in step_fields(step)}
    found = ladder_defaults(step)
    found.update({k: summary for k in FROM_SUMMARY if k in keys and k not in found and summary})
    return {k: v for k, v in found.items() if k in keys}


async def first_values(scope, escalation: Escalation, step: StepSpec) -> dict[str, str]:
    """The first values of ``step``'s letter fields in the confirm form: the ladder's (``ladder_defaults``), what an
    earlier letter of this escalation printed (``FROM_EARLIER_LETTERS``), else the opening summary (``FROM_SUMMARY``).
    One query: the escalation's decisions, newest first."""
    keys = {f.key for f in step_fields(step)}
    found = {k: v for k, v in ladder_defaults(step).items() if k in keys}
    wanted = [k for k in keys if k in FROM_EARLIER_LETTERS and k not in found]
    if not wanted:
        return found
    rows = await (scope.select(TimelineEvent, TimelineEvent.payload)
                  .where((TimelineEvent.escalation == escalation.id)
                         & TimelineEvent.kind.is_in(["escalatie_geopend", "stap_gewijzigd"]))
                  .order_by(TimelineEvent.sequence, ascending=False))  # fmt: skip
    recorded: dict[str, str] = {}
    for row in rows:
        for key, value in ((row["payload"] or {}).get("brief_velden") or {}).items():
            if isinstance(value, dict) and isinstance(value.get("waarde"), str):
                recorded.setdefault(key, value["waarde"])
    for key in wanted:
        text = next((recorded[k] for k in FROM_EARLIER_LETTERS[key] if recorded.get(k)), "")
        found[key] = text or (escalation.summary if key in FROM_SUMMARY else "")
    return {k: v for k, v in found.items() if v}


def page_fields(step: StepSpec) -> list[dict]:
    """The fields as the confirm form shows them."""
    defaults = ladder_defaults(step)
    return [{"key": f.key, "name": FORM_PREFIX + f.key, "label": f.label, "type": f.type, "hint": f.hint,
             "required": f.required, "default": defaults.get(f.key, "")} for f in step_fields(step)]  # fmt: skip


# How an API client fills in a field of each type (``letter_kinds``), in the API's own words.
API_TYPES = {"bedrag": "amount", "regel": "line", "tekst": "text", "datum": "date", "janee": "yes_no",
             "betaaltermijn": "payment_term"}  # fmt: skip


def api_fields(step: StepSpec) -> list[dict]:
    """The fields a step's letters need, as the API offers them in ``allowed_next_steps`` (the ``letter_fields`` of a
    transition): key, Dutch label and hint, type, whether required, and the ladder's first text if any."""
    defaults = ladder_defaults(step)
    return [{"key": f.key, "label": f.label, "type": API_TYPES.get(f.type, f.type), "required": f.required,
             "hint": f.hint, "default": defaults.get(f.key) or None} for f in step_fields(step)]  # fmt: skip


def typed_fields(form: Mapping[str, str], step: StepSpec) -> dict[str, str]:
    """The values the form holds for ``step``'s fields, by field key (at most 2,000 characters each)."""
    return {f.key: str(form.get(FORM_PREFIX + f.key) or "").strip()[:2_001] for f in step_fields(step)}


def checked_letter_fields(step: StepSpec, typed: Mapping[str, str] | None, today: date) -> dict[str, dict]:
    """What the decider filled in, checked: {field key: {"veld", "waarde", "tekst"}} (stored with the decision,
    ``tekst`` is what the letter prints). LetterFieldsError when one is missing or wrong; {} for a step whose
    letters have no kind. A value for a field the step does not have is refused (a forged or stale request)."""
    specs = step_fields(step)
    known = {f.key for f in specs}
    unknown = [k for k, v in (typed or {}).items() if k not in known and str(v or "").strip()]
    if unknown:
        raise EscalationError(f"De brief van de stap '{step.title}' heeft geen veld '{unknown[0]}'.")
    if not specs:
        return {}
    checked = check_fields(specs, typed, today)
    labels = {f.key: f.label for f in specs}
    if checked.errors:
        raise LetterFieldsError(checked.errors, labels)
    return {k: {"veld": labels[k], "waarde": checked.values[k], "tekst": checked.texts[k]} for k in checked.values}


def preview_texts(step: StepSpec, typed: Mapping[str, str] | None, today: date) -> tuple[dict[str, str], dict]:
    """For a preview: what the letter prints per field (a missing or wrong field shows as "[in te vullen: …]",
    only ever in a preview: the step is refused without it) and the errors per field."""
    specs = step_fields(step)
    checked = check_fields(specs, typed, today)
    texts = {f.key: checked.texts.get(f.key) or (f"[in te vullen: {f.label.lower()}]" if f.required else "")
             for f in specs}  # fmt: skip
    return texts, checked.errors


def letter_texts(recorded: Mapping[str, dict] | None) -> dict[str, str]:
    """What the letter prints, from ``checked_letter_fields``."""
    return {k: v["tekst"] for k, v in (recorded or {}).items()}
