"""Seed 000 end to end in a real browser (Debian's chromium via Playwright) against `trede serve --embedded` and the
local OpenID provider: Tessa (toegang Maastricht) files a signal, Ilse (team inkoop) triages it to safety / VOG
werknemers and moves the steps, Luuk (teamleider inkoop) imposes the intake stop after seeing the 16
municipalities, and Tessa opens the register from the notice under the bell; Luuk lifts a stop and closes an
escalation in place, and the provider finds both under the bell. axe-core (WCAG 2.1 A/AA) runs on every page and
state visited; screenshots of the main pages go to test-artifacts/ (ignored by git).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser_support import ARTIFACTS, check_page, running_platform, screenshot

ZL = "/regio/zuid-limburg"
QUALITY_LADDER = "Escalatiemodel kwaliteit jeugdhulp (Jeugdhulp Zuid-Limburg)"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(tmp_path_factory) as running:
        yield running.base, running.op


def shot(page, name: str) -> None:
    screenshot(page, f"werkruimte-{name}")


def sign_in(browser, base: str, person: str, path: str):
    context = browser.new_context(bypass_csp=True)  # only so that axe-core can be injected
    page = context.new_page()
    page.goto(f"{base}{path}")
    assert page.url.startswith(f"{base}/inloggen?next=")
    page.get_by_role("link", name="Inloggen met de lokale OpenID-provider").click()
    page.get_by_role("button", name=person).click()
    page.wait_for_url(f"{base}{path}")
    return context, page


def wait_for_notice(page, subject: str, seconds: float = 30):
    """The link of the in-app notice ``subject`` on /meldingen (the worker hands it over right after the commit:
    reload until it is there)."""
    link = page.locator("main a", has_text=subject)
    deadline = time.monotonic() + seconds
    while link.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    assert link.count() == 1, page.locator("main").inner_text()
    return link


def open_by_keyboard(page, link) -> None:
    """Follow a link as a keyboard user does. (A pointer click would aim at the link's first box, its visually
    hidden "Ongelezen:" prefix, which is clipped to nothing.)"""
    link.focus()
    page.keyboard.press("Enter")


def test_seed_000_from_signal_to_intake_stop(platform, browser):
    base, _ = platform
    summary = "Drie begeleiders van Samen Sterk werken zonder geldige VOG."

    # 1. Tessa, toegang Maastricht, files the signal
    tessa, page = sign_in(browser, base, "Tessa Toegang", f"{ZL}/signalen/nieuw")
    try:
        check_page(page)
        page.get_by_label("Over welke aanbieder gaat het?").select_option(
            label="Stichting Samen Sterk Jeugdhulp (KvK 90000002)"
        )
        page.get_by_label("Gemeente (niet verplicht)").select_option(label="Maastricht")
        page.get_by_role("button", name="Signaal melden").click()  # nothing described yet: refused
        assert "Beschrijf wat er is gesignaleerd." in page.locator("#omschrijving-fout").inner_text()
        check_page(page)
        page.get_by_label("Wat is er gesignaleerd?").fill(summary)
        page.get_by_role("button", name="Signaal melden").click()
        page.wait_for_url(f"{base}{ZL}/signalen/nieuw?ingediend=1")
        assert "Het signaal is doorgegeven aan het team inkoop" in page.locator("main").inner_text()
        check_page(page)
        shot(page, "1-signaal-melden")
    finally:
        tessa.close()

    # 2. Ilse, team inkoop: "raakt het de DVO?" yes, safety, VOG werknemers; the escalation opens
    ilse, page = sign_in(browser, base, "Ilse Inkoop", f"{ZL}/signalen")
    try:
        assert summary in page.locator("#signalen").inner_text()
        check_page(page)
        shot(page, "2-signalen")
        page.locator("#signalen a").first.click()
        # one choice at a time (htmx swaps the form after each): yes, new, the ladder, then only its categories
        assert page.get_by_label("Geen geldige VOG werknemers (niet ouder dan 3 jaar)").count() == 0
        page.get_by_label("Ja: het gaat om een tekortkoming in het kader van de DVO").check()
        page.get_by_label("Een nieuwe escalatie openen").check()
        page.get_by_label(QUALITY_LADDER).check()
        page.get_by_label("Geen geldige VOG werknemers (niet ouder dan 3 jaar)").check()
        assert page.locator('#triage input[name="categorie"]').count() == 7  # this ladder's only
        page.get_by_label("Samenvatting van de tekortkoming").fill("VOG's van drie begeleiders")
        check_page(page)
        shot(page, "3-signaal-beoordelen")
        page.get_by_label("Motivering").fill("Raakt de veiligheid van cliënten: direct gesprek en instroomstop.")
        page.get_by_role("button", name="Escalatie openen").click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}{ZL}/escalaties/[0-9a-f-]+\?melding=geopend"))
        escalation_url = page.url.split("?")[0]
        assert page.locator("#huidige-stap").inner_text().startswith("Gesprek aanbieder direct")
        check_page(page)
        shot(page, "4-escalatie-geopend")

        # a step without a motivation (htmx): the error appears next to the field, in place
        page.locator("#stap-afspraken_per_brief summary").click()
        page.locator("#stap-afspraken_per_brief").get_by_role("button", name="Verder: brief bekijken").click()
        error = page.locator("#motivering-afspraken_per_brief-fout")
        error.wait_for()
        assert "Geef een motivering" in error.inner_text()
        check_page(page)
        page.locator("#motivering-afspraken_per_brief").fill("Gesprek gevoerd; afspraken per brief bevestigd.")
        page.locator("#stap-afspraken_per_brief").get_by_role("button", name="Verder: brief bekijken").click()
        # the step sends a letter: its preview first (the letter's text in the page), then send it
        page.get_by_role("heading", name="Voorbeeld van de brief: Bevestiging van de gemaakte afspraken").wait_for()
        preview = page.locator("#brief-bevestiging_afspraken").inner_text()
        assert "Gesprek gevoerd; afspraken per brief bevestigd." in preview
        check_page(page)
        shot(page, "4b-brief-voorbeeld")
        # what the letter confirms: the decider fills it in (the letter never prints the summary of the opening)
        page.locator("#veld-afspraken_per_brief-gesprek_datum").fill(time.strftime("%d-%m-%Y"))
        page.locator("#veld-afspraken_per_brief-afspraken").fill("U levert binnen twee weken geldige VOG's aan.")
        page.get_by_label("Aangetekend per post (en via het portaal)").check()  # how the letter goes
        page.get_by_role("button", name="Ja, stap zetten en brief versturen").click()
        page.locator("#melding").get_by_text("De stap is gezet").wait_for()
        assert "Brief verstuurd" in page.locator("#tijdlijn-lijst").inner_text()
        assert "Aangetekend per post" in page.locator("#brieven").inner_text()
        # the registered letter's receipt, from the PostNL receipt: on the shared timeline
        page.locator("#brief-ontvangst summary").click()
        option = page.locator("#brief-ontvangst-brief option", has_text="Bevestiging van de gemaakte afspraken")
        page.get_by_label("Welke brief").select_option(option.get_attribute("value"))
        page.get_by_label("Hoe ontvangen").select_option("aangetekend")
        page.get_by_label("Track-and-trace-code (niet verplicht)").fill("3SABCD1234567")
        check_page(page)
        page.get_by_role("button", name="Ontvangst van de brief vastleggen").click()
        page.locator("#melding").get_by_text("De ontvangst van de brief is vastgelegd").wait_for()
        assert "Track-and-trace-code 3SABCD1234567" in page.locator("#tijdlijn-lijst").inner_text()
        assert page.locator("#documenten").get_by_role("link", name="bevestiging-afspraken").count() == 1
        assert page.url.split("?")[0] == escalation_url  # swapped in place, no reload
        assert page.locator("#huidige-stap").inner_text().startswith("Afspraken per brief vastgelegd")
        assert "Stap gezet" in page.locator("#tijdlijn-lijst").inner_text()
        assert "Alleen een teamleider inkoop kan deze stap zetten" in page.locator("#stap-instroomstop").text_content()
        page.get_by_label("Interne notitie").fill("Directeur telefonisch gesproken.")
        page.get_by_role("button", name="Notitie opslaan").click()
        page.locator("#melding").get_by_text("interne notitie").wait_for()
        assert "Intern: niet zichtbaar voor de aanbieder" in page.locator("#tijdlijn-lijst li").first.inner_text()
        check_page(page)

        page.goto(f"{base}{ZL}/escalaties")
        page.get_by_label("Zoek op aanbieder, KvK-nummer of kenmerk").fill("90000002")
        page.get_by_role("button", name="Filteren").click()
        page.wait_for_url(re.compile(r".*zoek=90000002.*"))
        assert page.locator("#escalaties tbody tr").count() == 2  # the demo one and the new one
        check_page(page)
        shot(page, "5-escalaties")
    finally:
        ilse.close()

    # 3. Luuk, teamleider inkoop, sees the 16 municipalities and confirms the intake stop
    luuk, page = sign_in(browser, base, "Luuk Leider", escalation_url.removeprefix(base))
    try:
        page.locator("#stap-instroomstop summary").click()
        page.locator("#motivering-instroomstop").fill("VOG's ontbreken: nieuwe cliënten niet meer verwijzen.")
        page.get_by_role("button", name="Verder: gemeenten bekijken").click()
        page.get_by_role("heading", name="Bevestig: instroomstop voor 16 gemeenten").wait_for()
        assert page.locator("#gemeenten-instroomstop li").count() == 16
        page.locator("#veld-instroomstop-gronden").fill("Drie begeleiders werken zonder geldige VOG.")
        check_page(page)
        shot(page, "6-instroomstop-bevestigen")
        page.get_by_role("button", name="Ja, instroomstop opleggen").click()
        page.locator("#melding").get_by_text("De stap is gezet").wait_for()
        measure = page.locator('[data-measure="instroomstop"]')
        assert "Geldt voor 16 gemeenten" in measure.inner_text()
        assert page.locator("#huidige-stap").inner_text().startswith("Instroomstop")
        check_page(page)
        shot(page, "7-instroomstop-van-kracht")
    finally:
        luuk.close()

    # 4. Tessa (toegang Maastricht) finds the notice under the bell and opens the register from it;
    #    the accessibility statement is public
    tessa, page = sign_in(browser, base, "Tessa Toegang", "/meldingen")
    try:
        notice = wait_for_notice(page, "Instroomstop voor Stichting Samen Sterk Jeugdhulp")
        assert "Ongelezen" in notice.inner_text()
        check_page(page)
        shot(page, "8a-meldingen-toegang")
        open_by_keyboard(page, notice)
        page.wait_for_url(f"{base}{ZL}/instroomstops")
        row = page.locator('#instroomstops tr[data-kvk="90000002"]')
        assert "Stichting Samen Sterk Jeugdhulp" in row.inner_text() and "16 gemeenten" in row.inner_text()
        check_page(page)
        shot(page, "8-register-instroomstops")
        page.goto(f"{base}{ZL}")  # her start page: what became of the signal she filed
        assert "Escalatie geopend" in page.locator("#eigen-signalen").inner_text()
        check_page(page)
        page.get_by_role("link", name="Toegankelijkheid").click()
        page.wait_for_url(f"{base}/toegankelijkheid")
        assert "voldoet gedeeltelijk" in page.locator("main").inner_text()
        check_page(page)
    finally:
        tessa.close()


def test_seed_000_quality_branch_from_signal_to_monitoring_the_plan(platform, browser, tmp_path):
    """The other branch of seed 000: a shortcoming without consequences for safety. Tessa files it; Ilse triages it
    one choice at a time to 'administratief', reads the request for a plan of action and opens the escalation;
    Bas (De Vlinder) confirms the letter's receipt and delivers the plan, which meets the term; Ilse finds the
    ladder's proposal first on her start page, judges the plan akkoord and takes the proposed step; Luuk reads it.
    Every page: axe, the Nu HTML Checker (at the module's end) and plain Dutch (check_page)."""
    base, _ = platform
    plan = tmp_path / "Plan van aanpak rapportages.pdf"
    plan.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    summary = "De kwartaalrapportages van De Vlinder over Q2 en Q3 ontbreken."

    tessa, page = sign_in(browser, base, "Tessa Toegang", f"{ZL}/signalen/nieuw")
    try:
        page.get_by_label("Over welke aanbieder gaat het?").select_option(
            label="Jeugdzorg De Vlinder B.V. (KvK 90000001)"
        )
        page.get_by_label("Wat is er gesignaleerd?").fill(summary)
        page.get_by_role("button", name="Signaal melden").click()
        page.wait_for_url(f"{base}{ZL}/signalen/nieuw?ingediend=1")
        assert "Nieuw, nog niet beoordeeld" in page.locator("#eigen-signalen").inner_text()
        check_page(page)
    finally:
        tessa.close()

    ilse, page = sign_in(browser, base, "Ilse Inkoop", f"{ZL}/signalen")
    try:
        page.locator("#signalen tr", has_text=summary).get_by_role("link").click()
        page.get_by_label("Ja: het gaat om een tekortkoming in het kader van de DVO").check()
        page.get_by_label("Een nieuwe escalatie openen").check()  # De Vlinder has a running one to attach it to
        page.get_by_label(QUALITY_LADDER).check()
        page.get_by_label("Administratieve/verantwoordingsvereisten").check()
        page.get_by_label("Samenvatting van de tekortkoming").fill("Kwartaalrapportages Q2 en Q3 ontbreken.")
        page.get_by_label("Motivering").fill("Raakt de verantwoording in de DVO; geen gevolgen voor de veiligheid.")
        check_page(page)
        page.get_by_role("button", name="Escalatie openen").click()
        page.get_by_role("heading", name="Bevestig: escalatie openen met 1 brief").wait_for()  # the letter first
        check_page(page)
        page.get_by_role("button", name="Ja, escalatie openen en brief versturen").click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}{ZL}/escalaties/[0-9a-f-]+\?melding=geopend"))
        escalation_url = page.url.split("?")[0]
        reference = page.locator("h1").inner_text().split(":")[0].removeprefix("Escalatie ").strip()
        assert page.locator("#huidige-stap").inner_text().startswith("Aanbieder vragen om een plan van aanpak")
        assert "Jeugdzorg De Vlinder B.V. (de aanbieder)" in page.locator("#aan-zet").inner_text()
        assert "Plan van aanpak aanleveren, uiterlijk" in page.locator("#eerstvolgende-termijn").inner_text()
        check_page(page)
        shot(page, "13-kwaliteit-geopend")
    finally:
        ilse.close()

    bas, page = sign_in(browser, base, "Bas Vlinder", "/portaal")
    try:
        page.get_by_role("link", name=reference).click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}/portaal/escalaties/[0-9a-f-]+$"))
        assert page.locator("#aan-zet").inner_text().strip() == "U"
        assert "Lever een plan van aanpak aan, uiterlijk op" in page.locator("#gevraagd").inner_text()
        check_page(page)
        shot(page, "14-portaal-escalatie")
        page.locator("#te-bevestigen").get_by_role("button", name=re.compile("^Ontvangst bevestigen")).first.click()
        page.wait_for_url(re.compile(r".*/portaal/escalaties/[0-9a-f-]+.*"))
        assert "de ontvangst van de brief is bevestigd" in page.locator("main").inner_text()
        page.get_by_label("Soort document").select_option("plan_van_aanpak")
        page.get_by_label("Bestand", exact=True).set_input_files(str(plan))
        page.get_by_role("button", name="Aanleveren").click()
        page.locator("#melding", has_text="Daarmee is de termijn op tijd gehaald.").wait_for()
        check_page(page)
    finally:
        bas.close()

    ilse, page = sign_in(browser, base, "Ilse Inkoop", ZL)
    try:
        proposals = page.locator("#vandaag-voorstellen")  # first on her start page: the ladder's proposal
        assert "Team inkoop monitort het plan van aanpak" in proposals.inner_text()
        check_page(page)
        shot(page, "15-vandaag")
        proposals.get_by_role("link", name=reference).click()
        page.wait_for_url(f"{escalation_url}#te-beoordelen")
        page.locator("#wacht-op-u").get_by_role("link", name=re.compile("^Beoordelen: Plan van aanpak")).click()
        verdict = page.locator("details[id^=beoordeling-]", has_text="Plan van aanpak rapportages.pdf")
        verdict.get_by_label("Akkoord", exact=True).check()
        verdict.get_by_role("button", name="Oordeel vastleggen").click()
        page.locator("#melding").get_by_text("Uw oordeel over het document staat op de tijdlijn").wait_for()
        page.locator("#stap-monitoren_plan summary").click()
        page.locator("#motivering-monitoren_plan").fill("Plan akkoord; team inkoop volgt de doelen en acties.")
        page.locator("#stap-monitoren_plan").get_by_role("button", name="Stap zetten").click()
        page.locator("#melding").get_by_text("De stap is gezet").wait_for()
        assert page.locator("#huidige-stap").inner_text().startswith("Team inkoop monitort het plan van aanpak")
        check_page(page)
        shot(page, "16-plan-gemonitord")
    finally:
        ilse.close()

    luuk, page = sign_in(browser, base, "Luuk Leider", escalation_url.removeprefix(base))
    try:
        assert "Document beoordeeld" in page.locator("#tijdlijn-lijst").inner_text()
        page.locator("#ladder-uitklap > summary").click()  # the ladder, opened on demand
        assert page.locator("#escalatie-diagram svg").is_visible()
        check_page(page)
        page.goto(f"{base}{ZL}/te-beoordelen")
        check_page(page)
        page.goto(f"{base}{ZL}/audit")
        check_page(page)
    finally:
        luuk.close()


