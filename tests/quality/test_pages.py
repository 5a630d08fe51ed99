"""Quality figures over HTTP, logged in through the real local OpenID provider: Vera Vlinder submits a quarter's
figures (a form; a CSV refused whole for one bad row, then accepted), sees her own figures and the anonymised median
but never another provider's figure; the purchasing team of Zuid-Limburg sees the benchmark, the figure page, the
signal the complaints raised with its link back, and exports the figures as CSV."""

from __future__ import annotations

import pytest

from apps.escalations.tables import Signal
from apps.providers.tables import Provider
from apps.quality.indicators import last_closed_period
from apps.quality.tables import QualityFigure
from core.clock import system_clock
from tests.accounts.support import app_client, load_world, login
from tests.csv_support import EVIL_NAME, sheet_rows
from tests.quality.support import clock_at, provider_in, region, submit

VLINDER_KVK = "90000001"


@pytest.fixture
async def world(db, dev_op):
    await load_world(dev_op.issuer)


def token(http) -> str:
    return http.cookies.get("csrftoken")


def quarter() -> str:
    return last_closed_period("kwartaal", system_clock.today())


async def vlinder_figures() -> int:
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    scope = await region("zuid-limburg")
    return await scope.count(QualityFigure).where(QualityFigure.provider == vlinder.id)


async def test_a_provider_submits_by_form_and_by_csv_all_rows_or_none(world, oidc_settings):
    period = quarter()
    async with app_client(oidc_settings) as http:
        page = await login(http, "vlinder-medewerker", "/portaal/kwaliteit")
        assert page.status_code == 200
        assert "Jeugdhulp Zuid-Limburg" in page.text and "Jeugdhulp Lekstroom" in page.text
        assert "Ontvangen klachten" in page.text and 'role="img"' in page.text
        before = await vlinder_figures()

        bad = f"indicator;periode;waarde;toelichting\nklachten;{period};2;\nwachttijd;{period};lang;\n"
        refused = await http.post(
            "/portaal/kwaliteit/csv",
            data={"_csrf_token": token(http), "regio": "zuid-limburg"},
            files={"bestand": ("cijfers.csv", bad.encode(), "text/csv")},
        )
        assert refused.status_code == 422
        assert "Rij 3, kolom ‘waarde’: ‘lang’ is geen getal" in refused.text
        assert "er is niets vastgelegd" in refused.text
        assert await vlinder_figures() == before  # the good row 2 was not stored either

        good = f"indicator;periode;waarde;toelichting\nklachten;{period};2;\nwachttijd;{period};31;via HR-systeem\n"
        accepted = await http.post(
            "/portaal/kwaliteit/csv",
            data={"_csrf_token": token(http), "regio": "zuid-limburg"},
            files={"bestand": ("cijfers.csv", good.encode(), "text/csv")},
        )
        assert accepted.status_code == 303
        page = await http.get(accepted.headers["location"])
        assert "2 cijfers vastgelegd" in page.text
        assert await vlinder_figures() == before + 2

        # The form: an impossible figure is refused next to its field, with everything typed kept.
        form = await http.get(f"/portaal/kwaliteit/aanleveren?regio=zuid-limburg&periode={period}")
        assert form.status_code == 200 and 'value="31"' in form.text  # a correction starts from the current figure
        data = {"_csrf_token": token(http), "regio": "zuid-limburg", "periode": period,
                "waarde_clienttevredenheid": "12", "toelichting_clienttevredenheid": "enquête najaar",
                "waarde_doelen_behaald": "74"}  # fmt: skip
        wrong = await http.post("/portaal/kwaliteit/aanleveren", data=data)
        assert wrong.status_code == 422
        assert 'id="waarde_clienttevredenheid-fout"' in wrong.text and "Een score ligt tussen 0 en 10." in wrong.text
        assert "enquête najaar" in wrong.text and 'value="74"' in wrong.text
        assert await vlinder_figures() == before + 2
        data["waarde_clienttevredenheid"] = "7,8"
        ok = await http.post("/portaal/kwaliteit/aanleveren", data=data)
        assert ok.status_code == 303
        assert await vlinder_figures() == before + 4


async def test_a_provider_sees_the_median_but_never_another_providers_figure(world, oidc_settings):
    scope = await region("zuid-limburg")
    period = quarter()
    clock = clock_at(*period_end_plus_one(period))
    others = [await provider_in(scope, "93000001", "Derde Aanbieder"), await provider_in(scope, "93000002", "Vierde")]
    samen = await Provider.objects().where(Provider.kvk_number == "90000002").first()
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    # Distinctive numbers: the median of 11, 4321, 1234 and (Vlinder) 17 is 625,5; none may leak.
    await submit(scope, others[0], "wachttijd", period, 4321, clock)
    await submit(scope, others[1], "wachttijd", period, 1234, clock)
    await scope.update(QualityFigure, {QualityFigure.value: 11}).where(
        (QualityFigure.provider == samen.id) & (QualityFigure.period == period)
    )
    grens = await Provider.objects().where(Provider.kvk_number == "90000005").first()  # the demo's fifth provider
    await scope.delete(QualityFigure).where((QualityFigure.provider == grens.id) & (QualityFigure.period == period))
    await submit(scope, vlinder, "wachttijd", period, 17, clock)
    async with app_client(oidc_settings) as http:
        page = await login(http, "vlinder-medewerker", "/portaal/kwaliteit")
        text = page.text
        assert "625,5" in text  # the anonymised median
        for leaked in ("4321", "4.321", "1234", "1.234", "Derde Aanbieder", "Stichting Samen Sterk"):
            assert leaked not in text
        # The region's pages and export are not the provider's.
        for path in ("/regio/zuid-limburg/kwaliteit", "/regio/zuid-limburg/kwaliteit/indicatoren/wachttijd",
                     f"/regio/zuid-limburg/kwaliteit/export.csv?indicator=wachttijd&periode={period}"):  # fmt: skip
            assert (await http.get(path)).status_code in (403, 404)


