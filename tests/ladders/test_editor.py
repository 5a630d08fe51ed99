"""The ladder editor: every refusal named with the exact problem on the field it is about (unreachable steps,
steps without a way out, terms that do not parse, actions that notify unknown roles or roles without a mailbox,
...), add/remove/reorder, the difference in words, and publishing a new version from the pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.datastructures import FormMultiDict

from apps.ladders import editor
from apps.ladders import services as ladder_services
from apps.ladders.tables import Ladder, LadderVersion
from apps.tenancy.loader import load_tenants
from apps.tenancy.tables import Region
from core.tenancy import RegionScope

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
ZL_ROLES = {"inkoop", "gi", "inspectie"}


@pytest.fixture(scope="module")
def zl_kwaliteit():
    loaded = next(r for r in load_tenants(TENANTS).regions if r.region.slug == "zuid-limburg")
    return loaded.ladders["kwaliteit"]


def state_of(spec) -> editor.EditorState:
    return editor.state_from_spec(spec)


def step_index(state, key: str) -> int:
    return next(i for i, s in enumerate(state.steps) if s.key == key)


def problems_of(state, roles=ZL_ROLES) -> dict[str, list[str]]:
    spec, problems = editor.validate(state, mailbox_roles=roles)
    assert spec is None
    return editor.problems_by_field(problems)


def test_an_unchanged_ladder_is_valid_and_equal(zl_kwaliteit):
    spec, problems = editor.validate(state_of(zl_kwaliteit), mailbox_roles=ZL_ROLES)
    assert problems == [] and spec == zl_kwaliteit
    assert editor.describe_changes(zl_kwaliteit, spec) == []


def test_a_ladder_about_one_case_keeps_its_case_through_the_editor():
    loaded = next(r for r in load_tenants(TENANTS).regions if r.region.slug == "west-brabant-west")
    toewijzing = loaded.ladders["toewijzing"]
    roles = {m.role for m in loaded.region.mailboxes}
    state = state_of(toewijzing)
    assert state.case == "verplicht"
    spec, problems = editor.validate(state, mailbox_roles=roles)
    assert problems == [] and spec == toewijzing
    state.case = ""
    spec, problems = editor.validate(state, mailbox_roles=roles)
    assert spec.case is None
    assert editor.describe_changes(toewijzing, spec) == [
        "De ladder gaat nu niet over één casus (was: over één casus (verplicht))."
    ]


def test_refuses_an_unreachable_step(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "gesprek_direct")
    j = step_index(state, "afspraken_per_brief")
    state.steps[i].next = ["instroomstop"]  # nothing leads to "Afspraken per brief vastgelegd" any more
    state.steps[step_index(state, "instroomstop")].next = ["zittende_clienten"]
    found = problems_of(state)
    assert found[f"s{j}"] == [
        f"Stap {j + 1} (‘{state.steps[j].title}’) is niet bereikbaar: geen startstap van een categorie en geen "
        "vervolgstap leidt ernaartoe."
    ]


def test_refuses_a_step_without_a_way_out_that_is_not_final(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "inspectie")
    state.steps[i].next = []
    found = problems_of(state)
    assert found[f"s{i}-next"] == [
        f"Stap {i + 1} (‘{state.steps[i].title}’) heeft geen uitweg en is geen eindstap: kies een vervolgstap of "
        "maak er een eindstap van."
    ]


def test_refuses_a_final_step_with_next_steps(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "ontbinding")
    state.steps[i].next = ["inspectie"]
    assert "is een eindstap maar heeft vervolgstappen" in problems_of(state)[f"s{i}-next"][0]


def test_refuses_a_ladder_without_a_final_step(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    for step in state.steps:
        step.final = False
    assert "De ladder heeft geen eindstap: maak minstens één stap een eindstap." in problems_of(state)[""]


def test_refuses_a_term_that_does_not_parse(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "verzoek_plan_van_aanpak")
    state.steps[i].terms[0].term = "twee wekken"
    state.steps[i].terms[0].remind_before = "snel"
    found = problems_of(state)
    message = found[f"s{i}-t0-term"][0]
    assert message.startswith(f"Stap {i + 1} (‘{state.steps[i].title}’), termijn 1: ‘twee wekken’ is geen termijn")
    assert "Schrijf bijvoorbeeld ‘2 weken’" in message
    assert "herinnering: ‘snel’ is geen termijn" in found[f"s{i}-t0-remind_before"][0]
    state.steps[i].terms[0].term = ""
    assert "vul de termijn in" in problems_of(state)[f"s{i}-t0-term"][0]


def test_refuses_actions_that_notify_unknown_roles_or_roles_without_a_mailbox(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "instroomstop")
    state.steps[i].on_enter = '[[acties]]\naction = "notify"\nroles = ["inkoop", "wethouder"]\n'
    found = problems_of(state)
    assert found[f"s{i}-on_enter"][0].startswith(
        f"Stap {i + 1} (‘{state.steps[i].title}’), bij binnenkomst, "
        "actie 1: onbekende rol ‘wethouder’ (bekend: inkoop, toegang"
    )
    state.steps[i].on_enter = '[[acties]]\naction = "notify"\nroles = ["jeugdautoriteit"]\n'
    assert problems_of(state)[f"s{i}-on_enter"] == [
        f"Stap {i + 1} (‘{state.steps[i].title}’), bij binnenkomst, actie 1: de regio heeft geen postbus voor rol "
        "‘jeugdautoriteit’; voeg die postbus toe bij de regio-instellingen of kies een andere rol."
    ]
    spec, problems = editor.validate(state, mailbox_roles=ZL_ROLES | {"jeugdautoriteit"})
    assert problems == [] and spec is not None


def test_refuses_actions_that_are_not_actions(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "formeel_gesprek")
    state.steps[i].on_enter = '[[acties]]\naction = "bellen"\n'
    assert "actie 1" in problems_of(state)[f"s{i}-on_enter"][0]
    state.steps[i].on_enter = "[[acties]\n"
    assert "dit is geen geldige TOML" in problems_of(state)[f"s{i}-on_enter"][0]
    state.steps[i].on_enter = '[[acties]]\naction = "move_to_step"\nstep = "nergens"\n'
    assert "verwijst naar onbekende stap ‘nergens’" in problems_of(state)[f"s{i}-on_enter"][0]


def test_refuses_bad_keys_and_references(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    state.steps[1].key = state.steps[0].key
    assert "komt twee keer voor" in problems_of(state)["s1-key"][0]
    state = state_of(zl_kwaliteit)
    state.steps[0].key = "Stap Een"
    found = problems_of(state)
    assert "geef een sleutel van kleine letters" in found["s0-key"][0]
    state = state_of(zl_kwaliteit)
    state.categories = state.categories.replace('start_step = "gesprek_direct"', 'start_step = "bestaat_niet"')
    assert "begint bij onbekende stap ‘bestaat_niet’" in problems_of(state)["categories"][0]
    state = state_of(zl_kwaliteit)
    i = step_index(state, "verzoek_plan_van_aanpak")
    state.steps[i].terms[0].met_by = "step:nergens"
    assert "voldaan door onbekende stap ‘nergens’" in problems_of(state)[f"s{i}-t0-met_by"][0]
    state.steps[i].terms[0].met_by = "brief"
    assert "document:SOORT of step:STAP" in problems_of(state)[f"s{i}-t0-met_by"][0]
    state = state_of(zl_kwaliteit)
    state.steps[0].title = ""
    assert problems_of(state)["s0-title"] == [f"Stap 1 (‘{state.steps[0].key}’): geef de stap een titel."]


def test_add_remove_and_reorder_steps_and_terms(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    count = len(state.steps)
    assert editor.apply_operation(state, "add_step") and len(state.steps) == count + 1
    new = state.steps[-1]
    new.key, new.title, new.final = "schikking", "Schikking getroffen", True
    i = step_index(state, "formeel_gesprek")
    state.steps[i].next.append("schikking")
    assert editor.apply_operation(state, f"add_term:{i}")
    state.steps[i].terms[-1].key, state.steps[i].terms[-1].term = "gesprek_binnen", "10 werkdagen"
    assert editor.apply_operation(state, f"up:{count}")
    assert state.steps[count - 1].key == "schikking"
    first, second = state.steps[0].key, state.steps[1].key
    assert editor.apply_operation(state, "down:0")
    assert [state.steps[0].key, state.steps[1].key] == [second, first]
    spec, problems = editor.validate(state, mailbox_roles=ZL_ROLES)
    assert problems == []
    changes = editor.describe_changes(zl_kwaliteit, spec)
    title = state.steps[i].title if state.steps[i].key == "formeel_gesprek" else spec.step("formeel_gesprek").title
    assert "Stap toegevoegd: ‘Schikking getroffen’." in changes
    assert f"Stap ‘{title}’: overgang toegevoegd naar ‘Schikking getroffen’." in changes
    assert f"Stap ‘{title}’: termijn ‘gesprek_binnen’ toegevoegd (10 werkdagen)." in changes
    assert any(c.startswith("Volgorde van de stappen gewijzigd") for c in changes)

    assert editor.apply_operation(state, "up:1")
    j = step_index(state, "schikking")
    assert editor.apply_operation(state, f"remove_step:{j}")
    assert "schikking" not in state.steps[step_index(state, "formeel_gesprek")].next  # its transitions go too
    k = step_index(state, "formeel_gesprek")
    assert editor.apply_operation(state, f"remove_term:{k}:{len(state.steps[k].terms) - 1}")
    spec, problems = editor.validate(state, mailbox_roles=ZL_ROLES)
    assert problems == [] and spec == zl_kwaliteit
    assert not editor.apply_operation(state, "check")


def test_the_difference_names_a_changed_term_from_x_to_y(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    i = step_index(state, "verzoek_plan_van_aanpak")
    state.steps[i].terms[0].term = "3 weken"
    state.steps[step_index(state, "ontbinding")].title = "Ontbinding van de DVO"
    spec, _ = editor.validate(state, mailbox_roles=ZL_ROLES)
    changes = editor.describe_changes(zl_kwaliteit, spec)
    term = zl_kwaliteit.steps[i].terms[0]
    assert (
        f"Stap ‘{state.steps[i].title}’, termijn ‘{term.title or term.key}’: gewijzigd van 2 weken in 3 weken."
        in changes
    )
    assert "Stap ‘Ontbinding DVO / overeenkomst’: titel gewijzigd in ‘Ontbinding van de DVO’." in changes


def test_the_form_round_trips_through_the_state(zl_kwaliteit):
    state = state_of(zl_kwaliteit)
    pairs = [("name", state.name), ("description", state.description), ("source", state.source),
             ("order", state.order), ("motivation_required", "ja"), ("categories", state.categories),
             ("steps", str(len(state.steps)))]  # fmt: skip
    for i, step in enumerate(state.steps):
        p = f"s{i}-"
        pairs += [(p + "key", step.key), (p + "title", step.title), (p + "description", step.description),
                  (p + "actor", step.actor), (p + "outcome", step.outcome), (p + "on_enter", step.on_enter),
                  (p + "requires", step.requires), (p + "terms", str(len(step.terms)))]  # fmt: skip
        if step.final:
            pairs.append((p + "final", "ja"))
        if step.automatic:
            pairs.append((p + "automatic", "ja"))
        pairs += [(p + "next", key) for key in step.next]
        for j, term in enumerate(step.terms):
            q = f"{p}t{j}-"
            pairs += [(q + "key", term.key), (q + "term", term.term), (q + "title", term.title),
                      (q + "responsible", term.responsible), (q + "remind_before", term.remind_before),
                      (q + "met_by", term.met_by), (q + "starts", term.starts),
                      (q + "on_missed", term.on_missed), (q + "on_met", term.on_met)]  # fmt: skip
    again = editor.state_from_form("kwaliteit", FormMultiDict(pairs))
    spec, problems = editor.validate(again, mailbox_roles=ZL_ROLES)
    assert problems == [] and spec == zl_kwaliteit


# --- the pages ---------------------------------------------------------------------------------------------


def as_data(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def _form_from_page(html: str) -> list[tuple[str, str]]:
    """What a browser would send for the editor form (inputs, checked boxes, selected options, textareas)."""
    import html as html_lib

    form = html[html.index('class="utrecht-form trede-editor"') :]
    form = form[: form.index("</form>")]
    pairs = []
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name:
            continue
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        pairs.append((name.group(1), html_lib.unescape(value.group(1) if value else "")))
    for name, body in re.findall(r'<textarea [^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', form, re.S):
        pairs.append((name, html_lib.unescape(body)))
    for name, body in re.findall(r'<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        pairs.append((name, chosen.group(1) if chosen else ""))
    return pairs


async def test_a_lead_edits_a_term_sees_the_difference_and_publishes(world, oidc_settings):
    from apps.escalations.tables import Escalation
    from tests.accounts.support import app_client, csrf_headers, login

    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    ladder = await scope.objects(Ladder).where(Ladder.key == "kwaliteit").first()
    before = await ladder_services.latest_version(scope, ladder)
    running = {e.id: e.ladder_version for e in await scope.objects(Escalation)}
    base = "/regio/zuid-limburg/ladders/kwaliteit"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead")
        page = await http.get(base)
        assert page.status_code == 200 and 'role="img"' in page.text and "Ladder bewerken" in page.text
        form = await http.get(f"{base}/bewerken")
        assert form.status_code == 200
        pairs = _form_from_page(form.text)
        i = next(int(n[1:].split("-")[0]) for n, v in pairs if n.endswith("-key") and v == "verzoek_plan_van_aanpak")
        bad = [(n, "twee wekken" if n == f"s{i}-t0-term" else v) for n, v in pairs] + [("op", "check")]
        refused = await http.post(f"{base}/bewerken", data=as_data(bad), headers=csrf_headers(http))
        assert refused.status_code == 422 and f'id="s{i}-t0-term-fout"' in refused.text
        assert "‘twee wekken’ is geen termijn" in refused.text and 'value="twee wekken"' in refused.text

        good = [(n, "3 weken" if n == f"s{i}-t0-term" else v) for n, v in pairs] + [("op", "check")]
        checked = await http.post(f"{base}/bewerken", data=as_data(good), headers=csrf_headers(http))
        assert checked.status_code == 200
        assert "gewijzigd van 2 weken in 3 weken." in checked.text and "Publiceren" in checked.text
        definition = re.search(r'name="definition" value="([^"]*)"', checked.text).group(1)
        import html as html_lib

        publish = {"definition": html_lib.unescape(definition), "base_version": str(before.version), "op": "publish",
                   "note": "Termijn naar drie weken"}  # fmt: skip
        done = await http.post(f"{base}/publiceren", data=publish, headers=csrf_headers(http))
        assert done.status_code == 303 and done.headers["location"] == f"{base}?gepubliceerd={before.version + 1}"
        twice = await http.post(f"{base}/publiceren", data=publish, headers=csrf_headers(http))
        assert twice.status_code == 303  # a double submit publishes once
        shown = await http.get(done.headers["location"])
        assert f"Versie {before.version + 1} is gepubliceerd" in shown.text and "Termijn naar drie weken" in shown.text

    versions = await scope.count(LadderVersion).where(LadderVersion.ladder == ladder.id)
    assert versions == before.version + 1
    latest = await ladder_services.latest_version(scope, ladder)
    assert ladder_services.spec_of(latest).step("verzoek_plan_van_aanpak").terms[0].term == "3 weken"
    assert {e.id: e.ladder_version for e in await scope.objects(Escalation)} == running  # they keep their version
    from apps.audit.tables import AuditEntry

    entry = await scope.objects(AuditEntry).where(AuditEntry.action == "ladder.publish").first()
    assert entry.actor_label == "Luuk Leider" and entry.detail["version"] == before.version + 1
    assert any("2 weken in 3 weken" in c for c in entry.detail["changes"])


async def test_only_the_lead_edits(world, oidc_settings):
    from tests.accounts.support import app_client, csrf_headers, login

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        assert (await http.get("/regio/zuid-limburg/ladders/kwaliteit")).status_code == 200  # reading is fine
        assert (await http.get("/regio/zuid-limburg/ladders/kwaliteit/bewerken")).status_code == 404
        posted = await http.post("/regio/zuid-limburg/ladders/kwaliteit/publiceren", data={"definition": "{}"},
                                 headers=csrf_headers(http))  # fmt: skip
        assert posted.status_code == 404
