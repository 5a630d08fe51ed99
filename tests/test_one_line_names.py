"""Issue 21 point 1: names and titles refuse control characters where they are typed, so that a CR/LF never
reaches a mail header from new input: the admin forms (Dutch, next to the field), the ladder editor (Dutch, next to
the field) and the tenants/ loader (file and key)."""

from __future__ import annotations

from pathlib import Path

from apps.ladders import editor
from apps.providers.tables import Provider
from apps.tenancy.loader import load_tenants
from apps.tenancy.tables import Region
from tests.accounts.support import app_client, csrf_headers, login
from tests.admin.support import HOLLAND_RIJNLAND

TENANTS = Path(__file__).resolve().parents[1] / "tenants"
ONE_LINE = "mag geen regelovergang, tab of ander stuurteken bevatten"


def test_the_loader_names_file_and_key_of_a_name_or_title_with_a_line_break(tenants_copy):
    region = tenants_copy / "zuid-limburg.toml"
    text = region.read_text().replace('name = "Jeugdhulp Zuid-Limburg"', 'name = "Jeugdhulp\\r\\nBcc: x"', 1)
    region.write_text(text)
    template = tenants_copy / "templates" / "kwaliteitsmodel-zuid-limburg.toml"
    text = template.read_text()
    first_step = text.index("[[steps]]")
    title_at = text.index('title = "', first_step)
    template.write_text(text[:title_at] + 'title = "Verzoek\\tplan"\n' + text[text.index("\n", title_at) + 1:])
    problems = [str(p) for p in load_tenants(tenants_copy).problems]
    assert "tenants/zuid-limburg.toml: name: contains the control character U+000D (a line break, tab or the like): " \
           "a name or title is one line of text" in problems  # fmt: skip
    assert any(p.startswith("tenants/templates/kwaliteitsmodel-zuid-limburg.toml: steps[0].title: contains the "
                            "control character U+0009") for p in problems), problems  # fmt: skip


def test_the_ladder_editor_refuses_a_title_with_a_line_break_next_to_the_field():
    loaded = next(r for r in load_tenants(TENANTS).regions if r.region.slug == "zuid-limburg")
    state = editor.state_from_spec(loaded.ladders["kwaliteit"])
    i = next(i for i, step in enumerate(state.steps) if step.terms)
    state.name = "Kwaliteit\nBcc: x"
    state.steps[i].title = "Plan\r\nvan aanpak"
    state.steps[i].terms[0].title = "Binnen?\x00"
    spec, problems = editor.validate(state, mailbox_roles={"inkoop", "gi", "inspectie"})
    by_field = editor.problems_by_field(problems)
    assert spec is None
    assert by_field["name"] == [f"De naam van de ladder {ONE_LINE}."]
    assert by_field[f"s{i}-title"] == [f"Stap {i + 1}: de titel {ONE_LINE}."]
    assert by_field[f"s{i}-t0-title"] == [f"Stap {i + 1}, termijn 1: de vraag {ONE_LINE}."]


async def test_admin_forms_refuse_names_with_a_line_break_in_dutch_next_to_the_field(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        refused = await http.post("/beheer/regios/nieuw", headers=csrf_headers(http),
                                  data={**HOLLAND_RIJNLAND, "naam": "Holland\r\nRijnland"})  # fmt: skip
        assert refused.status_code == 422
        assert 'id="naam-fout"' in refused.text and f"De naam {ONE_LINE}." in refused.text
        assert not await Region.exists().where(Region.slug == HOLLAND_RIJNLAND["slug"])

        created = await http.post("/beheer/regios/nieuw", data=HOLLAND_RIJNLAND, headers=csrf_headers(http))
        assert created.status_code == 303
        base = f"/beheer/regios/{HOLLAND_RIJNLAND['slug']}"
        provider = await http.post(f"{base}/contracten", headers=csrf_headers(http),
                                   data={"kvk": "12345678", "aanbieder_naam": "Zorg\nBcc: x B.V.",
                                         "contract_kenmerk": "DVO-HR-9", "ingangsdatum": "2026-01-01"})  # fmt: skip
        assert provider.status_code == 422
        assert 'id="aanbieder_naam-fout"' in provider.text and f"De naam van de aanbieder {ONE_LINE}." in provider.text
        assert not await Provider.exists().where(Provider.kvk_number == "12345678")
        day = await http.post(f"{base}/gesloten_dagen", headers=csrf_headers(http),
                              data={"dag": "2026-12-24", "omschrijving": "Kerst\u2028avond"})  # fmt: skip
        assert day.status_code == 422 and f"De omschrijving {ONE_LINE}." in day.text
        letters = await http.post(f"{base}/brieven", headers=csrf_headers(http),
                                  data={"brief_sender": "Team\r\ninkoop", "brief_city": "Leiden",
                                        "brief_signature": "Het team", "brief_reply_email": "inkoop@hr.example"})
        assert letters.status_code == 422 and f"De afzender {ONE_LINE}." in letters.text
