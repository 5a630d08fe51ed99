"""The ladder editor's pages as plain form posts (issue 18 point 6): the lead adds a step and a term through the form
fields, sees problems next to the fields with everything typed kept, sees the difference and publishes a version the
engine then uses; the diagram follows the form (htmx); a second ladder starts from a template or from empty; TOML is
import and export for experts; only the region's lead and the platform admin may edit, and every publication is
audited."""

from __future__ import annotations

import html as html_lib
import re

from apps.audit.tables import AuditEntry
from apps.escalations import services
from apps.escalations.context import load_context
from apps.escalations.deadlines import local_date
from apps.escalations.tables import Deadline
from apps.ladders import services as ladder_services
from apps.ladders.deadlines import due_date_for
from apps.ladders.tables import Ladder, LadderVersion
from core.actor import SYSTEM
from core.clock import system_clock
from tests.accounts.support import app_client, csrf_headers, login
from tests.ladders.forms import as_data, form_fields, replaced, value_of
from tests.letter_fields import opening
from tests.workspace.support import ZL, provider, zl_scope

BASE = f"{ZL}/ladders"


def _index(pairs, key: str) -> int:
    return next(int(n[1:].split("-")[0]) for n, v in pairs if re.fullmatch(r"s\d+-key", n) and v == key)


async def _post(http, path: str, pairs, **extra: str):
    return await http.post(path, data=as_data([*pairs, *extra.items()]), headers=csrf_headers(http))


def _definition(page: str) -> str:
    return html_lib.unescape(re.search(r'name="definition" value="([^"]*)"', page).group(1))


async def _latest(key: str):
    scope = await zl_scope()
    ladder = await scope.objects(Ladder).where(Ladder.key == key).first()
    return await ladder_services.latest_version(scope, ladder) if ladder else None


async def test_a_lead_adds_a_step_and_a_term_and_the_engine_uses_the_new_version(world, oidc_settings):
    before = await _latest("kwaliteit")
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", BASE)
        page = await http.get(f"{BASE}/kwaliteit")
        assert "Ladder bewerken" in page.text and f'href="{BASE}/kwaliteit/toml"' in page.text
        form = await http.get(f"{BASE}/kwaliteit/bewerken")
        assert form.status_code == 200 and f'data-hx-post="{BASE}/kwaliteit/voorbeeld"' in form.text
        assert 'id="voorbeeld"' in form.text and 'role="img"' in form.text  # the diagram beside the form
        pairs = form_fields(form.text)
        count = int(value_of(pairs, "steps"))

        added = await _post(http, f"{BASE}/kwaliteit/bewerken", pairs, op="add_step")
        assert added.status_code == 200 and f'id="s{count}" open' in added.text  # the new step, opened
        pairs = replaced(form_fields(added.text), {f"s{count}-title": "Schikking getroffen", f"s{count}-final": "ja",
                                                   f"s{count}-outcome": "geschikt"})  # fmt: skip
        shown = await _post(http, f"{BASE}/kwaliteit/bewerken", pairs, op="preview")
        pairs = form_fields(shown.text)
        assert value_of(pairs, f"s{count}-key") == "schikking_getroffen"  # a key made from the title
        talk = _index(pairs, "formeel_gesprek")
        start = _index(pairs, "verzoek_plan_van_aanpak")
        pairs.append((f"s{talk}-next", "schikking_getroffen"))
        with_term = await _post(http, f"{BASE}/kwaliteit/bewerken", pairs, op=f"add_term:{start}")
        pairs = form_fields(with_term.text)
        j = int(value_of(pairs, f"s{start}-terms")) - 1
        q = f"s{start}-t{j}-"
        pairs = replaced(pairs, {f"{q}title": "Reactie op het verzoek?", f"{q}amount": "10", f"{q}unit": "werkdagen",
                                 f"{q}responsible": "aanbieder"})  # fmt: skip
        checked = await _post(http, f"{BASE}/kwaliteit/bewerken", pairs, op="check")
        assert checked.status_code == 200, checked.text[-2000:]
        assert "Stap toegevoegd: ‘Schikking getroffen’." in checked.text
        assert "termijn ‘Reactie op het verzoek?’ toegevoegd (10 werkdagen)." in checked.text
        assert "overgang toegevoegd naar ‘Schikking getroffen’." in checked.text
        publish = {"definition": _definition(checked.text), "base_version": str(before.version), "op": "publish",
                   "note": "Schikking en reactietermijn", "via": "formulier"}  # fmt: skip
        done = await http.post(f"{BASE}/kwaliteit/publiceren", data=publish, headers=csrf_headers(http))
        assert done.status_code == 303
        assert done.headers["location"] == f"{BASE}/kwaliteit?gepubliceerd={before.version + 1}"
        assert (await http.post(f"{BASE}/kwaliteit/publiceren", data=publish, headers=csrf_headers(http))
                ).status_code == 303  # a double submit publishes once  # fmt: skip

    latest = await _latest("kwaliteit")
    assert latest.version == before.version + 1
    spec = ladder_services.spec_of(latest)
    assert spec.step("schikking_getroffen").final and "schikking_getroffen" in spec.step("formeel_gesprek").next
    scope = await zl_scope()
    entry = await scope.objects(AuditEntry).where(AuditEntry.action == "ladder.publish").first()
    assert entry.actor_label == "Luuk Leider" and entry.detail["version"] == latest.version
    assert "Stap toegevoegd: ‘Schikking getroffen’." in entry.detail["changes"]
    # The engine runs a new escalation on the new version: the start step makes the new term's deadline.
    opened_at = system_clock.now()
    escalation = await services.open_escalation(
        scope, provider=await provider("90000001"), ladder_key="kwaliteit", category="niet_veiligheid",
        subcategory="administratief", summary="Rapportage ontbreekt.", motivation="Test.", actor=SYSTEM,
        letter_fields=opening("niet_veiligheid"),
    )  # fmt: skip
    assert escalation.ladder_version == latest.id
    term = await scope.objects(Deadline).where(
        (Deadline.escalation == escalation.id) & (Deadline.key == "reactie_op_het_verzoek")).first()  # fmt: skip
    calendar = (await load_context(scope, escalation.id, system_clock)).calendar
    assert term.term == "10 werkdagen"
    assert local_date(term.due_at) == due_date_for(opened_at, "10 werkdagen", calendar).due_date


