"""The shared ladder templates in ``tenants/templates/`` against the seed documents (see DOMAIN.md).

Data tests: each template must validate as a ``LadderSpec``, carry the terms, measures, letters and
notices the seeds name, and its main routes must be walkable with ``allowed_next`` from a category's
start step to a final step. No database.
"""

from __future__ import annotations

import tomllib
from collections import deque
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from apps.ladders.schema import (
    DemandDocument,
    EndMeasure,
    LadderSpec,
    MoveToStep,
    Notify,
    SendLetter,
    StartMeasure,
    StepSpec,
    SuggestStep,
    TermSpec,
)
from apps.ladders.terms import Term, parse_term

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "tenants" / "templates"

ZUID_LIMBURG = "kwaliteitsmodel-zuid-limburg"
WEST_BRABANT_WEST = "escalatieroute-west-brabant-west"
CONTRACT = "contractladder"
LEKSTROOM = "kwaliteitsartikel-lekstroom"
VNG = "continuiteitsladder-vng"

SEED_OF = {ZUID_LIMBURG: "000", WEST_BRABANT_WEST: "001", CONTRACT: "002", LEKSTROOM: "003", VNG: "004"}
ALL = list(SEED_OF)


# --- helpers ------------------------------------------------------------------------------------------


def load(name: str) -> LadderSpec:
    with (TEMPLATE_DIR / f"{name}.toml").open("rb") as handle:
        return LadderSpec.model_validate(tomllib.load(handle))


def ladders_data(name: str) -> dict:
    with (TEMPLATE_DIR / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="module")
def ladders() -> dict[str, LadderSpec]:
    return {name: load(name) for name in ALL}


def start_of(spec: LadderSpec, category: str) -> str:
    return next(c.start_step for c in spec.categories if c.key == category)


def walk(spec: LadderSpec, category: str, *steps: str) -> None:
    """Assert ``steps`` is a route of ``category``: from its start step, by allowed_next, to a final step."""
    assert steps[0] == start_of(spec, category), f"{category} does not start at {steps[0]}"
    for here, there in pairwise(steps):
        assert there in spec.allowed_next(here), f"{spec.key}: {here} -> {there} is not allowed"
    assert spec.step(steps[-1]).final, f"{spec.key}: {steps[-1]} is not a final step"


def reachable(spec: LadderSpec, start: str, *, avoiding: frozenset[str] = frozenset()) -> set[str]:
    """Steps reachable from ``start`` by allowed_next (breadth first), never entering ``avoiding``."""
    seen = {start}
    queue = deque([start])
    while queue:
        for target in spec.allowed_next(queue.popleft()):
            if target not in seen and target not in avoiding:
                seen.add(target)
                queue.append(target)
    return seen


def shortest_route(spec: LadderSpec, start: str, goal: str) -> list[str] | None:
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        if here == goal:
            route = [here]
            while (previous := parent[route[-1]]) is not None:
                route.append(previous)
            return route[::-1]
        for target in spec.allowed_next(here):
            if target not in parent:
                parent[target] = here
                queue.append(target)
    return None


def finals(spec: LadderSpec) -> set[str]:
    return {s.key for s in spec.steps if s.final}


def term_of(spec: LadderSpec, step: str, key: str) -> TermSpec:
    return next(t for t in spec.step(step).terms if t.key == key)


def all_terms(spec: LadderSpec) -> Iterator[tuple[StepSpec, TermSpec]]:
    for step in spec.steps:
        for term in step.terms:
            yield step, term


def all_actions(spec: LadderSpec) -> Iterator[tuple[StepSpec, object]]:
    for step in spec.steps:
        yield from ((step, a) for a in step.on_enter)
        yield from ((step, a) for t in step.terms for a in t.on_missed)


def effects_of_missing(spec: LadderSpec, step: str, term: str) -> list[object]:
    """What happens when a term is missed: its on_missed actions plus what entering a step it moves to does."""
    effects: list[object] = []
    for action in term_of(spec, step, term).on_missed:
        effects.append(action)
        if isinstance(action, MoveToStep):
            effects.extend(spec.step(action.step).on_enter)
    return effects


def notified(step: StepSpec) -> set[str]:
    return {role for a in step.on_enter if isinstance(a, Notify) for role in a.roles}


