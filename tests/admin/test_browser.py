"""Issue 8 end to end in a real browser (Debian's chromium via Playwright) against `trede serve --embedded` and the
local OpenID provider: Bram (platform admin) onboards Holland Rijnland from the Zuid-Limburg template, sets its
colours, closed day, logo and a provider contract, changes a term on the ladder editor, sees the difference and
publishes version 2, and invites the first purchasing team lead. Henk accepts by logging in through the OpenID
provider and opens the region's first escalation on the new ladder version: its deadline is the new term and the
ladder diagram shows the current step. axe-core (WCAG 2.1 A/AA) runs on every admin page; screenshots go to
test-artifacts/ (ignored by git)."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from apps.audit.descriptions import ACTIONS_NL
from tests.browser_support import assert_accessible, mailed_link, running_platform, screenshot
from tests.support import ROOT

ARTIFACTS = ROOT / "test-artifacts"
HR = "/beheer/regios/holland-rijnland"


def tiny_png() -> bytes:
    """A real 1×1 PNG (a logo the browser can draw)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x46\x8c"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """The running platform, and where its database is (the test reads the invitation e-mail's link there)."""
    with running_platform(tmp_path_factory) as running:
        yield running.base, running.database_url, running.var_dir


def shot(page, name: str) -> None:
    screenshot(page, f"beheer-{name}")


def checked(page, name: str) -> None:
    assert_accessible(page)
    shot(page, name)


def test_a_platform_admin_onboards_holland_rijnland_and_its_lead_opens_the_first_escalation(
    platform,
    browser,
    tmp_path,
):
    base, database, var_dir = platform
    context = browser.new_context(bypass_csp=True)  # only so that axe-core can be injected
    page = context.new_page()
    try:
        page.goto(f"{base}/beheer/regios")
        page.get_by_role("link", name="Inloggen met de lokale OpenID-provider").click()
        page.get_by_role("button", name="Bram Beheer").click()
        page.wait_for_url(f"{base}/beheer/regios")
        checked(page, "1-regios")
        page.get_by_role("link", name="Nieuwe regio aanmaken").click()
        checked(page, "2-nieuwe-regio")
        page.get_by_label("Naam van de regio").fill("Holland Rijnland")
        page.get_by_label("Korte naam in adressen").fill("Holland Rijnland")  # not a slug: refused
        page.get_by_role("button", name="Regio aanmaken").click()
        assert "Gebruik kleine letters, cijfers en streepjes" in page.locator("#slug-fout").inner_text()
        assert page.get_by_label("Naam van de regio").input_value() == "Holland Rijnland"  # nothing typed is lost
        checked(page, "3-nieuwe-regio-fouten")
        page.get_by_label("Korte naam in adressen").fill("holland-rijnland")
        page.get_by_label("Kwaliteitsmodel Zuid-Limburg").check()
        page.get_by_label("Jeugdregio").select_option(label="Holland Rijnland (13 gemeenten)")
        page.get_by_label("E-mailadres van de toegang (voor alle gemeenten)").fill("toegang@hollandrijnland.example")
        page.get_by_label("Team inkoop").fill("inkoop@hollandrijnland.example")
        page.get_by_label("Gecertificeerde instellingen (GI's)").fill("gi@hollandrijnland.example")
        page.get_by_label("Inspectie Gezondheidszorg en Jeugd").fill("meldingen@igj.example")
        page.get_by_label("Afzender").fill("Team inkoop Jeugdhulp Holland Rijnland")
        page.get_by_label("Plaats in de datumregel").fill("Leiden")
        page.get_by_label("Ondertekening").fill("Het team inkoop Jeugdhulp Holland Rijnland")
        page.get_by_label("E-mailadres voor antwoorden").fill("inkoop@hollandrijnland.example")
        page.get_by_role("button", name="Regio aanmaken").click()
        page.wait_for_url(f"{base}{HR}?melding=aangemaakt")
        assert "Leiderdorp" in page.locator("main").inner_text()
        checked(page, "4-regio")

        page.get_by_label("Hoofdkleur (knoppen en links)").fill("#00468c")
        page.get_by_role("button", name="Kleuren opslaan").click()
        page.wait_for_url(re.compile(r".*melding=kleuren.*"))
        page.get_by_label("Datum", exact=True).fill("2026-12-24")
        page.get_by_label("Waarom gesloten").fill("Kerstavond")
        page.get_by_role("button", name="Gesloten dag toevoegen").click()
        page.wait_for_url(re.compile(r".*melding=gesloten_dagen.*"))
        logo = tmp_path / "logo.png"
        logo.write_bytes(tiny_png())
        page.get_by_label(re.compile("Logo voor de brieven")).set_input_files(str(logo))
        page.get_by_role("button", name="Logo opslaan").click()
        page.wait_for_url(re.compile(r".*melding=logo.*"))
        page.get_by_label("KvK-nummer van de aanbieder").fill("90000001")
        page.get_by_label("Kenmerk van het contract").fill("DVO-HR-2026-001")
        page.get_by_label("Ingangsdatum").fill("2026-01-01")
        page.get_by_role("button", name="Contract vastleggen").click()
        page.wait_for_url(re.compile(r".*melding=contract.*"))
        assert "DVO-HR-2026-001" in page.locator("#contractenlijst").inner_text()
        checked(page, "5-regio-ingericht")

        # The ladder editor (issue 18 point 6): form fields, the diagram beside them follows every change (htmx);
        # change the term of "plan van aanpak" from 2 to 3 weeks, check, see the diff, publish.
        page.locator("#ladders").get_by_role("link", name=re.compile("^bewerken")).click()
        checked(page, "6-ladder-bewerken")
        page.locator("#s0 > summary").click()  # open step 1
        amount = page.get_by_label("Aantal (stap 1, termijn 1)", exact=True)
        assert amount.input_value() == "2" and page.get_by_label("Eenheid (stap 1, termijn 1)").input_value() == "weken"
        title = page.get_by_label("Titel (stap 1)", exact=True)
        title.fill("Plan van aanpak vragen")
        title.press("Tab")  # a change: the diagram is drawn anew, without a submit
        expect(page.locator("#voorbeeld svg")).to_contain_text("Plan van aanpak vragen")
        expect(page.locator("#voorbeeld-status")).to_have_text("Het voorbeeld is bijgewerkt.")
        amount.fill("drie")
        amount.press("Tab")
        expect(page.locator("#voorbeeld")).to_contain_text("‘drie’ is geen aantal")  # the diagram waits for it
        checked(page, "7-ladder-voorbeeld-probleem")
        page.get_by_role("button", name="Controleren en wijzigingen tonen").first.click()
        assert "‘drie’ is geen aantal" in page.locator("#s0-t0-amount-fout").inner_text()
        assert page.get_by_label("Titel (stap 1)", exact=True).input_value() == "Plan van aanpak vragen"  # kept
        checked(page, "7-ladder-fout")
        page.get_by_label("Aantal (stap 1, termijn 1)", exact=True).fill("3")
        page.get_by_role("button", name="Controleren en wijzigingen tonen").first.click()
        assert "gewijzigd van 2 weken in 3 weken" in page.locator("#wijzigingen").inner_text()
        checked(page, "8-ladder-verschillen")
        page.get_by_label("Toelichting bij deze versie").fill("Plan van aanpak binnen drie weken")
        page.get_by_role("button", name="Publiceren").click()
        page.wait_for_url(re.compile(r".*/ladders/kwaliteit\?gepubliceerd=2"))
        assert "Versie 2 is gepubliceerd" in page.locator("main").inner_text()
        checked(page, "9-ladder")
        page.get_by_role("link", name="TOML importeren of exporteren (voor experts)").click()
        checked(page, "9-ladder-toml")
        page.goto(f"{base}{HR}")
        page.get_by_role("link", name="Nieuwe ladder toevoegen").click()
        checked(page, "9-nieuwe-ladder-kiezen")
        page.get_by_label("Naam van de ladder").fill("Contractladder")
        page.get_by_label(re.compile("^Sjabloon: Escalatieladder niet-nakoming")).check()
        page.get_by_role("button", name="Ladder opzetten en bewerken").click()
        assert "Nieuwe ladder: Contractladder" in page.locator("h1").inner_text()
        checked(page, "9-nieuwe-ladder")

        page.goto(f"{base}{HR}")
        page.get_by_label("E-mailadres van de teamleider inkoop").fill("h.nieuwland@regio.localhost")
        page.get_by_role("button", name="Uitnodiging versturen").click()
        page.wait_for_url(re.compile(r".*melding=uitgenodigd.*"))
        assert "h.nieuwland@regio.localhost" in page.locator("#uitnodigingen").inner_text()
        page.goto(f"{base}/beheer/audit?regio=holland-rijnland")
        log = page.locator("#auditlog").inner_text()
        for action in ("admin.region.create", "admin.region.kleuren", "admin.region.logo", "ladder.publish",
                       "invitation.sent"):  # fmt: skip
            assert ACTIONS_NL[action] in log  # the log says each decision in Dutch
        checked(page, "10-audit")
        # The notices of every region: the invitation waits or went, in one list with its region.
        page.goto(f"{base}/beheer/meldingen?status=sent")
        page.get_by_role("link", name=re.compile(r"^Wacht op verzending")).click()
        page.wait_for_url(re.compile(r".*status=pending.*"))
        beheer = page.get_by_role("navigation", name="Beheer")
        expect(beheer.get_by_role("link", name="Meldingen")).to_have_attribute("aria-current", "page")
        checked(page, "11-meldingen")
    finally:
        context.close()

    # Henk follows the link in the invitation e-mail and accepts it by logging in through the OpenID provider.
    link = mailed_link(var_dir, "h.nieuwland@regio.localhost")
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(link)
        page.get_by_role("link", name=re.compile("^Inloggen met .* en aanvaarden$")).click()
        page.get_by_role("button", name="Henk Nieuwland").click()
        page.wait_for_url(link)
        assert "U heeft de uitnodiging aanvaard" in page.locator("main").inner_text()
        assert_accessible(page)

        page.goto(f"{base}/regio/holland-rijnland/signalen/nieuw")
        if page.get_by_label("Wie meldt het signaal?").count():
            page.get_by_label("Wie meldt het signaal?").fill("Henk Nieuwland, teamleider inkoop")
        page.get_by_label("Over welke aanbieder gaat het?").select_option(
            label="Jeugdzorg De Vlinder B.V. (KvK 90000001)"
        )
        page.get_by_label("Wat is er gesignaleerd?").fill("De kwartaalrapportage over Q3 ontbreekt.")
        page.get_by_role("button", name="Signaal melden").click()
        page.goto(f"{base}/regio/holland-rijnland/signalen")
        page.locator("#signalen a").first.click()
        # one choice at a time: nothing to attach it to and one ladder, so "ja" shows that ladder's categories
        page.get_by_label("Ja: het gaat om een tekortkoming in het kader van de DVO").check()
        page.get_by_label("Administratieve/verantwoordingsvereisten").check()
        page.get_by_label("Samenvatting van de tekortkoming").fill("Kwartaalrapportage Q3")
        page.get_by_label("Motivering").fill("Eerste escalatie van Holland Rijnland.")
        page.get_by_role("button", name="Escalatie openen").click()
        # The start step sends the request for a plan of action: Henk reads it before anything goes.
        assert "Voorbeeld van de brief" in page.locator("#openen-bevestigen").inner_text()
        checked(page, "11-brief-bij-openen")
        page.get_by_role("button", name="Ja, escalatie openen en brief versturen").click()
        page.wait_for_url(
            re.compile(rf"{re.escape(base)}/regio/holland-rijnland/escalaties/[0-9a-f-]+\?melding=geopend")
        )
        main = page.locator("main").inner_text()
        assert "(versie 2)" in main  # the escalation runs on the version just published
        assert "3 weken" in page.locator("#termijnen").inner_text()
        diagram = page.locator("#escalatie-diagram svg")
        assert diagram.get_attribute("role") == "img" and "▶ huidige stap" in diagram.inner_html()
        checked(page, "11-eerste-escalatie")
    finally:
        context.close()