def test_dashboard_dossier_and_calendar_feed(platform, browser):
    """The region's dashboard (chart with its table), the dossier (asked for, built in the background, downloaded,
    announced under the bell) and the calendar feed on /account:
    axe finds nothing, and the dashboard's screenshot goes to test-artifacts/."""
    base, _ = platform
    ilse, page = sign_in(browser, base, "Ilse Inkoop", ZL)
    try:
        dashboard = page.locator("#dashboard")
        assert "Lopende escalaties per stap" in dashboard.inner_text()
        assert page.locator('#dashboard svg[role="img"]').count() == 1
        assert page.locator("#per-maand tbody tr").count() == 12
        check_page(page)
        shot(page, "9-dashboard")

        page.goto(f"{base}{ZL}/escalaties")
        page.locator("#escalaties tbody a").first.click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}{ZL}/escalaties/[0-9a-f-]+$"))
        page.get_by_role("button", name="Dossier maken").click()  # the embedded worker builds it
        link = page.get_by_role("link", name="Dossier downloaden (PDF)")
        link.wait_for(timeout=120_000)  # the block asks for its state every 5 s until the dossier is ready
        check_page(page)
        with page.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename.startswith("dossier-") and download.suggested_filename.endswith(".pdf")
        download.save_as(ARTIFACTS / "werkruimte-dossier.pdf")  # for review, next to the screenshots
        page.goto(f"{base}/meldingen")  # and the notice with the link is under the bell
        assert re.search(r"Dossier \S+ is klaar om te downloaden", page.locator("main").inner_text())

        page.goto(f"{base}/account")
        page.get_by_role("button", name="Agenda-adres maken").click()
        page.wait_for_url(f"{base}/account#agenda")
        address = page.get_by_label("Agenda-adres (abonneren via internet in uw agenda)").input_value()
        assert re.fullmatch(rf"{re.escape(base)}/agenda/[A-Za-z0-9_-]+\.ics", address)
        check_page(page)
        shot(page, "10-account-agenda")
        feed = page.request.get(address)
        assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VEVENT" in feed.text()
    finally:
        ilse.close()


