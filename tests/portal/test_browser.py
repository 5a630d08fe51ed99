"""In a real browser (Debian's chromium via Playwright), against a real `trede serve --embedded` (uvicorn, the file
streams through it) and the local OpenID provider: Vera Vlinder sees escalations from Zuid-Limburg and Lekstroom,
delivers a plan of action that meets the deadline, is told in Dutch next to the field why a wrong file is refused,
sends a message, and registers two VOGs with their issue dates; Ilse Inkoop (Zuid-Limburg) accepts one and rejects
the other with a reason, and Vera sees both verdicts. Ilse sends an ingebrekestelling with its fields, Vera
acknowledges its receipt and both sides see it on the shared timeline. Every page passes axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from playwright.sync_api import expect

from core.clock import system_clock
from tests.browser_support import check_page, log_in, mailed_link, running_platform
from tests.support import ROOT

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n" + b"%" * 200_000


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(tmp_path_factory) as running:
        seeded = subprocess.run(
            [sys.executable, "-m", "tests.portal.seed_browser"], cwd=ROOT, env=running.env, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        yield running.base, json.loads(seeded.stdout.strip().splitlines()[-1]), running.var_dir, running.env


def test_provider_delivers_and_registers_and_the_region_reviews(platform, browser, tmp_path):
    base, seeded, var_dir, _ = platform
    plan = tmp_path / "Plan van aanpak De Vlinder.pdf"
    plan.write_bytes(PDF)
    fake = tmp_path / "plan.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf at all")
    vera_context = browser.new_context(bypass_csp=True)  # only so that axe-core can be injected
    vera = vera_context.new_page()
    log_in(vera, base, "Vera Vlinder", "/portaal")
    main = vera.locator("main")
    text = main.inner_text()
    assert "Zuid-Limburg" in text and "Lekstroom" in text
    assert seeded["zl"]["reference"] in text and seeded["lek"]["reference"] in text
    assert seeded["other"]["reference"] not in text
    assert "Lever een plan van aanpak aan, uiterlijk op" in text
    check_page(vera)

    # The archive of closed escalations: its filter form passes axe too (nothing is closed yet).
    vera.get_by_role("navigation", name="Portaal").get_by_role("link", name="Afgesloten escalaties").click()
    vera.wait_for_url(f"{base}/portaal/archief")
    vera.get_by_label("Jaar afgesloten").wait_for()
    assert "Er zijn nog geen afgesloten escalaties" in main.inner_text()
    check_page(vera)
    vera.goto(f"{base}/portaal")

    vera.get_by_role("link", name=seeded["zl"]["reference"]).click()
    vera.wait_for_url(f"{base}/portaal/escalaties/{seeded['zl']['id']}")
    check_page(vera)

    # The region's letter: one click confirms its receipt (BW 3:37 lid 3), and it is on the shared timeline.
    vera.get_by_role("button", name="Ontvangst bevestigen").first.click()
    vera.wait_for_url(f"{base}/portaal/escalaties/{seeded['zl']['id']}*")
    assert "de ontvangst van de brief is bevestigd" in main.inner_text()
    assert vera.locator('[data-kind="ontvangst_bevestigd"]').count() == 1
    check_page(vera)

    # A file that is not what its name says: refused, next to the field, nothing stored.
    vera.get_by_label("Bestand", exact=True).set_input_files(str(fake))
    vera.get_by_role("button", name="Aanleveren").click()
    error = vera.locator("#bestand-fout")
    assert "Dit bestandstype is niet toegestaan" in error.inner_text()
    assert vera.get_by_label("Bestand", exact=True).get_attribute("aria-invalid") == "true"
    check_page(vera)
    assert not list((var_dir / "objects").rglob("*.partial"))

    # The plan of action: streamed through uvicorn into storage; the deadline is met on time.
    objects_before = len([p for p in (var_dir / "objects").rglob("*") if p.is_file()])  # the demo's own files
    vera.get_by_label("Soort document").select_option("plan_van_aanpak")
    vera.get_by_label("Bestand", exact=True).set_input_files(str(plan))
    vera.get_by_role("button", name="Aanleveren").click()
    vera.wait_for_url(f"{base}/portaal/escalaties/{seeded['zl']['id']}")
    assert "Daarmee is de termijn op tijd gehaald." in vera.locator("#melding").inner_text()
    assert "gehaald" in vera.locator("#termijnen").inner_text()
    assert "Plan van aanpak De Vlinder.pdf" in vera.locator("#documentenlijst").inner_text()
    assert len([p for p in (var_dir / "objects").rglob("*") if p.is_file()]) == objects_before + 1
    with vera.expect_download() as download:
        vera.get_by_role("link", name="Plan van aanpak De Vlinder.pdf").click()
    assert download.value.suggested_filename == "Plan van aanpak De Vlinder.pdf"
    assert Path(download.value.path()).read_bytes() == PDF

    # A message through htmx: the messages block swaps in place.
    vera.get_by_label("Bericht aan de regio").fill("Het plan is aangeleverd; graag een reactie.")
    vera.get_by_role("button", name="Bericht plaatsen").click()
    vera.locator("#berichten", has_text="Het plan is aangeleverd; graag een reactie.").wait_for()
    check_page(vera)

    # Two VOGs with their issue dates (one expires in 20 days, counted from the issue date).
    today = system_clock.today()
    soon = today - relativedelta(years=3) + relativedelta(days=20)
    vera.get_by_role("link", name="Bewijsregister").click()
    for person, issued in (("Anna de Boer", soon), ("Personeelsnummer 0042", today - relativedelta(months=5))):
        vera.get_by_label("Soort bewijs").select_option("vog_medewerker")
        vera.get_by_label("Naam of personeelsnummer").fill(person)
        vera.get_by_label("Datum van afgifte (VOG) of registratie (SKJ, BIG)").fill(issued.isoformat())
        vera.get_by_role("button", name="Vastleggen").click()
        vera.wait_for_url(f"{base}/portaal/bewijs")
        assert "is vastgelegd" in vera.locator("#melding").inner_text()
    assert "Verloopt binnen 20 dagen" in vera.locator("#bewijstabel").inner_text()
    check_page(vera)

    # The region's purchasing team: accept one, reject the other with a reason.
    ilse_context = browser.new_context(bypass_csp=True)
    ilse = ilse_context.new_page()
    path = f"/regio/zuid-limburg/aanbieders/{seeded['provider_id']}/bewijs"
    log_in(ilse, base, "Ilse Inkoop", path)
    check_page(ilse)
    anna = ilse.locator("li.trede-card", has_text="Anna de Boer")
    anna.get_by_label("Accepteren", exact=True).check()
    anna.get_by_role("button", name="Beoordeling vastleggen").click()
    ilse.wait_for_url(f"{base}{path}*")
    other = ilse.locator("li.trede-card", has_text="Personeelsnummer 0042")
    other.get_by_label("Afwijzen", exact=True).check()
    other.get_by_role("button", name="Beoordeling vastleggen").click()  # no reason: refused, said why
    assert "Geef een reden voor de afwijzing" in ilse.locator("main").inner_text()
    check_page(ilse)
    other = ilse.locator("li.trede-card", has_text="Personeelsnummer 0042")
    other.get_by_label("Afwijzen", exact=True).check()
    other.get_by_label("Reden (verplicht bij afwijzen)").fill("De VOG is niet voor de functie van jeugdzorgwerker.")
    other.get_by_role("button", name="Beoordeling vastleggen").click()
    ilse.wait_for_url(f"{base}{path}*")
    text = ilse.locator("main").inner_text()
    assert "Geaccepteerd door Ilse Inkoop" in text and "Afgewezen door Ilse Inkoop" in text
    ilse_context.close()

    vera.reload()
    table = vera.locator("#bewijstabel").inner_text()
    assert "Zuid-Limburg: Geaccepteerd" in table
    assert "Zuid-Limburg: Afgewezen" in table and "De VOG is niet voor de functie van jeugdzorgwerker." in table
    vera_context.close()


def test_provider_admin_invites_a_colleague_who_joins_and_gets_another_role(platform, browser):
    base, _, var_dir, _ = platform
    bas_context = browser.new_context(bypass_csp=True)
    bas = bas_context.new_page()
    log_in(bas, base, "Bas Vlinder", "/portaal")
    bas.get_by_role("link", name="Collega's").click()
    bas.wait_for_url(f"{base}/portaal/collegas/")
    assert "Collega's van Jeugdzorg De Vlinder B.V." in bas.locator("h1").inner_text()
    check_page(bas)

    # A typo in the address: refused next to the field, what was typed stays.
    bas.get_by_label("E-mailadres").fill("nina.devlinder.localhost")
    bas.get_by_label("Rol", exact=True).select_option("aanbieder_medewerker")
    bas.get_by_role("button", name="Uitnodiging versturen").click()
    assert "Vul een geldig e-mailadres in" in bas.locator("#email-fout").inner_text()
    assert bas.get_by_label("E-mailadres").input_value() == "nina.devlinder.localhost"
    assert bas.get_by_label("E-mailadres").get_attribute("aria-invalid") == "true"
    check_page(bas)

    bas.get_by_label("E-mailadres").fill("nina@devlinder.localhost")
    bas.get_by_role("button", name="Uitnodiging versturen").click()
    bas.wait_for_url(f"{base}/portaal/collegas/#uitnodigingen")
    assert "De uitnodiging voor nina@devlinder.localhost is aangemaakt" in bas.locator("#melding").inner_text()
    assert "nina@devlinder.localhost als medewerker aanbieder" in bas.locator("#uitnodigingen").inner_text()
    check_page(bas)

    # A second invitation, withdrawn: its link then says so.
    bas.get_by_label("E-mailadres").fill("noor@devlinder.localhost")
    bas.get_by_role("button", name="Uitnodiging versturen").click()
    expect(bas.locator("#melding")).to_contain_text("De uitnodiging voor noor@devlinder.localhost is aangemaakt")
    bas.get_by_role("button", name="uitnodiging van noor@devlinder.localhost").click()
    expect(bas.locator("#melding")).to_contain_text("De uitnodiging is ingetrokken")
    withdrawn = browser.new_context(bypass_csp=True).new_page()
    withdrawn.goto(mailed_link(var_dir, "noor@devlinder.localhost"))
    assert "Deze uitnodiging is ingetrokken" in withdrawn.locator("main").inner_text()
    check_page(withdrawn)
    withdrawn.context.close()

    # Nina, new here, finds her e-mail in the development mailbox (the footer of `make run`'s pages points to it),
    # follows its link, sees what is offered, logs in, and is in.
    nina_context = browser.new_context(bypass_csp=True)
    nina = nina_context.new_page()
    link = mailed_link(var_dir, "nina@devlinder.localhost")  # waits until the worker has delivered it
    nina.goto(f"{base}/")
    nina.get_by_role("link", name=re.compile(r"^Ontwikkelpostvak")).click()
    nina.wait_for_url(f"{base}/ontwikkeling/post")
    mail = nina.locator("li.trede-blok", has_text="nina@devlinder.localhost").first
    assert "Uitnodiging" in mail.locator("h2").inner_text()
    check_page(nina)
    mail.locator('a[href*="/uitnodiging/"]').first.click()
    nina.wait_for_url(link)
    offer = nina.locator("#aanbod").inner_text()
    assert "Jeugdzorg De Vlinder B.V." in offer and "Medewerker aanbieder" in offer
    check_page(nina)
    nina.get_by_role("link", name="Inloggen met de lokale OpenID-provider en aanvaarden").click()
    nina.get_by_role("button", name="Nina Nieuw").click()
    nina.wait_for_url(link)
    assert "U heeft de uitnodiging aanvaard" in nina.locator("main").inner_text()
    check_page(nina)
    nina.get_by_role("link", name="Verder naar het portaal").click()
    nina.wait_for_url(f"{base}/portaal")
    assert "U werkt voor Jeugdzorg De Vlinder B.V." in nina.locator("#organisatie").inner_text()
    assert "Collega's" not in nina.locator("nav.trede-subnav").inner_text()  # an employee manages nobody

    # Bas makes Nina an admin too.
    bas.reload()
    nina_row = bas.locator("tr", has_text="Nina Nieuw")
    nina_row.get_by_label("Rol van Nina Nieuw").select_option("aanbieder_beheerder")
    nina_row.get_by_role("button", name="Rol wijzigen van Nina Nieuw").click()
    expect(bas.locator("#melding")).to_contain_text("De rol is gewijzigd.")
    assert bas.get_by_label("Rol van Nina Nieuw").input_value() == "aanbieder_beheerder"
    check_page(bas)
    nina.reload()
    assert "Collega's" in nina.locator("nav.trede-subnav").inner_text()
    bas_context.close()
    nina_context.close()


def test_a_person_at_two_providers_switches_organisation(platform, browser):
    base, seeded, _, _ = platform
    kim_context = browser.new_context(bypass_csp=True)
    kim = kim_context.new_page()
    log_in(kim, base, "Kim Tweeling", "/portaal")
    kim.get_by_label("Organisatie", exact=True).select_option(label="Praktijk Kompas Jeugd-GGZ")
    kim.get_by_role("button", name="Wissel van organisatie").click()
    kim.wait_for_url(f"{base}/portaal/")
    assert "U werkt voor Praktijk Kompas Jeugd-GGZ" in kim.locator("#organisatie").inner_text()
    text = kim.locator("main").inner_text()
    assert seeded["zl"]["reference"] not in text and seeded["lek"]["reference"] not in text  # De Vlinder's
    check_page(kim)
    kim.get_by_label("Organisatie", exact=True).select_option(label="Jeugdzorg De Vlinder B.V.")
    kim.get_by_role("button", name="Wissel van organisatie").click()
    expect(kim.locator("#organisatie")).to_contain_text("U werkt voor Jeugdzorg De Vlinder B.V.")
    assert seeded["zl"]["reference"] in kim.locator("main").inner_text()
    kim_context.close()


def test_an_ingebrekestelling_is_sent_the_provider_acknowledges_and_both_see_the_receipt(platform, browser):
    """Issue 16: the team fills in the notice's fields, sees the letter, sends it; the provider confirms receipt in
    the portal with one click (BW 3:37 lid 3) and the receipt is on the timeline both sides read."""
    base, seeded, _, _ = platform
    escalation = seeded["contract"]
    shortcoming = "U declareert sinds januari 2026 zorg zonder dossier (artikel 12 van de Resultaatovereenkomst)."
    ilse_context = browser.new_context(bypass_csp=True)
    ilse = ilse_context.new_page()
    url = f"/regio/zuid-limburg/escalaties/{escalation['id']}"
    log_in(ilse, base, "Ilse Inkoop", url)
    ilse.locator("#stap-ingebrekestelling summary").click()
    ilse.locator("#motivering-ingebrekestelling").fill("Geen verbeterplan na het gesprek; redelijke termijn 4 weken.")
    ilse.locator("#stap-ingebrekestelling").get_by_role("button", name="Verder: brief bekijken").click()
    ilse.get_by_role("heading", name="Voorbeeld van de brief: Ingebrekestelling").wait_for()
    form = ilse.locator("#velden-ingebrekestelling")
    assert "Uw kenmerk (niet verplicht)" in form.inner_text()
    # the shortcoming starts as the summary typed at opening, for the decider to confirm or rewrite
    expect(ilse.locator("#veld-ingebrekestelling-tekortkoming")).to_have_value("Declaraties zonder dossier.")
    ilse.get_by_role("button", name="Ja, stap zetten en brief versturen").click()  # the improvement is missing
    expect(ilse.locator("#veld-ingebrekestelling-verbetering-fout")).to_contain_text("Beschrijf wat de aanbieder")
    check_page(ilse)
    ilse.locator("#veld-ingebrekestelling-tekortkoming").fill(shortcoming)
    ilse.locator("#veld-ingebrekestelling-verbetering").fill("Lever een verbeterplan aan en corrigeer de declaraties.")
    ilse.locator("#veld-ingebrekestelling-uw_kenmerk").fill("VL/2026/118")
    ilse.get_by_role("button", name="Voorbeeld van de brief bijwerken").click()
    expect(ilse.locator("#brief-ingebrekestelling")).to_contain_text(shortcoming)
    ilse.get_by_role("button", name="Ja, stap zetten en brief versturen").click()
    ilse.locator("#melding").get_by_text("De stap is gezet").wait_for()
    assert "Brief verstuurd" in ilse.locator("#tijdlijn-lijst").inner_text()

    vera_context = browser.new_context(bypass_csp=True)
    vera = vera_context.new_page()
    log_in(vera, base, "Vera Vlinder", f"/portaal/escalaties/{escalation['id']}")
    vera.get_by_role("button", name=re.compile("Ontvangst bevestigen.*Ingebrekestelling")).click()
    vera.wait_for_url(f"{base}/portaal/escalaties/{escalation['id']}*")
    assert "de ontvangst van de brief is bevestigd" in vera.locator("main").inner_text()
    assert vera.locator('[data-kind="ontvangst_bevestigd"]').count() == 1
    check_page(vera)
    vera_context.close()

    ilse.reload()  # the region's timeline: the receipt, by the provider
    receipt = ilse.locator("#tijdlijn-lijst li", has_text="Ontvangst bevestigd")
    expect(receipt).to_have_count(1)
    assert "Ingebrekestelling" in receipt.inner_text()
    ilse_context.close()
