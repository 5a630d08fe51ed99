"""The difference between two versions of a ladder, one Dutch sentence per change: what the editor shows before
publishing, and what the audit entry of the publication keeps. Steps, letters, roles and documents are named in
words (``apps.ladders.vocabulary``), never by their keys."""

from __future__ import annotations

from collections.abc import Mapping

from apps.ladders.schema import LadderSpec
from apps.ladders.vocabulary import ACTOR_NAMES, ORDER_NAMES, action_words, met_by_words, starts_words


def _actions(actions, titles: Mapping[str, str], letters: Mapping[str, str]) -> str:
    return "; ".join(action_words(a.model_dump(mode="json"), titles, letters) for a in actions) or "geen"


def describe_changes(
    old: LadderSpec | None, new: LadderSpec, letter_titles: Mapping[str, str] | None = None
) -> list[str]:
    """What changes from ``old`` to ``new`` (None: a new ladder), one Dutch sentence per change."""
    if old is None:
        return [f"Nieuwe ladder ‘{new.name}’ met {len(new.steps)} {'stap' if len(new.steps) == 1 else 'stappen'}."]
    letters = letter_titles or {}
    titles = {s.key: s.title for s in [*old.steps, *new.steps]}
    changes: list[str] = []
    if old.name != new.name:
        changes.append(f"Naam gewijzigd van ‘{old.name}’ in ‘{new.name}’.")
    if old.description != new.description:
        changes.append("Beschrijving van de ladder gewijzigd.")
    if old.source != new.source:
        changes.append("Bron van de ladder gewijzigd.")
    if old.order != new.order:
        changes.append(f"Volgorde gewijzigd van ‘{ORDER_NAMES[old.order]}’ in ‘{ORDER_NAMES[new.order]}’.")
    if old.case != new.case:
        words = {None: "niet over één casus", True: "over één casus (verplicht)", False: "over één casus (optioneel)"}
        before, after = (words[c.required if c else None] for c in (old.case, new.case))
        changes.append(f"De ladder gaat nu {after} (was: {before}).")
    if old.dispute is not None and new.dispute is None:
        changes.append("De geschillenroute van de partijen (opschalen, besluit, advies, Geschillencommissie) vervalt.")
    if old.motivation_required != new.motivation_required:
        changes.append(f"Motivering bij besluiten is nu {'' if new.motivation_required else 'niet '}verplicht.")
    changes += _category_changes(old, new, titles)
    changes += _step_changes(old, new, titles, letters)
    return changes


def _category_changes(old: LadderSpec, new: LadderSpec, titles: Mapping[str, str]) -> list[str]:
    changes = []
    before = {c.key: c for c in old.categories}
    after = {c.key: c for c in new.categories}
    changes += [f"Categorie toegevoegd: ‘{after[k].title}’." for k in after if k not in before]
    changes += [f"Categorie verwijderd: ‘{before[k].title}’." for k in before if k not in after]
    for key in [k for k in after if k in before]:
        was, now = before[key], after[key]
        if was.title != now.title:
            changes.append(f"Categorie ‘{was.title}’ heet nu ‘{now.title}’.")
        if was.start_step != now.start_step:
            changes.append(f"Categorie ‘{now.title}’ begint nu bij ‘{titles[now.start_step]}’ in plaats van "
                           f"‘{titles[was.start_step]}’.")  # fmt: skip
        for sub in now.subcategories.keys() - was.subcategories.keys():
            changes.append(f"Categorie ‘{now.title}’: onderwerp ‘{now.subcategories[sub]}’ toegevoegd.")
        for sub in was.subcategories.keys() - now.subcategories.keys():
            changes.append(f"Categorie ‘{now.title}’: onderwerp ‘{was.subcategories[sub]}’ verwijderd.")
        for sub in was.subcategories.keys() & now.subcategories.keys():
            if was.subcategories[sub] != now.subcategories[sub]:
                changes.append(f"Categorie ‘{now.title}’: onderwerp ‘{was.subcategories[sub]}’ heet nu "
                               f"‘{now.subcategories[sub]}’.")  # fmt: skip
    return changes