def test_the_provider_sees_the_lift_and_the_closure_without_reloading_the_region(platform, browser):
    """Luuk imposes an intake stop on De Vlinder, lifts it and closes the escalation, each in place (htmx): the
    status, the next actions and the timeline follow without a reload. Bas (De Vlinder) finds the lift and the
    closure under the bell and opens the escalation from the closure's notice."""
    base, _ = platform
    luuk, page = sign_in(browser, base, "Luuk Leider", f"{ZL}/escalaties?zoek=90000001")
    try:  # the demo's safety escalation (the quality one opened above is De Vlinder's too)
        page.locator("#escalaties tbody tr", has_text="Geen geldige VOG werknemers").get_by_role("link").first.click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}{ZL}/escalaties/[0-9a-f-]+$"))
        escalation_url = page.url
        assert page.locator("#status").inner_text() == "Lopend"
        page.locator("#stap-instroomstop summary").click()
        page.locator("#motivering-instroomstop").fill("Drie medewerkers zonder geldige VOG.")
        page.get_by_role("button", name="Verder: gemeenten bekijken").click()
        page.get_by_role("button", name=re.compile(r"^Ja, instroomstop opleggen")).click()
        page.locator("#melding").get_by_text("De stap is gezet").wait_for()
        assert page.locator("#huidige-stap").inner_text().startswith("Instroomstop")

        page.get_by_label("Motivering voor het opheffen van de instroomstop").fill("De VOG's zijn op orde.")
        page.get_by_role("button", name="Instroomstop opheffen").click()
        page.locator("#melding").get_by_text("De maatregel is opgeheven").wait_for()
        assert "Er is geen maatregel van kracht." in page.locator("#inhoud").inner_text()

        page.locator("#afsluiten summary").click()
        page.get_by_label("Uitkomst").select_option("hersteld")
        page.locator("#afsluiten-motivering").fill("Hersteld: de VOG's zijn aangeleverd.")
        page.get_by_role("button", name="Escalatie afsluiten").click()
        page.locator("#melding").get_by_text("De escalatie is afgesloten").wait_for()
        # without a reload: the status block, the next actions and the timeline are those of now
        assert page.url == escalation_url
        assert page.locator("#status").inner_text().startswith("Afgesloten")
        assert page.locator("#afsluiten").count() == 0 and page.locator('[id^="stap-"]').count() == 0
        assert "Hersteld: de VOG's zijn aangeleverd." in page.locator("#tijdlijn-lijst li").first.inner_text()
        check_page(page)
        shot(page, "11-escalatie-afgesloten")
    finally:
        luuk.close()

    bas, page = sign_in(browser, base, "Bas Vlinder", "/meldingen")
    try:
        assert wait_for_notice(page, "Instroomstop voor Jeugdzorg De Vlinder B.V. opgeheven").count() == 1
        closure = wait_for_notice(page, "van Jeugdzorg De Vlinder B.V. is afgesloten")
        check_page(page)
        shot(page, "12-meldingen-aanbieder")
        open_by_keyboard(page, closure)
        page.wait_for_url(re.compile(rf"{re.escape(base)}/portaal/escalaties/[0-9a-f-]+$"))
        assert re.search(r"Status\s+afgesloten", page.locator(".trede-facts").inner_text())
        check_page(page)
    finally:
        bas.close()