def period_end_plus_one(period: str) -> tuple[int, int, int]:
    from datetime import timedelta

    from apps.quality.indicators import period_end

    day = period_end(period) + timedelta(days=1)
    return day.year, day.month, day.day


async def test_the_region_sees_the_benchmark_the_signal_and_exports_it(world, oidc_settings):
    period = quarter()
    async with app_client(oidc_settings) as vera:
        await login(vera, "vlinder-medewerker", "/portaal/kwaliteit")
        posted = await vera.post(
            "/portaal/kwaliteit/aanleveren",
            data={"_csrf_token": token(vera), "regio": "zuid-limburg", "periode": period, "waarde_klachten": "9"},
        )
        assert posted.status_code == 303
    scope = await region("zuid-limburg")
    signal = await scope.objects(Signal).where(Signal.source == "indicator").first()
    assert signal is not None and "buiten de norm" in signal.description
    figure = await scope.objects(QualityFigure).where(
        (QualityFigure.period == period) & (QualityFigure.value == 9)
    ).first()  # fmt: skip
    async with app_client(oidc_settings) as ilse:
        overview = await login(ilse, "zl-inkoop", "/regio/zuid-limburg/kwaliteit")
        assert overview.status_code == 200 and "Ontvangen klachten" in overview.text
        page = await ilse.get(
            f"/regio/zuid-limburg/kwaliteit/indicatoren/klachten?periode={period}&aanbieder={figure.provider}"
        )
        assert page.status_code == 200
        assert 'id="grafiek-vergelijking"' in page.text and 'id="grafiek-verloop"' in page.text
        assert "Jeugdzorg De Vlinder B.V." in page.text and "Stichting Samen Sterk Jeugdhulp" in page.text
        assert "<strong>buiten de norm</strong>" in page.text and 'id="mediaan"' in page.text
        assert f"/kwaliteit/cijfers/{figure.id}" in page.text
        # The triage page of the signal links back to the figure; the figure page to the signal.
        triage = await ilse.get(f"/regio/zuid-limburg/signalen/{signal.id}")
        assert f'href="/regio/zuid-limburg/kwaliteit/cijfers/{figure.id}"' in triage.text
        figure_page = await ilse.get(f"/regio/zuid-limburg/kwaliteit/cijfers/{figure.id}")
        assert figure_page.status_code == 200 and f"/regio/zuid-limburg/signalen/{signal.id}" in figure_page.text
        # the export in the dialect of every export; a provider named like a formula comes out as text
        await Provider.update({Provider.name: EVIL_NAME}).where(Provider.name == "Stichting Samen Sterk Jeugdhulp")
        export = await ilse.get(f"/regio/zuid-limburg/kwaliteit/export.csv?indicator=klachten&periode={period}")
        rows = sheet_rows(export, f"kwaliteit-klachten-{period}-zuid-limburg.csv")
        assert "'" + EVIL_NAME in [r[4] for r in rows] and EVIL_NAME not in [r[4] for r in rows]
        assert rows[0][:7] == ["regio", "indicator", "naam", "periode", "aanbieder", "kvk", "waarde"]
        vlinder_row = next(r for r in rows if r[4] == "Jeugdzorg De Vlinder B.V.")
        assert (vlinder_row[5], vlinder_row[6], vlinder_row[9]) == (VLINDER_KVK, "9", "buiten de norm")
        assert any(r[4] == "regio: mediaan" for r in rows)
        # Another region's figure: not found.
        lek = await region("lekstroom")
        foreign = await lek.objects(QualityFigure).first()
        assert (await ilse.get(f"/regio/zuid-limburg/kwaliteit/cijfers/{foreign.id}")).status_code == 404
        assert (await ilse.get(f"/regio/lekstroom/kwaliteit/cijfers/{foreign.id}")).status_code in (403, 404)


async def test_demo_figures_fill_every_region(world):
    for slug in ("zuid-limburg", "lekstroom", "west-brabant-west"):
        assert await (await region(slug)).count(QualityFigure) > 0
    # Relative to today: De Vlinder's last quarter in Zuid-Limburg is left open for the portal to show.
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    scope = await region("zuid-limburg")
    periods = {r["period"] for r in await scope.select(QualityFigure, QualityFigure.period).where(
        QualityFigure.provider == vlinder.id)}  # fmt: skip
    first_of_month = system_clock.today().replace(day=1)
    assert quarter() not in periods and last_closed_period("kwartaal", first_of_month) in periods | {quarter()}
