"""Seeds 001 and 004 end to end in a real browser (Debian's chromium via Playwright) against `trede serve --embedded`
and the local OpenID provider, with the demo accounts of `make run` (issue 15).

1. A dispute about one case, "los op of schaal op": Gijs Grens (Over de Grens, a contract in West-Brabant West) opens
   a dispute for Roosendaal in the portal and scales up; Roos Rozendaal, Roosendaal's lokale aanstuurder, answers with
   her position and decides; Gijs does not agree and Roos takes it to the Zi2T; Wouter (Zi2T) advises; Gijs takes it
   to the Geschillencommissie with its subcommittee and makes the dispute file (one PDF/A with the history, both
   positions and the documents embedded). The mails (the development mailbox) reach Roosendaal and the Zi2T, never
   another of the nine municipalities.
2. A continuity escalation opened in Lekstroom is coordinated by the account-holding region: Ilse (Zuid-Limburg) finds
   it in her list and takes the mediation step; Lotte (Lekstroom) sees who coordinates and the step on her timeline.

axe-core (WCAG 2.1 A/AA), the Nu HTML Checker and the plain-Dutch check run on every page and state visited.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import time
import tomllib

import pytest
from pypdf import PdfReader

from tests.browser_support import check_page, log_in, running_platform, screenshot
from tests.records import pdfa_facts
from tests.support import ROOT

WBW = "/regio/west-brabant-west"
ARRANGEMENT = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n" + b"%" * 2000


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(tmp_path_factory) as running:
        yield running


def _person(browser, base: str, name: str, path: str):
    context = browser.new_context(bypass_csp=True, accept_downloads=True)  # bypass: only to inject axe-core
    page = context.new_page()
    log_in(page, base, name, path)
    return context, page


def _mail_recipients(var_dir, wanted: set[str], seconds: float = 30) -> set[str]:
    """Every address the development mailbox (var/mail) holds a mail for, once ``wanted`` are all there."""
    deadline = time.monotonic() + seconds
    found: set[str] = set()
    while time.monotonic() < deadline:
        found = set()
        for path in (var_dir / "mail").glob("**/*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found |= {address.strip().lower() for address in str(message.get("To", "")).split(",") if address.strip()}
        if wanted <= found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no mail yet for {sorted(wanted - found)}; mailed: {sorted(found)}")


def _other_municipalities() -> set[str]:
    """The addresses of West-Brabant West's municipalities other than Roosendaal, from the region file."""
    data = tomllib.loads((ROOT / "tenants" / "west-brabant-west.toml").read_text())
    return {address.lower() for m in data["municipalities"] if m["name"] != "Roosendaal"
            for address in [m.get("access_team_email", ""), *(c["email"] for c in m.get("contacts", []))] if address}