def letters(step: StepSpec) -> set[str]:
    return {a.letter for a in step.on_enter if isinstance(a, SendLetter)}


def started(step: StepSpec) -> set[str]:
    return {a.measure for a in step.on_enter if isinstance(a, StartMeasure)}


def approx_days(term: Term) -> float | None:
    factor = {"hours": 1 / 24, "days": 1, "weeks": 7, "months": 30, "years": 365, "working_days": 7 / 5}
    return None if term.amount is None else term.amount * factor[term.kind]


# --- every template -----------------------------------------------------------------------------------


def test_the_five_templates_are_there():
    assert {p.stem for p in TEMPLATE_DIR.glob("*.toml")} >= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_template_validates_and_cites_its_seed(name):
    spec = load(name)
    assert spec.name and spec.description and f"seed {SEED_OF[name]}" in spec.source
    text = (TEMPLATE_DIR / f"{name}.toml").read_text(encoding="utf-8")
    assert f"# seed {SEED_OF[name]}" in text  # comments quote the seed lines


@pytest.mark.parametrize("name", ALL)
def test_no_contact_details_from_the_seeds(name):
    text = (TEMPLATE_DIR / f"{name}.toml").read_text(encoding="utf-8")
    assert "@" not in text and "mailto" not in text and "http" not in text


@pytest.mark.parametrize("name", ALL)
def test_every_step_reachable_from_a_start_can_reach_a_final_step(name, ladders):
    spec = ladders[name]
    starts = {c.start_step for c in spec.categories}
    reached = set().union(*(reachable(spec, s) for s in starts))
    assert reached == {s.key for s in spec.steps}
    for key in reached:
        assert reachable(spec, key) & finals(spec), f"{name}: no final step after {key}"


@pytest.mark.parametrize("name", ALL)
def test_final_steps_have_an_outcome(name, ladders):
    for step in ladders[name].steps:
        assert not step.final or step.outcome, f"{name}: final step {step.key} has no outcome"


@pytest.mark.parametrize("name", ALL)
def test_automatic_and_suggested_moves_are_allowed_moves(name, ladders):
    spec = ladders[name]
    for step, action in all_actions(spec):
        if isinstance(action, MoveToStep | SuggestStep):
            assert action.step in spec.allowed_next(step.key), f"{name}: {step.key} -> {action.step}"


@pytest.mark.parametrize("name", ALL)
def test_no_letter_or_measure_without_a_person(name, ladders):
    """A person decides every formal letter and measure: the ladder may move on its own only into steps marked
    automatic, which send no letter and impose no measure; a missed term itself sends and imposes nothing."""
    spec = ladders[name]
    by_key = {step.key: step for step in spec.steps}
    for step in spec.steps:
        for term in step.terms:
            for action in term.on_missed:
                assert not isinstance(action, SendLetter | StartMeasure | EndMeasure), f"{name}: {step.key}"
                if isinstance(action, MoveToStep) and by_key[action.step].automatic:
                    target = by_key[action.step]
                    assert not any(isinstance(a, SendLetter | StartMeasure | EndMeasure) for a in target.on_enter)


def _one_step_ladder(**step_fields) -> dict:
    return {
        "key": "t",
        "name": "Test",
        "categories": [{"key": "c", "title": "C", "start_step": "start"}],
        "steps": [
            {"key": "start", "title": "Start", "next": ["brief", "einde"],
             "terms": [{"key": "k", "term": "2 weken", "on_missed": [{"action": "move_to_step", "step": "brief"}]}]},
            {"key": "brief", "title": "Brief", "next": ["einde"], **step_fields},
            {"key": "einde", "title": "Einde", "final": True, "outcome": "klaar"},
        ],
    }  # fmt: skip


def test_the_schema_refuses_an_automatic_letter_or_measure():
    LadderSpec.model_validate(_one_step_ladder(automatic=True))  # a harmless automatic step is fine
    with pytest.raises(ValueError, match="step 'brief' is automatic but has send_letter: a person decides"):
        LadderSpec.model_validate(
            _one_step_ladder(automatic=True, on_enter=[{"action": "send_letter", "letter": "officiele_brief"}])
        )
    with pytest.raises(ValueError, match="is automatic but has start_measure"):
        LadderSpec.model_validate(
            _one_step_ladder(automatic=True, on_enter=[{"action": "start_measure", "measure": "instroomstop"}])
        )
    missed_letter = _one_step_ladder()
    missed_letter["steps"][0]["terms"][0]["on_missed"] = [{"action": "send_letter", "letter": "officiele_brief"}]
    with pytest.raises(ValueError, match="a missed term cannot send_letter on its own"):
        LadderSpec.model_validate(missed_letter)


