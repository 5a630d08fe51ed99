"""Region files: the shipped regions validate, and every kind of mistake is reported with file, path and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from apps.tenancy.loader import load_tenants
from tests.support import trede


def messages(folder: Path) -> list[str]:
    return [str(p) for p in load_tenants(folder).problems]


def test_shipped_regions_are_valid_with_their_municipalities(tenants_dir):
    result = load_tenants(tenants_dir)
    assert result.problems == []
    regions = {loaded.region.slug: loaded.region for loaded in result.regions}
    assert set(regions) == {"zuid-limburg", "west-brabant-west", "lekstroom"}
    today = date(2026, 11, 24)
    assert len(regions["zuid-limburg"].municipalities_on(today)) == 16
    assert len(regions["west-brabant-west"].municipalities_on(today)) == 9
    assert len(regions["lekstroom"].municipalities_on(today)) == 5
    # The seed's "18 gemeenten" is the list before Nuth, Onderbanken and Schinnen merged into Beekdaelen.
    assert len(regions["zuid-limburg"].municipalities_on(date(2018, 6, 1))) == 18
    wbw = {m.name for m in regions["west-brabant-west"].municipalities}
    assert wbw == {
        "Bergen op Zoom", "Etten-Leur", "Zundert", "Halderberge", "Moerdijk",
        "Roosendaal", "Rucphen", "Steenbergen", "Woensdrecht",
    }  # fmt: skip
    lekstroom_now = {m.name for m in regions["lekstroom"].municipalities_on(today)}
    assert lekstroom_now == {"Houten", "IJsselstein", "Lopik", "Nieuwegein", "Vijfheerenlanden"}
    maastricht = next(m for m in regions["zuid-limburg"].municipalities if m.name == "Maastricht")
    assert maastricht.cbs_code == "GM0935"


def test_every_region_uses_ladders_resolved_from_templates(tenants_dir):
    result = load_tenants(tenants_dir)
    for loaded in result.regions:
        assert loaded.ladders, loaded.file
        for key, ladder in loaded.ladders.items():
            assert ladder.key == key


def test_misspelled_term_in_an_inline_ladder_names_file_path_and_reason(tenants_copy):
    path = tenants_copy / "zuid-limburg.toml"
    text = path.read_text()
    text = text.replace(
        '[ladders.kwaliteit]\ntemplate = "kwaliteitsmodel-zuid-limburg"\n',
        """[ladders.kwaliteit]
key = "kwaliteit"
name = "Eigen ladder"
categories = [{ key = "algemeen", title = "Algemeen", start_step = "vraag" }]

[[ladders.kwaliteit.steps]]
key = "vraag"
title = "Vraag om plan van aanpak"
next = ["klaar"]
terms = [{ key = "plan", term = "2 wekn" }]

[[ladders.kwaliteit.steps]]
key = "klaar"
title = "Afgesloten"
final = true
""",
    )
    path.write_text(text)
    assert messages(tenants_copy) == [
        "tenants/zuid-limburg.toml: ladders.kwaliteit.steps[0].terms[0].term: "
        "'2 wekn' is not a term" + _hint_of("2 wekn")
    ]


def _hint_of(term: str) -> str:
    """Whatever the term parser adds after the quoted term (a hint of accepted forms), if anything."""
    from apps.ladders.terms import TermError, parse_term

    try:
        parse_term(term)
    except TermError as exc:
        return str(exc).removeprefix(f"'{term}' is not a term")
    raise AssertionError("expected a TermError")


def test_all_problems_in_all_files_are_reported_at_once(tenants_copy):
    zl = tenants_copy / "zuid-limburg.toml"
    zl.write_text(zl.read_text().replace('cbs_code = "GM0935"', 'cbs_code = "0935"', 1))
    wbw = tenants_copy / "west-brabant-west.toml"
    wbw.write_text(wbw.read_text().replace('template = "contractladder"', 'template = "contract-ladder"'))
    lek = tenants_copy / "lekstroom.toml"
    lek.write_text(lek.read_text().replace('name = "Jeugdhulp Lekstroom"', 'naam = "Jeugdhulp Lekstroom"'))
    found = messages(tenants_copy)
    assert any(m.startswith("tenants/zuid-limburg.toml: municipalities[") and "GM" in m for m in found), found
    assert any(
        m.startswith("tenants/west-brabant-west.toml: ladders.contract.template: unknown template 'contract-ladder'")
        for m in found
    ), found
    assert "tenants/lekstroom.toml: naam: unknown field (check the spelling)" in found
    assert "tenants/lekstroom.toml: name: Field required" in found


def test_broken_toml_duplicate_municipality_and_slug_mismatch(tenants_copy):
    (tenants_copy / "lekstroom.toml").write_text('slug = "lekstroom"\nname = "Lek\n')
    zl = tenants_copy / "zuid-limburg.toml"
    zl.write_text(zl.read_text().replace('cbs_code = "GM0888"', 'cbs_code = "GM0935"'))
    wbw = tenants_copy / "west-brabant-west.toml"
    wbw.rename(tenants_copy / "wbw.toml")
    found = messages(tenants_copy)
    assert any(m.startswith("tenants/lekstroom.toml: not valid TOML") for m in found), found
    assert "tenants/zuid-limburg.toml: municipalities: municipality listed twice: GM0935" in found
    assert "tenants/wbw.toml: slug: is 'west-brabant-west' but the file is named 'wbw.toml'" in found


def test_a_broken_template_is_reported_in_the_template_file(tenants_copy):
    template = tenants_copy / "templates" / "kwaliteitsmodel-zuid-limburg.toml"
    text = template.read_text()
    assert 'term = "2 weken"' in text
    template.write_text(text.replace('term = "2 weken"', 'term = "drie weken en een beetje"', 1))
    found = messages(tenants_copy)
    assert any(
        m.startswith(f"tenants/templates/{template.name}: steps[") and "'drie weken en een beetje' is not a term" in m
        for m in found
    ), found


def test_ladder_consistency_problems_are_named(tenants_copy):
    path = tenants_copy / "lekstroom.toml"
    path.write_text(
        path.read_text().replace(
            '[ladders.kwaliteit]\ntemplate = "kwaliteitsartikel-lekstroom"\n',
            """[ladders.kwaliteit]
