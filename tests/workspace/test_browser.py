"""Seed 000 end to end in a real browser (Debian's chromium via Playwright) against `trede serve --embedded` and the
local OpenID provider: Tessa (toegang Maastricht) files a signal, Ilse (team inkoop) triages it to safety / VOG
werknemers and moves the steps, Luuk (teamleider inkoop) imposes the intake stop after seeing the 16
municipalities, and Tessa finds it in the register. axe-core (WCAG 2.1 A/AA) runs on every page and state visited;
screenshots of the main pages go to test-artifacts/ (ignored by git).
"""

from __future__ import annotations

import re

import pytest

from tests.browser_support import ARTIFACTS, assert_accessible, running_platform, screenshot

ZL = "/regio/zuid-limburg"


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


def test_seed_000_from_signal_to_intake_stop(platform, browser):
    base, _ = platform
    summary = "Drie begeleiders van Samen Sterk werken zonder geldige VOG."

    # 1. Tessa, toegang Maastricht, files the signal
    tessa, page = sign_in(browser, base, "Tessa Toegang", f"{ZL}/signalen/nieuw")
    try:
        assert_accessible(page)
        page.get_by_label("Over welke aanbieder gaat het?").select_option(
            label="Stichting Samen Sterk Jeugdhulp (KvK 90000002)"
        )
        page.get_by_label("Gemeente (niet verplicht)").select_option(label="Maastricht")
        page.get_by_role("button", name="Signaal melden").click()  # nothing described yet: refused
        assert "Beschrijf wat er is gesignaleerd." in page.locator("#omschrijving-fout").inner_text()
        assert_accessible(page)
        page.get_by_label("Wat is er gesignaleerd?").fill(summary)
        page.get_by_role("button", name="Signaal melden").click()
        page.wait_for_url(f"{base}{ZL}/signalen/nieuw?ingediend=1")
        assert "Het signaal is doorgegeven aan het team inkoop" in page.locator("main").inner_text()
        assert_accessible(page)
        shot(page, "1-signaal-melden")
    finally:
        tessa.close()

    # 2. Ilse, team inkoop: "raakt het de DVO?" yes, safety, VOG werknemers; the escalation opens
    ilse, page = sign_in(browser, base, "Ilse Inkoop", f"{ZL}/signalen")
    try:
        assert summary in page.locator("#signalen").inner_text()
        assert_accessible(page)
        shot(page, "2-signalen")
        page.locator("#signalen a").first.click()
        page.get_by_label("Ja: het gaat om een tekortkoming in het kader van de DVO").check()
        page.get_by_label("Een nieuwe escalatie openen").check()
        page.get_by_label("Geen geldige VOG werknemers (niet ouder dan 3 jaar)").check()
        page.get_by_label("Bij een nieuwe escalatie: samenvatting van de tekortkoming").fill(
            "VOG's van drie begeleiders"
        )
        assert_accessible(page)
        shot(page, "3-signaal-beoordelen")
        page.get_by_label("Motivering").fill("Raakt de veiligheid van cliënten: direct gesprek en instroomstop.")
        page.get_by_role("button", name="Besluit vastleggen").click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}{ZL}/escalaties/[0-9a-f-]+\?melding=geopend"))
        escalation_url = page.url.split("?")[0]
        assert page.locator('[aria-current="step"]').inner_text().startswith("Gesprek aanbieder direct")
        assert_accessible(page)
        shot(page, "4-escalatie-geopend")

        # a step without a motivation (htmx): the error appears next to the field, in place
        page.locator("#stap-afspraken_per_brief summary").click()
        page.locator("#stap-afspraken_per_brief").get_by_role("button", name="Verder: brief bekijken").click()
        error = page.locator("#motivering-afspraken_per_brief-fout")
        error.wait_for()
        assert "Geef een motivering" in error.inner_text()
        assert_accessible(page)
        page.locator("#motivering-afspraken_per_brief").fill("Gesprek gevoerd; afspraken per brief bevestigd.")
        page.locator("#stap-afspraken_per_brief").get_by_role("button", name="Verder: brief bekijken").click()
        # the step sends a letter: its preview first (the letter's text in the page), then send it
        page.get_by_role("heading", name="Voorbeeld van de brief: Bevestiging van de gemaakte afspraken").wait_for()
        preview = page.locator("#brief-bevestiging_afspraken").inner_text()
        assert "Gesprek gevoerd; afspraken per brief bevestigd." in preview
        assert_accessible(page)
        shot(page, "4b-brief-voorbeeld")
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
        assert_accessible(page)
        page.get_by_role("button", name="Ontvangst van de brief vastleggen").click()
        page.locator("#melding").get_by_text("De ontvangst van de brief is vastgelegd").wait_for()
        assert "Track-and-trace-code 3SABCD1234567" in page.locator("#tijdlijn-lijst").inner_text()
        assert page.locator("#documenten").get_by_role("link", name="bevestiging-afspraken").count() == 1
        assert page.url.split("?")[0] == escalation_url  # swapped in place, no reload
        assert page.locator('[aria-current="step"]').inner_text().startswith("Afspraken per brief vastgelegd")
        assert "Stap gezet" in page.locator("#tijdlijn-lijst").inner_text()
        assert "Alleen een teamleider inkoop kan deze stap zetten" in page.locator("#stap-instroomstop").text_content()
        page.get_by_label("Interne notitie").fill("Directeur telefonisch gesproken.")
        page.get_by_role("button", name="Notitie opslaan").click()
        page.locator("#melding").get_by_text("interne notitie").wait_for()
        assert "Intern: niet zichtbaar voor de aanbieder" in page.locator("#tijdlijn-lijst li").first.inner_text()
        assert_accessible(page)

        page.goto(f"{base}{ZL}/escalaties")
        page.get_by_label("Zoek op aanbieder, KvK-nummer of kenmerk").fill("90000002")
        page.get_by_role("button", name="Filteren").click()
        page.wait_for_url(re.compile(r".*zoek=90000002.*"))
        assert page.locator("#escalaties tbody tr").count() == 2  # the demo one and the new one
        assert_accessible(page)
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
        assert_accessible(page)
        shot(page, "6-instroomstop-bevestigen")
        page.get_by_role("button", name="Ja, instroomstop opleggen").click()
        page.locator("#melding").get_by_text("De stap is gezet").wait_for()
        measure = page.locator('[data-measure="instroomstop"]')
        assert "Geldt voor 16 gemeenten" in measure.inner_text()
        assert page.locator('[aria-current="step"]').inner_text().startswith("Instroomstop")
        assert_accessible(page)
        shot(page, "7-instroomstop-van-kracht")
    finally:
        luuk.close()

    # 4. Tessa finds the provider in the register; the accessibility statement is public
    tessa, page = sign_in(browser, base, "Tessa Toegang", f"{ZL}/instroomstops")
    try:
        row = page.locator('#instroomstops tr[data-kvk="90000002"]')
        assert "Stichting Samen Sterk Jeugdhulp" in row.inner_text() and "16 gemeenten" in row.inner_text()
        assert_accessible(page)
        shot(page, "8-register-instroomstops")
        page.goto(f"{base}{ZL}")
        assert_accessible(page)
        page.get_by_role("link", name="Toegankelijkheid").click()
        page.wait_for_url(f"{base}/toegankelijkheid")
        assert "voldoet gedeeltelijk" in page.locator("main").inner_text()
        assert_accessible(page)
    finally:
        tessa.close()


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
        assert_accessible(page)
        shot(page, "9-dashboard")

        page.goto(f"{base}{ZL}/escalaties")
        page.locator("#escalaties tbody a").first.click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}{ZL}/escalaties/[0-9a-f-]+$"))
        page.get_by_role("button", name="Dossier maken").click()  # the embedded worker builds it
        link = page.get_by_role("link", name="Dossier downloaden (PDF)")
        link.wait_for(timeout=120_000)  # the block asks for its state every 5 s until the dossier is ready
        assert_accessible(page)
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
        assert_accessible(page)
        shot(page, "10-account-agenda")
        feed = page.request.get(address)
        assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VEVENT" in feed.text()
    finally:
        ilse.close()
