"""The fields the decider fills for a step's letters (``apps.ladders.letter_kinds``): offered in the confirm form,
checked by the transition service (refused per field, in Dutch), stored with the decision (``brief_velden`` on the
step's event and in the audit) and printed in the letter. The ladder names a letter's kind in data (``send_letter``
with ``kind``); nothing here knows a step by its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from apps.escalations.context import EscalationError
from apps.ladders.letter_kinds import LADDER_DEFAULTS, TEMPLATE_KINDS, FieldSpec, check_fields, fields_of
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
    its default template (``TEMPLATE_KINDS``), so that it never goes out with its fields empty."""
    return fields_of(a.kind or TEMPLATE_KINDS.get(a.letter) for a in step.on_enter if isinstance(a, SendLetter))


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


def page_fields(step: StepSpec) -> list[dict]:
    """The fields as the confirm form shows them."""
    defaults = ladder_defaults(step)
    return [{"key": f.key, "name": FORM_PREFIX + f.key, "label": f.label, "type": f.type, "hint": f.hint,
             "required": f.required, "default": defaults.get(f.key, "")} for f in step_fields(step)]  # fmt: skip


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
    texts = {f.key: checked.texts.get(f.key) or f"[in te vullen: {f.label.lower()}]" for f in specs}
    return texts, checked.errors


def letter_texts(recorded: Mapping[str, dict] | None) -> dict[str, str]:
    """What the letter prints, from ``checked_letter_fields``."""
    return {k: v["tekst"] for k, v in (recorded or {}).items()}