def test_a_dispute_for_roosendaal_goes_up_to_the_committee_with_its_file(platform, browser, tmp_path):
    base, var_dir = platform.base, platform.var_dir
    arrangement = tmp_path / "arrangement-RSD-2026-0413.pdf"
    arrangement.write_bytes(ARRANGEMENT)

    # 1. Gijs (Over de Grens) opens a dispute for Roosendaal in the portal.
    gijs_context, gijs = _person(browser, base, "Gijs Grens", "/portaal/geschillen/nieuw")
    main = gijs.locator("main")
    check_page(gijs)
    gijs.get_by_role("button", name="Geschil openen").click()  # nothing chosen: refused next to the field
    assert "Kies de gemeente" in gijs.locator("#geschil-gemeente-fout").inner_text()
    assert gijs.get_by_label("Gemeente", exact=True).get_attribute("aria-invalid") == "true"
    check_page(gijs)
    gijs.get_by_label("Gemeente", exact=True).select_option(label="Roosendaal")
    gijs.get_by_label("Discussiepunt").select_option("pic")
    gijs.get_by_label("Kenmerk van de toegang (pseudoniem)").fill("111222333")  # a BSN: refused, the rest kept
    gijs.get_by_label("Betrokken professionals").fill("Jeugdprofessional toegang, gedragswetenschapper")
    gijs.get_by_label("Waar gaat het geschil over?").fill("Geen overeenstemming over de PIC voor een nieuwe cliënt.")
    gijs.get_by_label("Uw standpunt").fill("De PIC past niet bij de zorgvraag; wij vragen eerst de analyse.")
    gijs.get_by_role("button", name="Geschil openen").click()
    assert "burgerservicenummer" in gijs.locator("#geschil-kenmerk-fout").inner_text()
    assert gijs.get_by_label("Uw standpunt").input_value().startswith("De PIC past niet")
    gijs.get_by_label("Kenmerk van de toegang (pseudoniem)").fill("RSD-2026-0413")
    gijs.get_by_role("button", name="Geschil openen").click()
    gijs.wait_for_url(re.compile(rf"{re.escape(base)}/portaal/escalaties/[0-9a-f-]+#geschil"))
    portal_url = gijs.url.split("#")[0]
    escalation_id = portal_url.rsplit("/", 1)[1]
    text = main.inner_text()
    assert "is geopend; de gemeente heeft bericht" in text and "RSD-2026-0413" in text and "pseudoniem kenmerk" in text
    check_page(gijs)
    # the arrangement goes with it (it will be in the dispute file)
    gijs.get_by_label("Soort document").select_option("arrangement")
    gijs.get_by_label("Bestand", exact=True).set_input_files(str(arrangement))
    gijs.get_by_role("button", name="Aanleveren").click()
    gijs.wait_for_url(f"{portal_url}*")
    # los op of schaal op: Gijs scales up to the lokale aanstuurder himself
    gijs.locator("#opschalen-motivering").fill("In het gesprek met de jeugdprofessional komen wij er niet uit.")
    gijs.locator("#form-opschalen button").click()
    gijs.wait_for_url(f"{portal_url}*")
    assert "Stap 2: Lokale aanstuurder" in gijs.locator("#geschil-route [aria-current=step]").inner_text()
    check_page(gijs)
    screenshot(gijs, "geschil-1-portaal")

    # 2. Roos, Roosendaal's lokale aanstuurder: her municipality's disputes only; she answers and decides.
    roos_context, roos = _person(browser, base, "Roos Rozendaal", f"{WBW}/geschillen")
    listed = roos.locator("main").inner_text()
    assert "RSD-2026-0413" in listed and "BOZ-2026-0117" not in listed  # not Bergen op Zoom's demo dispute
    check_page(roos)
    roos.locator("#geschillen-lijst tbody tr", has_text="RSD-2026-0413").get_by_role("link").click()
    roos.wait_for_url(f"{base}{WBW}/geschillen/{escalation_id}")
    check_page(roos)
    roos.get_by_label("Uw standpunt").fill("De analyse staat in het gezinsplan; PIC 3 volgt daaruit.")
    roos.get_by_role("button", name="Standpunt vastleggen").click()
    roos.wait_for_url(re.compile(r".*melding=standpunt.*"))
    roos.get_by_role("button", name="Besluit van de lokale aanstuurder vastleggen").click()  # empty: refused
    assert "Vul het besluit in" in roos.locator("#geschil-besluit-fout").inner_text()
    check_page(roos)
    roos.get_by_label("Besluit van de lokale aanstuurder").fill("PIC 3, met een evaluatie na acht weken.")
    roos.get_by_role("button", name="Besluit van de lokale aanstuurder vastleggen").click()
    roos.wait_for_url(re.compile(r".*melding=oplossing.*"))
    answers = roos.locator("#geschil-akkoorden").inner_text()
    assert "Gemeente: akkoord (Roos Rozendaal (gemeente Roosendaal)" in answers  # who, and when
    assert "Aanbieder: nog geen antwoord" in answers
    check_page(roos)
    screenshot(roos, "geschil-2-lokale-aanstuurder")

    # 3. Gijs does not agree, with his reason; Roos takes it to the Zi2T.
    gijs.goto(portal_url)
    gijs.get_by_label("Niet akkoord").check()
    gijs.get_by_label("Toelichting").fill("Acht weken is te kort voor deze problematiek.")
    gijs.get_by_role("button", name="Antwoord vastleggen").click()
    gijs.wait_for_url(f"{portal_url}*")
    assert "Aanbieder: niet akkoord" in gijs.locator("#geschil-akkoorden").inner_text()
    check_page(gijs)
    roos.goto(f"{base}{WBW}/geschillen/{escalation_id}")
    roos.locator("#opschalen-motivering").fill("De aanbieder gaat niet akkoord: wij leggen de casus voor aan het Zi2T.")
    roos.locator("#form-opschalen button").click()
    roos.wait_for_url(re.compile(r".*melding=opgeschaald.*"))
    assert "Stap 3" in roos.locator("#huidige-stap").inner_text()
    check_page(roos)

    # 4. Wouter (Zi2T, the region's team) advises.
    wouter_context, wouter = _person(browser, base, "Wouter Westbrabant", f"{WBW}/geschillen/{escalation_id}")
    check_page(wouter)
    wouter.get_by_label("Advies van het team (Zi2T)").fill("Het Zi2T adviseert PIC 3 met evaluatie na twaalf weken.")
    wouter.get_by_role("button", name="Advies van het team (Zi2T) vastleggen").click()
    wouter.wait_for_url(re.compile(r".*melding=oplossing.*"))
    assert "Advies van het team (Zi2T)" in wouter.locator("#geschil-oplossing").inner_text()
    check_page(wouter)

    # 5. Gijs takes it to the Geschillencommissie, names the subcommittee and makes the dispute file.
    gijs.goto(portal_url)
    gijs.locator("#opschalen-motivering").fill("Het advies lost het geschil niet op.")
    gijs.locator("#form-opschalen button").click()  # no subcommittee yet: refused next to the field
    assert "Kies de subcommissie" in gijs.locator("#opschalen-subcommissie-fout").inner_text()
    check_page(gijs)
    gijs.locator("#opschalen-subcommissie").select_option(label="Subcommissie Sociaal Domein: Inkoop Jeugdwet en Wmo")
    gijs.locator("#form-opschalen button").click()
    gijs.wait_for_url(f"{portal_url}*")
    assert "Stap 4: Geschillencommissie" in gijs.locator("#geschil-route [aria-current=step]").inner_text()
    gijs.get_by_role("button", name="Geschildossier maken").click()
    gijs.wait_for_url(f"{portal_url}*")
    check_page(gijs)
    screenshot(gijs, "geschil-3-geschillencommissie")
    with gijs.expect_download() as download:
        gijs.locator("#geschildossiers a").first.click()
    pdf = download.value.path().read_bytes()
    _check_dispute_file(pdf, arrangement.name)

    # Roos reads the same file on her page.
    roos.goto(f"{base}{WBW}/geschillen/{escalation_id}")
    assert "Subcommissie Sociaal Domein: Inkoop Jeugdwet en Wmo" in roos.locator("#geschil-subcommissie").inner_text()
    assert roos.locator("#geschildossiers a").count() == 1
    check_page(roos)

    # The mails: Roosendaal (its lokale aanstuurder has an account: her) and the Zi2T; no other municipality.
    mailed = _mail_recipients(var_dir, {"r.rozendaal@roosendaal.localhost", "zi2t@wbw.example"})
    assert not mailed & _other_municipalities(), sorted(mailed & _other_municipalities())
    for context in (gijs_context, roos_context, wouter_context):
        context.close()


