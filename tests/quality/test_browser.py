"""In a real browser (Debian's chromium via Playwright) against `trede serve --embedded` with the demo data and the
local OpenID provider: Vera Vlinder submits her quarter's figures for Zuid-Limburg as CSV — a file with a bad row is
refused with the row and column named, nothing stored; the corrected file is accepted. Ilse Inkoop sees the
benchmark chart with De Vlinder against the region's median, and the out-of-norm complaints figure as a signal in
triage that links back to the figure. Every new page passes axe-core (WCAG 2.1 A/AA); screenshots go to
test-artifacts/."""

from __future__ import annotations

import pytest

from apps.quality.indicators import last_closed_period, period_label
from core.clock import system_clock
from tests.browser_support import check_page, log_in, running_platform, screenshot


def shot(page, name: str) -> None:
    screenshot(page, f"kwaliteit-{name}")


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(tmp_path_factory) as running:
        yield running.base


def test_a_quarter_submitted_as_csv_is_benchmarked_and_out_of_norm_complaints_reach_triage(platform, browser, tmp_path):
    base = platform
    quarter = last_closed_period("kwartaal", system_clock.today())
    bad = tmp_path / "kwartaalcijfers-fout.csv"
    bad.write_text(
        "indicator;periode;waarde;toelichting\n"
        f"klachten;{quarter};9;twee over de wachttijd\n"
        f"clienttevredenheid;{quarter};zeven komma acht;\n"
        f"doelen_behaald;{quarter};74;\n",
        encoding="utf-8",
    )
    good = tmp_path / "kwartaalcijfers.csv"
    good.write_text(
        "indicator;periode;waarde;toelichting\n"
        f"klachten;{quarter};9;twee over de wachttijd\n"
        f"clienttevredenheid;{quarter};7,8;\n"
        f"doelen_behaald;{quarter};74;\n"
        f"wachttijd;{quarter};35;\n",
        encoding="utf-8",
    )

    vera_context = browser.new_context(bypass_csp=True)  # only so that axe-core can be injected
    vera = vera_context.new_page()
    log_in(vera, base, "Vera Vlinder", "/portaal")
    vera.get_by_role("link", name="Kwaliteitscijfers").click()
    vera.wait_for_url(f"{base}/portaal/kwaliteit")
    assert "Jeugdhulp Zuid-Limburg" in vera.locator("main").inner_text()
    check_page(vera)

    # One bad row: the whole file is refused, the row and column named; nothing is stored.
    vera.get_by_label("Regio").select_option("zuid-limburg")
    vera.get_by_label("CSV-bestand", exact=True).set_input_files(str(bad))
    vera.get_by_role("button", name="CSV verwerken").click()
    errors = vera.locator("#csv-fouten").inner_text()
    assert "het bestand is niet verwerkt; er is niets vastgelegd" in errors
    assert "Rij 3, kolom ‘waarde’: ‘zeven komma acht’ is geen getal" in errors
    assert vera.get_by_label("CSV-bestand", exact=True).get_attribute("aria-invalid") == "true"
    table = vera.locator("#tabel-zuid-limburg-klachten").inner_text()
    assert "niet aangeleverd" in table.splitlines()[2]  # the newest quarter: still empty
    check_page(vera)
    shot(vera, "csv-geweigerd")

    vera.get_by_label("Regio").select_option("zuid-limburg")
    vera.get_by_label("CSV-bestand", exact=True).set_input_files(str(good))
    vera.get_by_role("button", name="CSV verwerken").click()
    vera.wait_for_url(f"{base}/portaal/kwaliteit")
    assert "4 cijfers vastgelegd" in vera.locator("#melding").inner_text()
    row = vera.locator("#tabel-zuid-limburg-klachten tbody tr").first.inner_text()
    assert period_label(quarter) in row and "9" in row and "buiten de norm" in row
    check_page(vera)
    shot(vera, "portaal")

    vera.get_by_role("link", name="Cijfers aanleveren of corrigeren").click()
    vera.wait_for_url(f"{base}/portaal/kwaliteit/aanleveren")
    check_page(vera)
    vera_context.close()

    ilse_context = browser.new_context(bypass_csp=True)
    ilse = ilse_context.new_page()
    log_in(ilse, base, "Ilse Inkoop", "/regio/zuid-limburg/kwaliteit")
    check_page(ilse)
    shot(ilse, "regio-overzicht")
    ilse.get_by_role("link", name="Ontvangen klachten").click()
    ilse.get_by_label("Aanbieder", exact=True).select_option(label="Jeugdzorg De Vlinder B.V.")
    ilse.get_by_role("button", name="Tonen").click()
    ilse.wait_for_url("**/kwaliteit/indicatoren/klachten?**")
    chart = ilse.locator("#grafiek-vergelijking")
    assert chart.is_visible() and chart.get_attribute("role") == "img"
    assert "Mediaan" in chart.locator("desc").text_content()
    assert chart.locator("circle.trede-grafiek__punt--gekozen").count() == 1  # De Vlinder, against the others
    vlinder = ilse.locator('#vergelijking-tabel tr[data-provider="Jeugdzorg De Vlinder B.V."]').inner_text()
    assert "9" in vlinder and "buiten de norm" in vlinder
    assert ilse.locator("#mediaan").inner_text() != "–"
    assert ilse.locator("#grafiek-verloop").is_visible()
    check_page(ilse)
    shot(ilse, "benchmark")

    # The out-of-norm complaints: a signal in the same triage as every other signal, linking back to the figure.
    ilse.get_by_role("link", name="Signalen", exact=True).click()
    signal = ilse.locator("#signalen tr", has_text="Ontvangen klachten over")
    assert "buiten de norm" in signal.inner_text() and "Jeugdzorg De Vlinder B.V." in signal.inner_text()
    signal.get_by_role("link").click()
    ilse.get_by_role("link", name=f"Ontvangen klachten, {period_label(quarter)}").click()
    ilse.wait_for_url("**/kwaliteit/cijfers/**")
    assert "buiten de norm" in ilse.locator("#cijfer").inner_text()
    assert ilse.locator("#signalen-bij-cijfer").is_visible()
    check_page(ilse)
    shot(ilse, "cijfer")
    ilse_context.close()