@pytest.mark.parametrize("key", ["ingebrekestelling", "verzuim", "opzegging", "ontbinding", "instroomstop",
                                 "clientenstop_opheffen", "boete"])  # fmt: skip
def test_a_ladder_cannot_mark_verzuim_a_measure_opzegging_or_ontbinding_automatic(key):
    """Issue 14 point 5: never automatic, even when the ladder gives the step no letter or precondition."""
    ladder = _one_step_ladder(automatic=True)
    ladder["steps"][1]["key"] = key
    ladder["steps"][0]["next"] = [key, "einde"]
    ladder["steps"][0]["terms"][0]["on_missed"] = [{"action": "move_to_step", "step": key}]
    with pytest.raises(ValueError, match=f"step '{key}' is automatic but has a key naming .*: a person decides"):
        LadderSpec.model_validate(ladder)
    ladder["steps"][1]["automatic"] = False
    LadderSpec.model_validate(ladder)  # proposed for a person to decide: fine


def test_the_schema_refuses_an_automatic_lift_or_precondition():
    with pytest.raises(ValueError, match="step 'brief' is automatic but has end_measure"):
        LadderSpec.model_validate(
            _one_step_ladder(automatic=True, on_enter=[{"action": "end_measure", "measure": "instroomstop"}])
        )
    requires = {"steps": ["start"], "reason": "Eerst de start.", "label": "eerst start"}
    with pytest.raises(ValueError, match="step 'brief' is automatic but has requires"):
        LadderSpec.model_validate(_one_step_ladder(automatic=True, requires=requires))


@pytest.mark.parametrize("name", ALL)
def test_demanded_documents_meet_their_term(name, ladders):
    for step in ladders[name].steps:
        for action in step.on_enter:
            if isinstance(action, DemandDocument) and action.term:
                term = next(t for t in step.terms if t.key == action.term)
                assert term.met_by == f"document:{action.document}", f"{name}: {step.key}.{term.key}"


@pytest.mark.parametrize("name", ALL)
def test_provider_terms_of_two_weeks_or_more_have_a_reminder(name, ladders):
    for step, spec_term in all_terms(ladders[name]):
        term = parse_term(spec_term.term)
        days = approx_days(term)
        if spec_term.responsible == "aanbieder" and days is not None and days >= 14:
            assert spec_term.remind_before == "3 werkdagen", f"{name}: {step.key}.{spec_term.key}"
        if spec_term.remind_before and days is not None:
            reminder = approx_days(parse_term(spec_term.remind_before))
            assert reminder is not None and reminder < days, f"{name}: {step.key}.{spec_term.key}"


def test_the_agreed_letter_keys_are_used(ladders):
    used = {a.letter for spec in ladders.values() for _, a in all_actions(spec) if isinstance(a, SendLetter)}
    assert {
        "verzoek_plan_van_aanpak",
        "officiele_brief_plan_van_aanpak",
        "bevestiging_afspraken",
        "instroomstop_bericht",
        "ingebrekestelling",
        "verzuim",
        "schriftelijke_waarschuwing",
        "ontbinding",
    } <= used


# --- Zuid-Limburg, seed 000 -----------------------------------------------------------------------------


def test_zuid_limburg_categories(ladders):
    spec = ladders[ZUID_LIMBURG]
    assert spec.key == "kwaliteit" and spec.order == "linear"
    categories = {c.key: c for c in spec.categories}
    assert set(categories) == {"veiligheid", "niet_veiligheid"}
    safety = categories["veiligheid"]
    assert list(safety.subcategories) == ["vog_werknemers", "vog_vrijwilligers", "deskundigheid"]
    assert "3 jaar" in safety.subcategories["vog_werknemers"]
    assert "SKJ" in safety.subcategories["deskundigheid"] and "BIG" in safety.subcategories["deskundigheid"]
    assert list(categories["niet_veiligheid"].subcategories) == [
        "doeltreffendheid",
        "clientwaarborgen",
        "financieel",
        "administratief",
    ]
    for word in ("medezeggenschap", "klachtrecht", "meldcode"):
        assert word in categories["niet_veiligheid"].subcategories["clientwaarborgen"]
    # Signal intake and "raakt het de DVO?" are not steps: the escalation opens at the category's start.
    assert safety.start_step == "gesprek_direct"
    assert categories["niet_veiligheid"].start_step == "verzoek_plan_van_aanpak"
    assert "Raakt" in spec.description or "raakt" in spec.description.lower()