def _check_dispute_file(pdf: bytes, attachment: str) -> None:
    facts = pdfa_facts(pdf)  # an archived record, like the dossier: PDF/A-3a, tagged, Dutch, the region as author
    assert (facts["part"], facts["conformance"]) == ("3", "A") and facts["tagged"] and facts["lang"] == "nl"
    assert facts["creator"] == ["Jeugdhulp West-Brabant West"] and facts["title"].startswith("Geschildossier WBW-")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in ("Geschildossier", "Subcommissie Sociaal Domein: Inkoop Jeugdwet en Wmo", "RSD-2026-0413",
                     "wij vragen eerst de analyse", "PIC 3 volgt daaruit", "Acht weken is te kort",
                     "evaluatie na twaalf weken"):  # fmt: skip
        assert expected in " ".join(text.split()), expected
    assert attachment in reader.attachments  # the documents travel inside the one file


def test_a_continuity_escalation_in_lekstroom_is_coordinated_by_zuid_limburg(platform, browser):
    base = platform.base
    ilse_context, ilse = _person(browser, base, "Ilse Inkoop", "/regio/zuid-limburg/accounthouder")
    rows = ilse.locator("#accounthouder-lijst tbody tr")
    row = rows.filter(has_text="Jeugdzorg Over de Grens B.V.")
    assert row.count() == 1 and "Lekstroom" in row.inner_text()  # opened in another region
    reference = row.locator("a").inner_text()
    check_page(ilse)
    row.locator("a").click()
    ilse.wait_for_url(re.compile(r".*/accounthouder/[0-9a-f-]+$"))
    check_page(ilse)
    ilse.get_by_label("Motivering").fill("Zuid-Limburg bemiddelt als accounthoudende regio van Over de Grens.")
    ilse.get_by_role("button", name=re.compile("^Stap zetten")).click()
    ilse.wait_for_url(re.compile(r".*melding=bemiddeling.*"))
    assert "Accounthoudende regio bemiddelt" in ilse.locator("#huidige-stap").inner_text()
    check_page(ilse)

    lotte_context, lotte = _person(browser, base, "Lotte Lekstroom", "/regio/lekstroom/escalaties")
    lotte.get_by_role("link", name=reference).first.click()
    lotte.wait_for_url(re.compile(r".*/regio/lekstroom/escalaties/[0-9a-f-]+"))
    assert "Jeugdhulp Zuid-Limburg" in lotte.locator("#accounthoudende-regio").inner_text()  # who coordinates
    timeline = lotte.locator("main").inner_text()
    assert "Ilse Inkoop (accounthoudende regio Jeugdhulp Zuid-Limburg)" in timeline
    check_page(lotte)
    for context in (ilse_context, lotte_context):
        context.close()