async def test_problems_stand_next_to_their_fields_and_nothing_typed_is_lost(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", BASE)
        pairs = form_fields((await http.get(f"{BASE}/kwaliteit/bewerken")).text)
        i = _index(pairs, "verzoek_plan_van_aanpak")
        bad = replaced(pairs, {f"s{i}-t0-amount": "drie", f"s{i}-title": "Plan van aanpak vragen (nieuw)"})
        refused = await _post(http, f"{BASE}/kwaliteit/bewerken", bad, op="check")
        assert refused.status_code == 422
        assert f'id="s{i}-t0-amount-fout"' in refused.text and "‘drie’ is geen aantal" in refused.text
        assert 'value="drie"' in refused.text and 'value="Plan van aanpak vragen (nieuw)"' in refused.text
        assert f'id="s{i}" open' in refused.text  # the step with the problem is opened
        assert "1 probleem" in refused.text
        preview = await _post(http, f"{BASE}/kwaliteit/bewerken", bad, op="preview")
        assert preview.status_code == 200 and f'href="#s{i}-t0-amount"' in preview.text
        assert "De tekening volgt zodra dit probleem is opgelost" in preview.text
        nowhere = await _post(http, f"{BASE}/kwaliteit/bewerken", replaced(pairs, {"c0-start_step": ""}), op="check")
        assert nowhere.status_code == 422 and 'id="categories" open' in nowhere.text
        assert 'id="c0-start_step-fout"' in nowhere.text and "startstap: kies een stap." in nowhere.text
        assert (await _latest("kwaliteit")).version == 1  # nothing was published


async def test_the_diagram_follows_the_form(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", BASE)
        pairs = form_fields((await http.get(f"{BASE}/kwaliteit/bewerken")).text)
        i = _index(pairs, "registreren_afsluiten")
        renamed = replaced(pairs, {f"s{i}-title": "Hersteld en afgesloten"})
        headers = {**csrf_headers(http), "HX-Request": "true"}
        answer = await http.post(f"{BASE}/kwaliteit/voorbeeld", data=as_data(renamed), headers=headers)
        assert answer.status_code == 200 and "<html" not in answer.text
        assert answer.text.count('id="voorbeeld"') == 1 and "Hersteld en afgesloten" in answer.text
        assert 'data-hx-swap-oob="true"' in answer.text and "Het voorbeeld is bijgewerkt." in answer.text
        broken = replaced(pairs, {f"s{i}-title": ""})
        answer = await http.post(f"{BASE}/kwaliteit/voorbeeld", data=as_data(broken), headers=headers)
        assert f'href="#s{i}-title"' in answer.text and "kan nog niet worden getekend: 1 probleem" in answer.text


async def test_a_second_ladder_from_a_template_or_from_empty(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", BASE)
        listing = await http.get(BASE)
        assert f'href="{BASE}/nieuw"' in listing.text
        start = await http.get(f"{BASE}/nieuw")
        assert start.status_code == 200
        assert "Sjabloon: Kwaliteit jeugdhulp, artikel 28 deelovereenkomst (Jeugdhulp Zuid-Limburg)" in start.text
        refused = await _post(http, f"{BASE}/nieuw", [("naam", ""), ("sleutel", "kwaliteit"), ("sjabloon", "")])
        assert refused.status_code == 422 and 'id="naam-fout"' in refused.text
        assert "De regio heeft al een ladder met de sleutel ‘kwaliteit’" in refused.text
        made = await _post(http, f"{BASE}/nieuw", [("naam", "Kwaliteitsartikel {regio}"), ("sleutel", ""),
                                                   ("sjabloon", "kwaliteitsartikel-lekstroom")])  # fmt: skip
        assert made.status_code == 200 and "Nieuwe ladder:" in made.text
        assert f'action="{BASE}/kwaliteitsartikel_regio/bewerken"' in made.text
        pairs = form_fields(made.text)
        assert value_of(pairs, "base_version") == "0"
        checked = await _post(http, f"{BASE}/kwaliteitsartikel_regio/bewerken", pairs, op="check")
        assert checked.status_code == 200, checked.text[-2000:]
        assert "Nieuwe ladder ‘Kwaliteitsartikel Jeugdhulp Zuid-Limburg’ met" in checked.text  # {regio} filled in
        publish = {"definition": _definition(checked.text), "base_version": "0", "op": "publish", "note": ""}
        done = await http.post(f"{BASE}/kwaliteitsartikel_regio/publiceren", data=publish, headers=csrf_headers(http))
        assert done.status_code == 303 and done.headers["location"].endswith("?gepubliceerd=1")
        again = await http.post(f"{BASE}/kwaliteitsartikel_regio/publiceren", data=publish, headers=csrf_headers(http))
        assert again.status_code == 303  # a second click changes nothing
        listing = await http.get(BASE)
        assert "Kwaliteitsartikel Jeugdhulp Zuid-Limburg" in listing.text

        empty = await _post(http, f"{BASE}/nieuw", [("naam", "Maatwerk"), ("sleutel", ""), ("sjabloon", "")])
        assert empty.status_code == 200 and 'value="Eerste stap"' in empty.text
        checked = await _post(http, f"{BASE}/maatwerk/bewerken", form_fields(empty.text), op="check")
        assert checked.status_code == 200 and "Nieuwe ladder ‘Maatwerk’ met 2 stappen." in checked.text

    latest = await _latest("kwaliteitsartikel_regio")
    assert latest.version == 1
    scope = await zl_scope()
    assert await scope.count(LadderVersion).where(LadderVersion.ladder == latest.ladder) == 1
    entry = await scope.objects(AuditEntry).where(AuditEntry.target_id == "kwaliteitsartikel_regio").first()
    assert entry.action == "ladder.publish" and entry.detail["nieuw"] is True
    spec = ladder_services.spec_of(latest)
    escalation = await services.open_escalation(
        scope, provider=await provider("90000001"), ladder_key="kwaliteitsartikel_regio",
        category=spec.categories[0].key, summary="Kwaliteit.", motivation="Test.", actor=SYSTEM,
        letter_fields=opening(spec.categories[0].key),
    )  # fmt: skip
    assert escalation.ladder_version == latest.id and escalation.current_step == spec.categories[0].start_step


async def test_toml_is_import_and_export_for_experts(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", BASE)
        page = await http.get(f"{BASE}/kwaliteit/toml")
        assert page.status_code == 200 and 'aria-current="page">TOML' in page.text
        exported = html_lib.unescape(re.search(r'id="export"[^>]*>(.*?)</textarea>', page.text, re.S).group(1))
        assert 'key = "kwaliteit"' in exported and 'term = "2 weken"' in exported
        download = await http.get(f"{BASE}/kwaliteit/toml/bestand")
        assert download.status_code == 200 and download.text == exported
        assert download.headers["content-disposition"] == 'attachment; filename="kwaliteit-versie-1.toml"'

        broken = await _post(http, f"{BASE}/kwaliteit/toml", [("toml", "[[steps]\nkey = 1")])
        assert broken.status_code == 422 and "Dit is geen geldige TOML" in broken.text
        assert "[[steps]\nkey = 1</textarea>" in broken.text  # the text typed is kept
        typo = await _post(http, f"{BASE}/kwaliteit/toml", [("toml", exported.replace("title =", "titel =", 1))])
        assert typo.status_code == 422 and "Onbekend veld" in typo.text
        wrong = exported.replace('    "controle_oktober",\n]', '    "nergens",\n]', 1)
        assert wrong != exported
        refused = await _post(http, f"{BASE}/kwaliteit/toml", [("toml", wrong)])
        assert refused.status_code == 422 and 'class="utrecht-form trede-editor"' in refused.text
        assert "verwijst naar een stap die er niet (meer) is (‘nergens’)" in refused.text  # next to the form's field

        changed = exported.replace('term = "2 weken"', 'term = "3 weken"', 1)
        checked = await _post(http, f"{BASE}/kwaliteit/toml", [("toml", changed)])
        assert checked.status_code == 200 and "gewijzigd van 2 weken in 3 weken." in checked.text
        assert 'name="via" value="toml"' in checked.text
        publish = {"definition": _definition(checked.text), "base_version": "1", "op": "publish", "via": "toml"}
        done = await http.post(f"{BASE}/kwaliteit/publiceren", data=publish, headers=csrf_headers(http))
        assert done.status_code == 303
    entry = await (await zl_scope()).objects(AuditEntry).where(AuditEntry.action == "ladder.publish").first()
    assert entry.detail["via"] == "toml" and (await _latest("kwaliteit")).version == 2


async def test_only_the_regions_lead_and_the_platform_admin_edit(world, oidc_settings):
    paths = [("get", "/kwaliteit/bewerken"), ("post", "/kwaliteit/bewerken"), ("post", "/kwaliteit/voorbeeld"),
             ("post", "/kwaliteit/publiceren"), ("get", "/nieuw"), ("post", "/nieuw"), ("get", "/kwaliteit/toml"),
             ("get", "/kwaliteit/toml/bestand"), ("post", "/kwaliteit/toml")]  # fmt: skip
    for account in ("zl-inkoop", "zl-waarnemer"):
        async with app_client(oidc_settings) as http:
            await login(http, account, BASE)
            assert (await http.get(f"{BASE}/kwaliteit")).status_code == 200  # reading is fine
            for method, path in paths:
                answer = await (http.get(f"{BASE}{path}") if method == "get" else
                                http.post(f"{BASE}{path}", data={"definition": "{}"}, headers=csrf_headers(http)))
                assert answer.status_code in (403, 404), (account, path, answer.status_code)
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", BASE)
        for _, path in paths[:1] + paths[4:5] + paths[6:7]:
            assert (await http.get(f"/regio/lekstroom/ladders{path}")).status_code in (403, 404)  # not their region
        assert (await http.get("/beheer/regios/zuid-limburg/ladders/kwaliteit/bewerken")).status_code in (403, 404)
        for key in ("nieuw", "Hoofdletters"):  # a ladder no page could show is never made
            answer = await http.post(f"{BASE}/{key}/publiceren", data={"definition": "{}", "base_version": "0"},
                                     headers=csrf_headers(http))  # fmt: skip
            assert answer.status_code in (404, 405), key
    async with app_client(oidc_settings) as http:
        await login(http, "beheer", "/beheer/regios")
        admin = "/beheer/regios/lekstroom/ladders"
        assert (await http.get(f"{admin}/kwaliteit/bewerken")).status_code == 200
        assert (await http.get(f"{admin}/nieuw")).status_code == 200
        assert (await http.get(f"{admin}/kwaliteit/toml")).status_code == 200
    assert await (await zl_scope()).count(AuditEntry).where(AuditEntry.action == "ladder.publish") == 0
