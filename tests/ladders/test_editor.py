"""The ladder editor's rules (issue 18 point 6): every ladder of tenants/ goes through the form unchanged; every
refusal is named in Dutch on the field it is about (unreachable steps, steps without a way out, lengths that are no
number, actions that notify unknown roles or roles without a mailbox, formal steps taken automatically, ...); parts
are added, removed and moved; a renamed step takes its references along; the difference reads in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.ladders import editor
from apps.ladders.changes import describe_changes
from apps.ladders.editor_state import ActionState, StepState, TermState, apply_operation, state_from_data
from apps.tenancy.loader import load_tenants
from tests.plain_dutch import leaks

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
ZL_ROLES = {"inkoop", "gi", "inspectie"}


@pytest.fixture(scope="module")
def loaded():
    return load_tenants(TENANTS)


@pytest.fixture(scope="module")
def zl_kwaliteit(loaded):
    return next(r for r in loaded.regions if r.region.slug == "zuid-limburg").ladders["kwaliteit"]


def state_of(spec) -> editor.EditorState:
    return state_from_data(spec.key, spec.model_dump(mode="json"))


def step_index(state, key: str) -> int:
    return next(i for i, s in enumerate(state.steps) if s.key == key)


def problems_of(state, roles=ZL_ROLES) -> dict[str, list[str]]:
    spec, problems = editor.validate(state, mailbox_roles=roles)
    assert spec is None
    return editor.problems_by_field(problems)


def test_every_ladder_of_the_regions_goes_through_the_form_unchanged(loaded):
    for region in loaded.regions:
        roles = {m.role for m in region.region.mailboxes}
        for spec in region.ladders.values():
            again, problems = editor.validate(state_of(spec), mailbox_roles=roles)
            assert problems == [] and again == spec, (region.region.slug, spec.key)
            assert describe_changes(spec, again) == []


def test_a_term_written_otherwise_keeps_its_spelling(zl_kwaliteit):
    data = zl_kwaliteit.model_dump(mode="json")
    data["steps"][0]["terms"][0]["term"] = "2 wkn"  # as an older version wrote it: the same length
    state = state_from_data("kwaliteit", data)
    assert (state.steps[0].terms[0].amount, state.steps[0].terms[0].unit) == ("2", "weken")
    spec, _ = editor.validate(state, mailbox_roles=ZL_ROLES)
    assert spec.steps[0].terms[0].term == "2 wkn"  # nothing to publish
    state.steps[0].terms[0].amount = "3"
    spec, _ = editor.validate(state, mailbox_roles=ZL_ROLES)
    assert spec.steps[0].terms[0].term == "3 weken"


def test_refuses_an_unreachable_step(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "gesprek_direct")
    j = step_index(state, "afspraken_per_brief")
    state.steps[i].next = ["instroomstop"]  # nothing leads to "Afspraken per brief vastgelegd" any more
    state.steps[step_index(state, "instroomstop")].next = ["zittende_clienten"]
    assert problems_of(state)[f"s{j}"] == [
        f"Stap {j + 1} (‘{state.steps[j].title}’) is niet bereikbaar: geen startstap van een categorie en geen "
        "vervolgstap leidt ernaartoe."
    ]


def test_refuses_a_step_without_a_way_out_a_final_step_with_next_steps_and_no_final_step(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "inspectie")
    state.steps[i].next = []
    assert problems_of(state)[f"s{i}-next"] == [
        f"Stap {i + 1} (‘{state.steps[i].title}’) heeft geen uitweg en is geen eindstap: kies een vervolgstap of "
        "maak er een eindstap van."
    ]
    state = state_of(zl_kwaliteit)
    k = step_index(state, "ontbinding")
    state.steps[k].next = ["inspectie"]
    assert "is een eindstap maar heeft vervolgstappen" in problems_of(state)[f"s{k}-next"][0]
    state = state_of(zl_kwaliteit)
    for step in state.steps:
        step.final = False
    assert "De ladder heeft geen eindstap: maak minstens één stap een eindstap." in problems_of(state)[""]


def test_refuses_a_length_that_is_no_term_on_its_field(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "verzoek_plan_van_aanpak")
    term = state.steps[i].terms[0]
    term.amount = "drie"
    term.remind_amount = "0"
    found = problems_of(state)
    assert found[f"s{i}-t0-amount"] == [f"Stap {i + 1} (‘{state.steps[i].title}’), termijn 1: ‘drie’ is geen aantal. "
                                        "Vul een heel getal van 1 tot en met 999 in."]  # fmt: skip
    assert "herinnering: ‘0’ is geen aantal" in found[f"s{i}-t0-remind_amount"][0]
    term.amount, term.remind_amount, term.date = "", "", "31 februari"
    assert "‘31 februari’ is geen datum die Trede kan lezen" in problems_of(state)[f"s{i}-t0-date"][0]
    term.amount, term.date = "2", "1 oktober"
    assert "kies een aantal óf een vaste datum" in problems_of(state)[f"s{i}-t0-date"][0]
    term.amount, term.date = "", ""
    assert "vul de lengte van de termijn in" in problems_of(state)[f"s{i}-t0-amount"][0]
    term.amount, term.unit, term.starts = "10", "werkdagen", "document"
    assert "kies bij aanlevering van welk document" in problems_of(state)[f"s{i}-t0-starts_document"][0]
    term.starts, term.date, term.amount = "contract_end", "1 oktober", ""
    assert "terugrekenen vanaf het einde van de overeenkomst" in problems_of(state)[f"s{i}-t0-starts"][0]
    # BW 3:37 lid 3: a term counted from the step's letter's receipt is a length, in a step that sends a letter
    term.starts = "letter"
    assert "vanaf de ontvangst van een brief loopt alleen een aantal" in problems_of(state)[f"s{i}-t0-starts"][0]
    term.date, term.amount = "", "2"
    state.steps[i].on_enter = [a for a in state.steps[i].on_enter if a.action != "send_letter"]
    assert "maar de stap verstuurt geen brief" in problems_of(state)[f"s{i}-t0-starts"][0]


def test_refuses_notices_to_unknown_roles_or_roles_without_a_mailbox(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "instroomstop")
    n = next(n for n, a in enumerate(state.steps[i].on_enter) if a.action == "notify")
    state.steps[i].on_enter[n].roles = ["inkoop", "wethouder"]
    found = problems_of(state)
    assert found[f"s{i}-a{n}-roles"] == [f"Stap {i + 1} (‘{state.steps[i].title}’), bij binnenkomst, actie {n + 1}: "
                                         "onbekende ontvanger ‘wethouder’."]  # fmt: skip
    state.steps[i].on_enter[n].roles = ["jeugdautoriteit"]
    assert problems_of(state)[f"s{i}-a{n}-roles"] == [
        f"Stap {i + 1} (‘{state.steps[i].title}’), bij binnenkomst, actie {n + 1}: de regio heeft geen postbus voor "
        "de Jeugdautoriteit; voeg die postbus toe bij de regio-instellingen of kies een andere ontvanger."
    ]
    spec, problems = editor.validate(state, mailbox_roles=ZL_ROLES | {"jeugdautoriteit"})
    assert problems == [] and spec is not None
    state.steps[i].on_enter[n].roles = []
    assert "kies wie de melding krijgt" in problems_of(state)[f"s{i}-a{n}-roles"][0]
    state.steps[i].on_enter[n].roles = ["inkoop"]
    state.steps[i].on_enter[n].message = "Aan de {wethouder} van {regio}"
    assert "onbekende invulplek {wethouder}" in problems_of(state)[f"s{i}-a{n}-message"][0]


def test_refuses_actions_a_missed_term_may_not_take_and_references_to_nothing(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "verzoek_plan_van_aanpak")
    term = state.steps[i].terms[0]
    term.on_missed.append(ActionState(action="send_letter", letter="ingebrekestelling"))
    n = len(term.on_missed) - 1
    assert "verstuurt geen brief en legt geen maatregel op" in problems_of(state)[f"s{i}-t0-m{n}"][0]
    term.on_missed[n] = ActionState(action="suggest_step", step="")
    assert problems_of(state)[f"s{i}-t0-m{n}-step"][0].endswith(": kies een stap.")
    term.on_missed[n].step = "nergens"
    assert "verwijst naar een stap die er niet (meer) is (‘nergens’)" in problems_of(state)[f"s{i}-t0-m{n}-step"][0]
    term.on_missed.pop()
    demand = next(a for a in state.steps[i].on_enter if a.action == "demand_document")
    demand.term = "bestaat_niet"
    a = state.steps[i].on_enter.index(demand)
    assert "de termijn ‘bestaat_niet’ hoort niet bij deze stap" in problems_of(state)[f"s{i}-a{a}-term"][0]


def test_refuses_bad_keys_and_a_category_that_starts_nowhere(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    state.steps[1].key = state.steps[0].key
    assert "komt twee keer voor" in problems_of(state)["s1-key"][0]
    state = state_of(zl_kwaliteit)
    state.steps[0].key = "Stap Een"
    assert "geef een sleutel van kleine letters" in problems_of(state)["s0-key"][0]
    state = state_of(zl_kwaliteit)
    state.categories[0].start_step = "bestaat_niet"
    assert "verwijst naar een stap die er niet (meer) is" in problems_of(state)["c0-start_step"][0]
    state = state_of(zl_kwaliteit)
    state.categories[1].subcategories[0].title = ""
    assert problems_of(state)["c1-u0-title"][0].endswith("geef het onderwerp een titel.")
    state = state_of(zl_kwaliteit)
    state.steps[0].title = ""
    assert problems_of(state)["s0-title"] == [f"Stap 1 (‘{state.steps[0].key}’): geef de stap een titel."]


def test_a_person_decides_formal_steps_and_preconditions_are_complete(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "ontbinding")
    state.steps[i].automatic = True
    assert "zet de ladder nooit zelf; een persoon beslist" in problems_of(state)[f"s{i}-automatic"][0]
    state = state_of(zl_kwaliteit)
    j = step_index(state, "zittende_clienten")
    state.steps[j].requires.reason = ""
    state.steps[j].requires.label = "x" * 61
    found = problems_of(state)
    assert "schrijf waarom de stap anders wordt geweigerd" in found[f"s{j}-requires-reason"][0]
    assert "de aanduiding is te lang" in found[f"s{j}-requires-label"][0]
    state = state_of(zl_kwaliteit)
    k = step_index(state, "gesprek_direct")  # the start step of the safety category
    state.steps[k].requires.steps = ["instroomstop"]
    state.steps[k].requires.reason, state.steps[k].requires.label = "Eerst de stop.", "eerst stop"
    assert "is de startstap van een categorie" in problems_of(state)[f"s{k}-requires-steps"][-1]


def test_parts_are_added_removed_and_moved_and_a_renamed_step_takes_its_references(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    count = len(state.steps)
    assert apply_operation(state, "add_step") == count
    new = state.steps[-1]
    new.key, new.title, new.final = "schikking", "Schikking getroffen", True
    i = step_index(state, "formeel_gesprek")
    state.steps[i].next.append("schikking")
    assert apply_operation(state, f"add_term:{i}") == i
    term = state.steps[i].terms[-1]
    term.key, term.title, term.amount, term.unit = "gesprek_binnen", "Gesprek gevoerd?", "10", "werkdagen"
    assert apply_operation(state, f"add_action:s{i}-t0-m", "notify") == i
    term.on_missed[-1].roles = ["inkoop"]
    assert apply_operation(state, f"up:{count}") == count - 1
    first, second = state.steps[0].key, state.steps[1].key
    apply_operation(state, "down:0")
    assert [state.steps[0].key, state.steps[1].key] == [second, first]
    spec, problems = editor.validate(state, mailbox_roles=ZL_ROLES)
    assert problems == []
    changes = describe_changes(zl_kwaliteit, spec)
    title = spec.step("formeel_gesprek").title
    assert "Stap toegevoegd: ‘Schikking getroffen’." in changes
    assert f"Stap ‘{title}’: overgang toegevoegd naar ‘Schikking getroffen’." in changes
    assert f"Stap ‘{title}’: termijn ‘Gesprek gevoerd?’ toegevoegd (10 werkdagen)." in changes
    assert any(c.startswith("Volgorde van de stappen gewijzigd") for c in changes)
    assert leaks(" ".join(changes), {"schikking", "formeel_gesprek", "gesprek_binnen"}) == []  # words, not keys

    state.steps[step_index(state, "schikking")].key = "minnelijke_schikking"  # renamed: references follow
    state_again = state_from_data("kwaliteit", {})  # (a state from nothing is empty, not an error)
    assert state_again.steps == [] and state_again.categories == []
    from apps.ladders.editor_state import rename_step

    rename_step(state, "schikking", "minnelijke_schikking")
    assert "minnelijke_schikking" in state.steps[step_index(state, "formeel_gesprek")].next
    apply_operation(state, "up:1")
    apply_operation(state, f"remove_step:{step_index(state, 'minnelijke_schikking')}")
    assert "minnelijke_schikking" not in state.steps[step_index(state, "formeel_gesprek")].next
    k = step_index(state, "formeel_gesprek")
    apply_operation(state, f"remove_term:{k}:0")
    spec, problems = editor.validate(state, mailbox_roles=ZL_ROLES)
    assert problems == [] and spec == zl_kwaliteit
    assert apply_operation(state, "check") is None


def test_new_parts_get_keys_from_their_titles():
    from apps.ladders.editor_state import EditorState, fill_missing_keys

    again = StepState(title="Officiële brief", terms=[TermState(title="Plan binnen?")])
    state = EditorState(key="nieuw", steps=[StepState(key="officiele_brief", title="Officiële brief"), again])
    fill_missing_keys(state)
    assert state.steps[1].key == "officiele_brief_2" and state.steps[1].terms[0].key == "plan_binnen"


def test_the_difference_reads_in_words(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "verzoek_plan_van_aanpak")
    state.steps[i].terms[0].amount = "3"
    state.steps[i].terms[0].met_by = "document:verbeterplan"
    state.steps[step_index(state, "ontbinding")].title = "Ontbinding van de DVO"
    j = step_index(state, "inspectie")
    state.steps[j].on_enter[0].roles = ["inspectie", "inkoop"]
    spec, _ = editor.validate(state, mailbox_roles=ZL_ROLES)
    changes = describe_changes(zl_kwaliteit, spec)
    label = f"Stap ‘{state.steps[i].title}’, termijn ‘Plan van aanpak binnen?’"
    assert f"{label}: gewijzigd van 2 weken in 3 weken." in changes
    assert (f"{label}: gehaald door aanlevering van het verbeterplan (was aanlevering van het plan van aanpak)."
            in changes)  # fmt: skip
    assert "Stap ‘Ontbinding DVO / overeenkomst’: titel gewijzigd in ‘Ontbinding van de DVO’." in changes
    assert any("bij binnenkomst nu ‘melding aan de Inspectie Gezondheidszorg en Jeugd en team inkoop’" in c
               for c in changes)  # fmt: skip
    assert leaks(" ".join(changes)) == []


def test_a_dispute_ladder_keeps_its_route_through_the_editor_and_loses_it_with_its_case(loaded):
    """Issue 15 point 2: the form has no fields for [dispute]; the editor keeps it as the ladder has it, and a ladder
    that is no longer about one case loses its parties' route (it belongs to a case), which the difference says."""
    wbw = next(r for r in loaded.regions if r.region.slug == "west-brabant-west")
    toewijzing = wbw.ladders["toewijzing"]
    roles = {m.role for m in wbw.region.mailboxes}
    state = state_of(toewijzing)
    spec, problems = editor.validate(state, mailbox_roles=roles)
    assert problems == [] and spec == toewijzing and spec.dispute is not None
    state.case = ""
    spec, problems = editor.validate(state, mailbox_roles=roles)
    assert problems == [] and spec.case is None and spec.dispute is None
    assert "De geschillenroute van de partijen (opschalen, besluit, advies, Geschillencommissie) vervalt." in (
        describe_changes(toewijzing, spec))  # fmt: skip