def test_zuid_limburg_plan_of_action_within_two_weeks_then_official_letter(ladders):
    spec = ladders[ZUID_LIMBURG]
    ask = spec.step("verzoek_plan_van_aanpak")
    assert "verzoek_plan_van_aanpak" in letters(ask)
    assert DemandDocument(action="demand_document", document="plan_van_aanpak", term="plan_binnen") in ask.on_enter
    first = term_of(spec, "verzoek_plan_van_aanpak", "plan_binnen")
    assert (first.term, first.responsible, first.met_by) == ("2 weken", "aanbieder", "document:plan_van_aanpak")
    assert parse_term(first.term) == Term("weeks", amount=2)

    # Missed: an official letter demanding the plan within two weeks, with its own term.
    effects = effects_of_missing(spec, "verzoek_plan_van_aanpak", "plan_binnen")
    assert SendLetter(action="send_letter", letter="officiele_brief_plan_van_aanpak") in effects
    second = term_of(spec, "officiele_brief", "plan_binnen_na_brief")
    assert (second.term, second.met_by) == ("2 weken", "document:plan_van_aanpak")
    # Missed again: the next escalation is suggested.
    again = effects_of_missing(spec, "officiele_brief", "plan_binnen_na_brief")
    assert SuggestStep(action="suggest_step", step="formeel_gesprek") in again


def test_zuid_limburg_recovery_in_three_months_and_october_check(ladders):
    spec = ladders[ZUID_LIMBURG]
    recovered = term_of(spec, "monitoren_plan", "hersteld")
    assert recovered.term == "3 maanden" and recovered.met_by == "step:registreren_afsluiten"
    assert MoveToStep(action="move_to_step", step="controle_oktober") in recovered.on_missed
    october = term_of(spec, "controle_oktober", "tekortkomingen_oktober")
    assert parse_term(october.term) == Term("month_start", month=10)
    assert SuggestStep(action="suggest_step", step="formeel_gesprek") in october.on_missed
    assert "verlengen" in spec.step("formeel_gesprek").title

    close = spec.step("registreren_afsluiten")
    assert close.final and {"inkoop", "toegang"} <= notified(close)
    assert any("{gemeenten}" in a.message for a in close.on_enter if isinstance(a, Notify))  # counted when sent

    dissolution = spec.step("ontbinding")
    assert dissolution.final and "ontbinding" in started(dissolution) and "ontbinding" in letters(dissolution)


def test_zuid_limburg_safety_branch_actions(ladders):
    spec = ladders[ZUID_LIMBURG]
    assert "bevestiging_afspraken" in letters(spec.step("afspraken_per_brief"))

    stop = spec.step("instroomstop")
    measure = next(a for a in stop.on_enter if isinstance(a, StartMeasure))
    assert (measure.measure, measure.scope) == ("instroomstop", "alle_gemeenten")
    assert "instroomstop_bericht" in letters(stop)
    assert {"toegang", "gi"} <= notified(stop)
    assert any("huis- en jeugdartsen" in a.message for a in stop.on_enter if isinstance(a, Notify))
    assert "alle gemeenten" in stop.title and "{gemeenten}" in stop.description

    clients = spec.step("zittende_clienten")
    assert {"toegang", "gi", "aanbieder"} <= notified(clients)
    assert "inspectie" in notified(spec.step("inspectie"))

    lifted = spec.step("opheffen_en_afsluiten")
    assert lifted.final and EndMeasure(action="end_measure", measure="instroomstop") in lifted.on_enter