key = "kwaliteit"
name = "Kapotte ladder"
categories = [{ key = "algemeen", title = "Algemeen", start_step = "start" }]

[[ladders.kwaliteit.steps]]
key = "start"
title = "Start"
next = ["nergens"]

[[ladders.kwaliteit.steps]]
key = "eiland"
title = "Onbereikbaar"
next = ["start"]

[[ladders.kwaliteit.steps]]
key = "doodlopend"
title = "Doodlopend"
""",
        )
    )
    [message] = messages(tenants_copy)
    assert message.startswith("tenants/lekstroom.toml: ladders.kwaliteit: ")
    assert "step 'start' leads to unknown step 'nergens'" in message
    assert "step 'doodlopend' has no way out and is not final" in message
    assert "the ladder has no final step" in message


def test_cli_validate_prints_problems_and_exits_1(tenants_copy):
    path = tenants_copy / "zuid-limburg.toml"
    path.write_text(
        path.read_text().replace('reply_email = "inkoop@zuid-limburg.example"', 'reply_email = "geen-mail"')
    )
    result = trede("tenants", "validate", str(tenants_copy))
    assert result.returncode == 1
    assert "tenants/zuid-limburg.toml: letters.reply_email: value is not a valid email address" in result.stderr
    assert "1 problem(s) found." in result.stderr


def test_cli_validate_accepts_the_shipped_folder():
    result = trede("tenants", "validate")
    assert result.returncode == 0, result.stderr
    assert "tenants/zuid-limburg.toml: ok" in result.stdout


def test_a_ladder_notifying_a_role_without_mailbox_is_refused(tenants_copy):
    path = tenants_copy / "lekstroom.toml"
    text = path.read_text()
    start = text.index('[[mailboxes]]\nrole = "ozj"')
    end = text.index("[[mailboxes]]", start + 1)
    path.write_text(text[:start] + text[end:])
    found = messages(tenants_copy)
    assert len(found) == 1
    assert found[0].startswith("tenants/lekstroom.toml: ladders.continuiteit.steps[")
    assert found[0].endswith(
        "notifies role 'ozj' but the region has no 'ozj' mailbox (add [[mailboxes]] role = \"ozj\")"
    )


def test_a_municipality_contact_is_one_line_with_a_mailbox(tenants_copy):
    wbw = tenants_copy / "west-brabant-west.toml"
    text = wbw.read_text()
    assert 'function = "Coördinerend kwaliteitsmedewerker Jeugd"' in text
    text = text.replace('function = "Coördinerend kwaliteitsmedewerker Jeugd"', 'function = "Coördinerend\\tJeugd"')
    wbw.write_text(text.replace('email = "jeugd.rucphen@wbw.example"', 'email = "geen adres"'))
    found = messages(tenants_copy)
    assert any(m.startswith("tenants/west-brabant-west.toml: municipalities[4].contacts[0].function: contains the "
                            "control character U+0009") for m in found), found  # fmt: skip
    wbw.write_text(wbw.read_text().replace("Coördinerend\\tJeugd", "Coördinerend kwaliteitsmedewerker Jeugd"))
    assert any("municipalities[5].contacts[0].email" in m for m in messages(tenants_copy))