def _step_changes(old: LadderSpec, new: LadderSpec, titles: Mapping[str, str], letters: Mapping[str, str]) -> list[str]:
    changes = []
    old_steps = {s.key: s for s in old.steps}
    new_steps = {s.key: s for s in new.steps}
    changes += [f"Stap toegevoegd: ‘{s.title}’." for s in new.steps if s.key not in old_steps]
    changes += [f"Stap verwijderd: ‘{s.title}’." for s in old.steps if s.key not in new_steps]
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
            changes.append(f"{name}: aan zet is nu {ACTOR_NAMES[after.actor]} (was {ACTOR_NAMES[before.actor]}).")
        if before.final != after.final:
            changes.append(f"{name} is nu een eindstap." if after.final else f"{name} is geen eindstap meer.")
        if before.automatic != after.automatic:
            changes.append(f"{name} zet de ladder nu zelf." if after.automatic else f"{name} beslist nu een persoon.")
        if before.outcome != after.outcome:
            changes.append(f"{name}: uitkomst gewijzigd van ‘{before.outcome}’ in ‘{after.outcome}’.")
        added = [t for t in after.next if t not in before.next]
        gone = [t for t in before.next if t not in after.next]
        changes += [f"{name}: overgang toegevoegd naar ‘{titles.get(t, t)}’." for t in added]
        changes += [f"{name}: overgang naar ‘{titles.get(t, t)}’ verwijderd." for t in gone]
        if before.on_enter != after.on_enter:
            changes.append(f"{name}: bij binnenkomst nu ‘{_actions(after.on_enter, titles, letters)}’ (was "
                           f"‘{_actions(before.on_enter, titles, letters)}’).")  # fmt: skip
        if before.requires != after.requires:
            changes.append(f"{name}: voorwaarde gewijzigd." if after.requires else f"{name}: voorwaarde vervallen.")
        changes += _term_changes(name, before, after, titles, letters)
    return changes


def _term_changes(name: str, before, after, titles: Mapping[str, str], letters: Mapping[str, str]) -> list[str]:
    changes = []
    old_terms = {t.key: t for t in before.terms}
    new_terms = {t.key: t for t in after.terms}
    for term in after.terms:
        if term.key not in old_terms:
            changes.append(f"{name}: termijn ‘{term.title or term.term}’ toegevoegd ({term.term}).")
            continue
        was = old_terms[term.key]
        label = f"{name}, termijn ‘{term.title or was.title or term.term}’"
        if was.term != term.term:
            changes.append(f"{label}: gewijzigd van {was.term} in {term.term}.")
        if was.title != term.title:
            changes.append(f"{label}: vraag gewijzigd van ‘{was.title}’ in ‘{term.title}’.")
        if was.responsible != term.responsible:
            changes.append(f"{label}: te halen door {ACTOR_NAMES[term.responsible]} (was "
                           f"{ACTOR_NAMES[was.responsible]}).")  # fmt: skip
        if was.remind_before != term.remind_before:
            changes.append(f"{label}: herinnering gewijzigd van {was.remind_before or 'geen'} in "
                           f"{term.remind_before or 'geen'}.")  # fmt: skip
        if was.met_by != term.met_by:
            changes.append(f"{label}: gehaald door {met_by_words(term.met_by, titles)} (was "
                           f"{met_by_words(was.met_by, titles)}).")  # fmt: skip
        if was.starts != term.starts:
            changes.append(f"{label}: begint nu {starts_words(term.starts)} (was {starts_words(was.starts)}).")
        if was.on_met != term.on_met:
            changes.append(f"{label}: als de termijn is gehaald nu ‘{_actions(term.on_met, titles, letters)}’ (was "
                           f"‘{_actions(was.on_met, titles, letters)}’).")  # fmt: skip
        if was.on_missed != term.on_missed:
            changes.append(f"{label}: als de termijn verloopt nu ‘{_actions(term.on_missed, titles, letters)}’ (was "
                           f"‘{_actions(was.on_missed, titles, letters)}’).")  # fmt: skip
    for term in before.terms:
        if term.key not in new_terms:
            changes.append(f"{name}: termijn ‘{term.title or term.term}’ verwijderd ({term.term}).")
    return changes