def test_zuid_limburg_routes(ladders):
    spec = ladders[ZUID_LIMBURG]
    safety = ("gesprek_direct", "afspraken_per_brief", "instroomstop", "zittende_clienten", "inspectie")
    walk(spec, "veiligheid", *safety, "herstel_beoordelen", "opheffen_en_afsluiten")
    walk(spec, "veiligheid", *safety, "herstel_beoordelen", "ontbinding")
    walk(spec, "veiligheid", *safety, "ontbinding")
    # The intake stop runs beside the talk: the lead may impose it at once, before the letter.
    at_once = ("gesprek_direct", "instroomstop", "afspraken_per_brief", "zittende_clienten", "inspectie")
    walk(spec, "veiligheid", *at_once, "herstel_beoordelen", "opheffen_en_afsluiten")
    # In the safety branch there is no way to any end without the intake stop: current clients are placed
    # elsewhere only once it is imposed (a precondition), and every end lies beyond them.
    assert spec.step("zittende_clienten").requires.steps == ["instroomstop"]
    assert not reachable(spec, "gesprek_direct", avoiding=frozenset({"instroomstop", "zittende_clienten"})) & finals(
        spec
    )

    walk(spec, "niet_veiligheid", "verzoek_plan_van_aanpak", "monitoren_plan", "registreren_afsluiten")
    walk(
        spec,
        "niet_veiligheid",
        "verzoek_plan_van_aanpak",
        "officiele_brief",
        "monitoren_plan",
        "controle_oktober",
        "registreren_afsluiten",
    )
    walk(
        spec,
        "niet_veiligheid",
        "verzoek_plan_van_aanpak",
        "officiele_brief",
        "monitoren_plan",
        "controle_oktober",
        "formeel_gesprek",
        "dvo_niet_verlengd",
    )
    walk(spec, "niet_veiligheid", "verzoek_plan_van_aanpak", "officiele_brief", "formeel_gesprek", "ontbinding")


# --- West-Brabant West, seed 001 ------------------------------------------------------------------------


def test_west_brabant_west_one_dispute_category_with_seven_kinds(ladders):
    spec = ladders[WEST_BRABANT_WEST]
    assert spec.key == "toewijzing"
    (category,) = spec.categories
    assert category.key == "geschil" and category.start_step == "gesprek_jeugdprofessional"
    assert list(category.subcategories) == [
        "pic",
        "niet_geschikt",
        "specifiek_aanbod",
        "doelen",
        "tussentijds_aanpassen",
        "tweede_50_procent",
        "doelen_niet_behaald",
    ]
    assert "50%" in category.subcategories["tweede_50_procent"]


def test_west_brabant_west_is_the_only_ladder_about_one_case(ladders):
    # Seed 001: a dispute is about one case (the seven kinds are its discussion points); no other seed is.
    assert [name for name, spec in ladders.items() if spec.case is not None] == [WEST_BRABANT_WEST]
    assert ladders[WEST_BRABANT_WEST].case.required is True


def test_a_case_ladder_needs_its_discussion_points():
    data = ladders_data(WEST_BRABANT_WEST)
    data["categories"][0]["subcategories"] = {}
    with pytest.raises(ValueError, match="category 'geschil' of a case ladder .* needs its discussion points"):
        LadderSpec.model_validate(data)


def test_west_brabant_west_lead_times(ladders):
    spec = ladders[WEST_BRABANT_WEST]
    found = {t.key: (t.term, t.responsible) for _, t in all_terms(spec)}
    assert found == {
        "gezinsplan_gereed": ("8 weken", "gemeente"),
        "gezinsplan_bij_aanbieder": ("1 jaar", "gezin"),
        "gezinsplan_geldig": ("1 jaar", "gemeente"),
        "arrangement_gereed": ("3 weken", "aanbieder"),
        "reactie_arrangement": ("10 werkdagen", "gemeente"),
        "start_zorg": ("3 weken", "aanbieder"),
        "einde_zorg_duurzaam": ("1 jaar", "aanbieder"),
    }
    reaction = term_of(spec, "gesprek_jeugdprofessional", "reactie_arrangement")
    assert parse_term(reaction.term) == Term("working_days", amount=10)
    assert reaction.met_by == "document:reactie"
    # Los op of schaal op: no reaction in time suggests going up to the local access manager.
    assert SuggestStep(action="suggest_step", step="lokale_aanstuurder") in reaction.on_missed
    assert term_of(spec, "gesprek_jeugdprofessional", "arrangement_gereed").met_by == "document:arrangement"


def test_west_brabant_west_principles_and_notices(ladders):
    spec = ladders[WEST_BRABANT_WEST]
    assert "los op of schaal op" in spec.description
    assert "nooit met de jeugdige of het gezin" in spec.description  # financial disputes
    assert "per mail" in spec.description
    assert "bevestiging_afspraken" in letters(spec.step("overeenstemming"))
    assert "lokale_aanstuurder" in notified(spec.step("lokale_aanstuurder"))
    assert "zi2t" in notified(spec.step("zi2t_advies"))
    assert "geschillencommissie" in notified(spec.step("geschillencommissie"))
    description = spec.step("geschillencommissie").description
    assert "Inkoop" in description and "Woonplaatsbeginsel en Toegang" in description
    for advisor in ("Vraagbaak", "Expertteam", "Zorgmakelaar"):
        assert advisor in spec.step("gesprek_jeugdprofessional").description


def test_west_brabant_west_routes(ladders):
    spec = ladders[WEST_BRABANT_WEST]
    walk(spec, "geschil", "gesprek_jeugdprofessional", "overeenstemming", "opgelost")
    walk(spec, "geschil", "gesprek_jeugdprofessional", "lokale_aanstuurder", "overeenstemming", "opgelost")
    walk(
        spec,
        "geschil",
        "gesprek_jeugdprofessional",
        "lokale_aanstuurder",
        "zi2t_advies",
        "geschillencommissie",
        "uitspraak",
    )
    walk(
        spec,
        "geschil",
        "gesprek_jeugdprofessional",
        "lokale_aanstuurder",
        "zi2t_advies",
        "geschillencommissie",
        "overeenstemming",
        "opgelost",
    )
    # Steps 1-4 are taken in order: the committee is never reached without the three steps before it.
    assert shortest_route(spec, "gesprek_jeugdprofessional", "geschillencommissie") == [
        "gesprek_jeugdprofessional",
        "lokale_aanstuurder",
        "zi2t_advies",
        "geschillencommissie",
    ]


# --- contract ladder, seed 002 --------------------------------------------------------------------------


def test_contract_ladder_is_free_order_and_motivated(ladders):
    spec = ladders[CONTRACT]
    assert spec.key == "contract" and spec.order == "free" and spec.motivation_required
    assert "2.0" in spec.source
    for consideration in (
        "omvang van de fout",
        "normatieve bekendheid",
        "eerdere fouten of waarschuwingen",
        "opstelling van de Opdrachtnemer",
        "gerechtvaardigde belangen",
        "zorgvuldige procedure",
        "belangen van cliënten",
        "proportionaliteit",
        "redelijkheid en billijkheid",
    ):
        assert consideration in spec.description


def test_contract_ladder_measures_and_letters(ladders):
    spec = ladders[CONTRACT]
    measures = {a.measure for _, a in all_actions(spec) if isinstance(a, StartMeasure)}
    assert {"clientenstop", "overdracht_clienten", "terugvordering", "verrekening", "boete"} <= measures
    assert {"ontbinding", "opzegging"} <= measures
    assert "clientenstop" in started(spec.step("clientenstop"))
    assert "overdracht_clienten" in started(spec.step("overdracht_clienten"))
    assert {"toegang", "gi"} <= notified(spec.step("clientenstop"))
    assert EndMeasure(action="end_measure", measure="clientenstop") in spec.step("clientenstop_opheffen").on_enter
    for step in ("opzegging", "ontbinding"):
        assert spec.step(step).final
    assert "schriftelijke_waarschuwing" in letters(spec.step("schriftelijke_waarschuwing"))
    assert "ingebrekestelling" in letters(spec.step("ingebrekestelling"))
    assert "verzuim" in letters(spec.step("verzuim"))
    assert "wettelijke rente en kosten" in spec.step("terugvordering").description
    assert "20.2" in spec.step("boete").description


def test_contract_ladder_terms(ladders):
    spec = ladders[CONTRACT]
    plan = spec.step("gesprek_verbeterplan")
    assert DemandDocument(action="demand_document", document="verbeterplan", term="verbeterplan") in plan.on_enter
    term = term_of(spec, "gesprek_verbeterplan", "verbeterplan")
    assert term.term == "4 weken" and "redelijke termijn" in plan.description
    default = term_of(spec, "ingebrekestelling", "herstel_na_ingebrekestelling")
    assert SuggestStep(action="suggest_step", step="verzuim") in default.on_missed


def test_contract_ladder_routes(ladders):
    spec = ladders[CONTRACT]
    walk(
        spec,
        "contract",
        "analyse",
        "gesprek_verbeterplan",
        "ingebrekestelling",
        "verzuim",
        "clientenstop",
        "boete",
        "ontbinding",
    )
    walk(spec, "contract", "analyse", "gesprek_verbeterplan", "schriftelijke_waarschuwing", "afgesloten")
    # Situationeel: out of order, straight to a measure, measures combined.
    walk(spec, "contract", "analyse", "terugvordering", "clientenstop", "clientenstop_opheffen", "afgesloten")
    walk(spec, "contract", "analyse", "opzegging")
    assert set(spec.allowed_next("analyse")) == {s.key for s in spec.steps} - {"analyse"}
    assert spec.allowed_next("ontbinding") == []


# --- Lekstroom, seed 003 --------------------------------------------------------------------------------


def test_lekstroom_terms(ladders):
    spec = ladders[LEKSTROOM]
    talk = term_of(spec, "overleg_verbetertraject", "overleg_binnen")
    assert talk.term == "2 weken"
    result = term_of(spec, "verbetertraject", "resultaat_verbetertraject")
    assert parse_term(result.term) == Term("months", amount=2)
    assert MoveToStep(action="move_to_step", step="tekortkoming") in result.on_missed
    crisis = term_of(spec, "crisis_alternatief", "alternatief_binnen")
    assert parse_term(crisis.term) == Term("hours", amount=24) and crisis.responsible == "aanbieder"
    assert {c.key: c.start_step for c in spec.categories} == {
        "kwaliteit": "overleg_verbetertraject",
        "crisishulp": "crisis_alternatief",
    }
    assert "artikel 10 lid 3" in spec.step("tekortkoming").description.lower()


def test_lekstroom_routes(ladders):
    spec = ladders[LEKSTROOM]
    walk(spec, "kwaliteit", "overleg_verbetertraject", "verbetertraject", "afgesloten_verbeterd")
    walk(spec, "kwaliteit", "overleg_verbetertraject", "verbetertraject", "tekortkoming", "maatregelen_artikel_10")
    walk(spec, "crisishulp", "crisis_alternatief", "crisis_opgevangen")
    walk(spec, "crisishulp", "crisis_alternatief", "overleg_verbetertraject", "verbetertraject", "afgesloten_verbeterd")


# --- VNG continuity ladder, seed 004 ---------------------------------------------------------------------


def test_vng_terms_and_notices(ladders):
    spec = ladders[VNG]
    assert spec.key == "continuiteit"
    three_weeks = term_of(spec, "overleg_gemeente_aanbieder", "escalatie_mogelijk")
    assert three_weeks.term == "3 weken"
    target = term_of(spec, "overleg_gemeente_aanbieder", "streefdatum_2020")
    assert parse_term(target.term) == Term("fixed_date", day=1, month=4, year=2021)
    assert target.on_missed == []  # one round of agreements, long past: no automatic consequence
    assert "1 april 2021" in spec.description and "afspraakronde" in spec.description
    assert "account_houdende_regio" in notified(spec.step("accounthoudende_regio"))
    assert "grootste regio" in spec.step("accounthoudende_regio").description
    assert "ozj" in notified(spec.step("ozj"))
    assert "jeugdautoriteit" in notified(spec.step("jeugdautoriteit"))
    assert "liquiditeitssteun" in spec.step("jeugdautoriteit").description


def test_vng_routes(ladders):
    spec = ladders[VNG]
    walk(
        spec,
        "continuiteit",
        "overleg_gemeente_aanbieder",
        "accounthoudende_regio",
        "ozj",
        "jeugdautoriteit",
        "bestuurlijke_maatregelen",
    )
    walk(spec, "continuiteit", "overleg_gemeente_aanbieder", "overeenstemming")
    walk(spec, "continuiteit", "overleg_gemeente_aanbieder", "ozj", "jeugdautoriteit", "overeenstemming")
    walk(spec, "niet_cruciaal", "regio_adviseur", "geen_overeenstemming")
    assert shortest_route(spec, "overleg_gemeente_aanbieder", "jeugdautoriteit") == [
        "overleg_gemeente_aanbieder",
        "ozj",
        "jeugdautoriteit",
    ]
