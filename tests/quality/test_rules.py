"""The rules of quality figures: the region file's indicators, checking figures and CSV rows, medians and spread,
figures derived from the evidence register, corrections with history, late figures, signals from the numbers, and
the reminders of the sweep."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.escalations.signals import hand_back
from apps.escalations.tables import Signal
from apps.evidence.tables import EvidenceItem
from apps.notifications.tables import Notification
from apps.quality import services, watch
from apps.quality.benchmark import benchmark, derived_values, provider_overview, spread
from apps.quality.indicators import (
    active_indicators,
    indicator_by_key,
    last_closed_period,
    period_end,
    sync_indicators,
)
from apps.quality.tables import QualityFigure, QualityIndicator, QualitySignal
from apps.quality.watch import watch_figures
from apps.tenancy.loader import load_tenants
from apps.tenancy.schema import IndicatorSpec
from core.actor import Actor
from core.clock import FrozenClock
from core.tenancy import ProviderScope
from tests.quality.support import clock_at, provider_in, region, submit

TEAM = Actor(label="Ilse Inkoop", roles=frozenset({"inkoop_medewerker"}))


# --- the region file ---------------------------------------------------------------------------------------------


def test_every_region_file_declares_indicators_and_they_validate(tenants_dir):
    result = load_tenants(tenants_dir)
    assert result.ok, result.problems
    by_slug = {loaded.region.slug: loaded.region for loaded in result.regions}
    lek = by_slug["lekstroom"].indicators
    # Seed 003: yearly complaints, client satisfaction, effectiveness in relation to cost, quarterly reports.
    assert lek["klachten"].period == "jaar" and lek["klachten"].signal_out_of_norm
    assert lek["clienttevredenheid"].unit == "score"
    assert lek["kosten_per_traject"].unit == "euro" and lek["doelen_behaald"].period == "kwartaal"
    assert by_slug["zuid-limburg"].indicators["vog_geldig"].derived_from == "vog_medewerker"
    assert by_slug["west-brabant-west"].indicators


@pytest.mark.parametrize(
    ("table", "path", "reason"),
    [
        ('unit = "stuks"', "indicators.klachten.unit", "Input should be"),
        ("norm = { min = 9, max = 3 }", "indicators.klachten.norm", "max is below min"),
        ("signal_missing = true\nderived_from = \"vog_medewerker\"\nunit = \"procent\"", "indicators.klachten",
         "derived indicator raises no signals"),
        ("spreadsheet = true", "indicators.klachten.spreadsheet", "unknown field (check the spelling)"),
    ],
)  # fmt: skip
def test_a_broken_indicator_is_refused_with_file_path_and_reason(tenants_copy, table, path, reason):
    region_file = tenants_copy / "west-brabant-west.toml"
    text = region_file.read_text()
    start = text.index("[indicators.klachten]")
    end = text.index("[indicators.clienttevredenheid]")
    block = '[indicators.klachten]\nname = "Klachten"\nperiod = "jaar"\n'
    if "unit" not in table:
        block += 'unit = "aantal"\n'
    region_file.write_text(text[:start] + block + table + "\n\n" + text[end:])
    result = load_tenants(tenants_copy)
    messages = [str(p) for p in result.problems]
    assert len(messages) == 1 and messages[0].startswith(f"tenants/west-brabant-west.toml: {path}: "), messages
    assert reason in messages[0]


def test_signal_out_of_norm_needs_a_norm():
    with pytest.raises(ValueError, match="signal_out_of_norm needs a norm"):
        IndicatorSpec(name="x", unit="aantal", period="jaar", signal_out_of_norm=True)


async def test_sync_creates_updates_and_retires_indicators(synced, tenants_copy):
    from apps.tenancy.services import sync_tenants

    scope = await region("zuid-limburg")
    keys = [i.key for i in await active_indicators(scope)]
    assert keys == ["klachten", "clienttevredenheid", "doelen_behaald", "wachttijd", "vog_geldig", "skj_geldig"]
    klachten = await indicator_by_key(scope, "klachten")
    assert (klachten.norm_max, klachten.norm_min, klachten.due_days) == (3, None, 30)
    # Take the waiting time out of the file and change a norm: the indicator stays (figures refer to it), inactive.
    path = tenants_copy / "zuid-limburg.toml"
    text = path.read_text()
    start = text.index("[indicators.wachttijd]")
    end = text.index("[indicators.vog_geldig]")
    path.write_text((text[:start] + text[end:]).replace("norm = { max = 3 }", "norm = { max = 4 }"))
    await sync_tenants(tenants_copy)
    assert "wachttijd" not in [i.key for i in await active_indicators(scope)]
    retired = await indicator_by_key(scope, "wachttijd")
    assert retired is not None and retired.active is False
    assert (await indicator_by_key(scope, "klachten")).norm_max == 4
    other = await region("lekstroom")
    assert (await indicator_by_key(other, "klachten")).period == "jaar"  # same key, another region's own row


# --- checking figures --------------------------------------------------------------------------------------------


class _Indicator:
    def __init__(self, unit="aantal", period="kwartaal", name="Klachten", key="klachten"):
        self.unit, self.period, self.name, self.key = unit, period, name, key
        self.active, self.derived_from = True, ""


@pytest.mark.parametrize(
    ("unit", "typed", "expected"),
    [("score", "7,5", 7.5), ("score", "7.5", 7.5), ("procent", "82%", 82.0), ("euro", "€ 1.250,50", 1250.5),
     ("aantal", " 12 ", 12.0), ("dagen", "0", 0.0)],
)  # fmt: skip
def test_figures_are_read_as_people_type_them(unit, typed, expected):
    assert services.parse_value(typed, _Indicator(unit)) == expected


@pytest.mark.parametrize(
    ("unit", "typed", "message"),
    [("aantal", "veel", "‘veel’ is geen getal"), ("aantal", "2,5", "vul een heel getal in"),
     ("procent", "120", "tussen 0 en 100"), ("score", "11", "tussen 0 en 10"), ("aantal", "-1", "negatief"),
     ("aantal", "", "vul een getal in"), ("aantal", "nan", "geen getal")],
)  # fmt: skip
def test_impossible_figures_are_refused_in_dutch(unit, typed, message):
    with pytest.raises(ValueError, match=message):
        services.parse_value(typed, _Indicator(unit))


def test_periods_must_be_written_right_and_be_over():
    today = date(2026, 11, 24)
    quarter = _Indicator(period="kwartaal")
    assert services.check_period("2026-K3", quarter, today) == "2026-K3"
    assert services.check_period("2026 q3", quarter, today) == "2026-K3"
    with pytest.raises(ValueError, match="is nog niet voorbij"):
        services.check_period("2026-K4", quarter, today)
    with pytest.raises(ValueError, match="‘2026’ is geen kwartaal"):
        services.check_period("2026", quarter, today)
    with pytest.raises(ValueError, match="is geen jaar"):
        services.check_period("2026-K1", _Indicator(period="jaar"), today)
    assert period_end("2026-K1") == date(2026, 3, 31) and period_end("2025") == date(2025, 12, 31)
    assert last_closed_period("kwartaal", date(2026, 1, 5)) == "2025-K4"


def test_a_csv_with_bad_rows_is_refused_whole_naming_row_and_column():
    indicators = {"klachten": _Indicator("aantal"), "clienttevredenheid": _Indicator("score", key="clienttevredenheid")}
    content = (
        b"indicator;periode;waarde;toelichting\n"
        b"klachten;2026-K3;4;\n"
        b"clienttevredenheid;2026-K3;zeven;\n"
        b"wachtlijst;2026-K3;3;\n"
        b"klachten;2026-K9;2;\n"
        b"klachten;2026-K3;5;dubbel\n"
    )
    with pytest.raises(services.CsvRefused) as refused:
        services.parse_csv(content, indicators, date(2026, 11, 24))
    messages = [str(e) for e in refused.value.errors]
    assert messages == [
        "Rij 3, kolom ‘waarde’: ‘zeven’ is geen getal",
        "Rij 4, kolom ‘indicator’: ‘wachtlijst’ is geen indicator van deze regio",
        "Rij 5, kolom ‘periode’: ‘2026-K9’ is geen kwartaal: schrijf bijvoorbeeld 2026-K3 (jaar, K, kwartaal)",
        "Rij 6, kolom ‘indicator’: ‘klachten’ voor 2026-K3 staat ook al in rij 2",
    ]


def test_a_correct_csv_in_excel_dialect_is_read():
    indicators = {"klachten": _Indicator("aantal"), "clienttevredenheid": _Indicator("score", key="clienttevredenheid")}
    content = (
        "\ufeffIndicator;Periode;Waarde\r\nklachten;2026-K3;4\r\n;;\r\nclienttevredenheid;2026-K3;7,8\r\n".encode()
    )
    entries = services.parse_csv(content, indicators, date(2026, 11, 24))
    assert [(e.indicator.key, e.period, e.value) for e in entries] == [
        ("klachten", "2026-K3", 4.0),
        ("clienttevredenheid", "2026-K3", 7.8),
    ]
    with pytest.raises(services.CsvRefused, match="kolom ‘waarde’: deze kolom ontbreekt"):
        services.parse_csv(b"indicator,periode\nklachten,2026-K3\n", indicators, date(2026, 11, 24))


# --- medians and derived figures ---------------------------------------------------------------------------------


def test_median_and_spread_use_inclusive_quartiles():
    s = spread([4.0, 1.0, 3.0, 2.0])
    assert (s.count, s.p25, s.median, s.p75) == (4, 1.75, 2.5, 3.25)
    assert spread([7.0]) == spread([7.0]) and spread([7.0]).median == 7.0
    assert spread([]) is None
    five = spread([10.0, 20.0, 30.0, 40.0, 100.0])
    assert (five.p25, five.median, five.p75) == (20.0, 30.0, 40.0)


async def test_staff_with_valid_vog_is_derived_from_the_evidence_register(synced):
    scope = await region("zuid-limburg")
    a = await provider_in(scope, "91000001", "Aanbieder A")
    b = await provider_in(scope, "91000002", "Aanbieder B")
    for person, issued in [("Jan", date(2024, 1, 10)), ("Piet", date(2022, 6, 1)), ("Klaas", date(2023, 10, 1))]:
        await EvidenceItem(provider=a.id, kind="vog_medewerker", person=person, issued_on=issued,
                           valid_until=issued.replace(year=issued.year + 3)).save()  # fmt: skip
    # Piet renewed in time, but only after the quarter: on 30 September 2025 his VOG had expired.
    await EvidenceItem(provider=a.id, kind="vog_medewerker", person="piet", issued_on=date(2025, 10, 15),
                       valid_until=date(2028, 10, 15)).save()  # fmt: skip
    values = await derived_values([a.id, b.id], "vog_medewerker", date(2025, 9, 30))
    assert values == {a.id: 66.7}  # Jan and Klaas of three people; B has no VOG's registered: no figure
    assert (await derived_values([a.id], "vog_medewerker", date(2025, 12, 31)))[a.id] == 100.0
    vog = await indicator_by_key(scope, "vog_geldig")
    rows = {r["name"]: r for r in (await benchmark(scope, vog, "2025-K3"))["rows"]}
    assert rows["Aanbieder A"]["value"] == 66.7 and rows["Aanbieder A"]["norm_state"] == "buiten de norm"
    assert rows["Aanbieder B"]["value"] is None


# --- submitting, corrections, late figures, signals ---------------------------------------------------------------


async def test_late_figures_are_recorded_and_corrections_keep_history(synced):
    scope = await region("zuid-limburg")
    provider = await provider_in(scope, "91000003", "Aanbieder C")
    on_time = clock_at(2026, 10, 30)  # 2026-K3 is due 30 days after 30 September: 30 October
    [first] = await submit(scope, provider, "wachttijd", "2026-K3", 30, on_time)
    assert first.figure.late is False and first.figure.due_on == date(2026, 10, 30)
    # The same figure twice (a double submit): nothing new.
    [again] = await submit(scope, provider, "wachttijd", "2026-K3", 30, on_time)
    assert again.unchanged and again.figure.id == first.figure.id
    [corrected] = await submit(scope, provider, "wachttijd", "2026-K3", 33, clock_at(2026, 11, 20), note="herteld")
    assert corrected.corrected and corrected.figure.replaces == first.figure.id
    assert corrected.figure.late is False  # the first submission was on time
    rows = await scope.select(QualityFigure, QualityFigure.value, QualityFigure.status).order_by(
        QualityFigure.submitted_at
    )
    assert [(r["value"], r["status"]) for r in rows] == [(30, "vervangen"), (33, "actueel")]
    [late] = await submit(scope, provider, "clienttevredenheid", "2026-K3", 7.4, clock_at(2026, 10, 31))
    assert late.figure.late is True


async def test_an_out_of_norm_figure_raises_one_signal_for_triage_and_locks_corrections(synced):
    scope = await region("zuid-limburg")
    provider = await provider_in(scope, "91000004", "Aanbieder D")
    clock = clock_at(2026, 10, 15)
    [within] = await submit(scope, provider, "klachten", "2026-K3", 2, clock)
    assert not within.signal_raised and await scope.count(Signal) == 0
    [outside] = await submit(scope, provider, "klachten", "2026-K3", 9, clock)
    assert outside.signal_raised
    signal = await scope.objects(Signal).first()
    assert (signal.status, signal.source, signal.provider) == ("nieuw", "indicator", provider.id)
    assert "Ontvangen klachten over 3e kwartaal 2026: 9, buiten de norm (ten hoogste 3)." in signal.description
    link = await scope.objects(QualitySignal).first()
    assert (link.figure, link.reason, link.signal) == (outside.figure.id, "buiten_norm", signal.id)
    # Still outside after a correction: no second signal for the same period.
    [still] = await submit(scope, provider, "klachten", "2026-K3", 8, clock)
    assert not still.signal_raised and await scope.count(Signal) == 1
    # A figure within the norm of an indicator that raises no signals: none.
    await submit(scope, provider, "wachttijd", "2026-K3", 90, clock)
    assert await scope.count(Signal) == 1
    # The team triages the signal: the provider can no longer correct the figure itself.
    await hand_back(scope, signal.id, actor=TEAM, motivation="Besproken in het kwartaalgesprek.")
    with pytest.raises(services.FigureError, match="vraag het team inkoop om een correctie"):
        await submit(scope, provider, "klachten", "2026-K3", 1, clock)
    assert (await services.signal_links(scope, signal.id))[0]["indicator_key"] == "klachten"


async def test_a_provider_without_a_contract_in_the_region_cannot_submit_there(synced):
    from core.tenancy import ScopeError

    zl = await region("zuid-limburg")
    wbw = await region("west-brabant-west")
    provider = await provider_in(zl, "91000005", "Alleen Zuid-Limburg")
    with pytest.raises(ScopeError):
        await submit(wbw, provider, "klachten", "2025", 1, clock_at(2026, 2, 1))


# --- reminders and missing figures --------------------------------------------------------------------------------


async def test_the_sweep_reminds_before_the_due_date_and_signals_missing_figures_once(synced):
    lek = await region("lekstroom")
    late_one = await provider_in(lek, "91000006", "Trage Aanbieder", valid_from=date(2025, 1, 1))
    punctual = await provider_in(lek, "91000007", "Stipte Aanbieder", valid_from=date(2025, 1, 1))
    await provider_in(lek, "91000008", "Nieuwe Aanbieder", valid_from=date(2026, 1, 1))  # no contract over 2025
    clock = clock_at(2026, 3, 15)  # 2025 is due 90 days after 31 December: 31 March 2026
    await submit(lek, punctual, "klachten", "2025", 2, clock)
    await submit(lek, punctual, "clienttevredenheid", "2025", 8, clock)
    await submit(lek, punctual, "kosten_per_traject", "2025", 9000, clock)
    assert (await watch_figures(clock_at(2026, 3, 20)))["reminded"] == 0  # more than 7 days before: nothing yet
    done = await watch_figures(clock_at(2026, 3, 25))
    assert done["reminded"] == 1 and done["missing"] == 0  # one notice for the figures due on the same day
    notice = await lek.objects(Notification).where(Notification.template == "kwaliteit_herinnering").first()
    assert notice.recipient == f"provider:{late_one.id}"
    assert notice.payload["periode"] == "2025" and notice.payload["vervaldatum"] == "31 maart 2026"
    assert notice.payload["indicatoren"] == ["Ontvangen klachten per jaar", "Cliënttevredenheid"]
    assert (await watch_figures(clock_at(2026, 3, 26)))["reminded"] == 0  # once per period
    done = await watch_figures(clock_at(2026, 4, 1))
    assert done["missing"] == 1
    missing = await lek.objects(Notification).where(Notification.template == "kwaliteit_ontbreekt").first()
    assert missing.recipient == f"provider:{late_one.id}"
    signals = await lek.objects(Signal)
    # klachten and clienttevredenheid say signal_missing; kosten_per_traject is due later (150 days) and says not.
    assert sorted(s.description.split(" over ")[0] for s in signals) == [
        "Cliënttevredenheid",
        "Ontvangen klachten per jaar",
    ]
    assert {s.provider for s in signals} == {late_one.id} and {s.source for s in signals} == {"indicator"}
    assert (await watch_figures(clock_at(2026, 4, 2)))["missing"] == 0 and await lek.count(Signal) == 2
    # Submitting after the due date: recorded as late.
    [late] = await submit(lek, late_one, "klachten", "2025", 3, clock_at(2026, 4, 3))
    assert late.figure.late is True


async def test_a_sweep_with_nothing_new_touches_no_provider_period_pair(synced, monkeypatch):
    """The watch runs every minute; once today's round of a period is done, the next sweeps claim nothing at all
    (they used to try a claim for every provider and period each minute). The next day's round claims only what
    is new: a contract entered since."""
    lek = await region("lekstroom")
    for n in range(3):
        await provider_in(lek, f"9100002{n}", f"Aanbieder {n}")
    claims: list[str] = []
    original = watch.claim_key

    async def counting(key, job, clock):
        if not key.startswith("kwaliteit-ronde:"):
            claims.append(key)
        return await original(key, job, clock)

    monkeypatch.setattr(watch, "claim_key", counting)
    first = await watch_figures(clock_at(2026, 3, 25, 9))  # 2025 due 31 March; 2025-K4 was due 30 January
    assert first == {"reminded": 3, "missing": 3} and len(claims) == 6
    for minute in range(1, 4):  # the next sweeps of the day
        later = FrozenClock(clock_at(2026, 3, 25, 9).now() + timedelta(minutes=minute))
        assert await watch_figures(later) == {"reminded": 0, "missing": 0}
    assert len(claims) == 6
    newcomer = await provider_in(lek, "91000029", "Late Contractant")
    claims.clear()
    assert await watch_figures(clock_at(2026, 3, 26, 9)) == {"reminded": 1, "missing": 1}
    assert sorted(claims) == [f"kwaliteit-herinnering:{lek.region_id}:{newcomer.id}:2025:2026-03-31",
                              f"kwaliteit-ontbreekt:{lek.region_id}:{newcomer.id}:2025-K4:2026-01-30"]  # fmt: skip


async def test_the_rendered_notices_are_dutch(synced):
    from apps.notifications.messages import render

    rendered = render(
        "kwaliteit_ontbreekt",
        {
            "periode": "3e kwartaal 2026",
            "vervaldatum": "30 oktober 2026",
            "indicatoren": ["Ontvangen klachten"],
            "region_name": "Zuid-Limburg",
        },
    )
    assert rendered.subject == "Kwaliteitscijfers 3e kwartaal 2026 ontbreken (uiterlijk 30 oktober 2026)"
    assert "- Ontvangen klachten" in rendered.text and "<li>Ontvangen klachten</li>" in rendered.html


# --- what a provider sees --------------------------------------------------------------------------------------


async def test_a_provider_sees_its_own_figures_and_the_median_only_of_enough_providers(synced):
    scope = await region("zuid-limburg")
    clock = clock_at(2026, 10, 15)
    providers = [await provider_in(scope, f"9200000{i}", f"Aanbieder {i}") for i in range(1, 4)]
    for provider, value in zip(providers[:2], (21, 37), strict=True):
        await submit(scope, provider, "wachttijd", "2026-K3", value, clock)
    overview = await provider_overview(await ProviderScope.for_provider(providers[0].id), clock.today())
    [zl] = overview
    wachttijd = next(i for i in zl["indicators"] if i["indicator"].key == "wachttijd")
    last = wachttijd["points"][-1]
    assert (last["period"], last["value"], last["median"]) == ("2026-K3", 21, None)  # two providers: no median
    assert last["median_nl"] == "te weinig aanbieders"
    await submit(scope, providers[2], "wachttijd", "2026-K3", 50, clock)
    overview = await provider_overview(await ProviderScope.for_provider(providers[0].id), clock.today())
    last = next(i for i in overview[0]["indicators"] if i["indicator"].key == "wachttijd")["points"][-1]
    assert (last["value"], last["median"]) == (21, 37)
    assert set(last) == {"period", "label", "value", "value_nl", "late", "median", "median_nl", "norm_state"}


async def test_indicators_and_figures_are_the_regions_own(synced):
    zl, lek = await region("zuid-limburg"), await region("lekstroom")
    provider = await provider_in(zl, "91000009", "Twee Regio's")
    await provider_in(lek, "91000009", "Twee Regio's")
    await submit(zl, provider, "doelen_behaald", "2026-K3", 80, clock_at(2026, 10, 1))
    assert await lek.count(QualityFigure) == 0 and await zl.count(QualityFigure) == 1
    zl_keys = {row["id"] for row in await zl.select(QualityIndicator, QualityIndicator.id)}
    assert not zl_keys & {row["id"] for row in await lek.select(QualityIndicator, QualityIndicator.id)}
    # An indicator of another region is never stored under this one.
    lek_indicator = await indicator_by_key(lek, "doelen_behaald")
    with pytest.raises(services.FigureError, match="hoort niet bij deze regio"):
        await services.submit_figures(
            await ProviderScope.for_provider(provider.id), zl.region_id,
            [services.FigureInput(lek_indicator, "2026-K3", 70)], actor=TEAM, clock=clock_at(2026, 10, 1),
        )  # fmt: skip
    await sync_indicators(zl, {})  # a region without indicators: every one retired, none deleted
    assert await active_indicators(zl) == [] and await zl.count(QualityIndicator) == 6


async def test_a_double_submit_at_the_same_moment_stores_one_figure(synced):
    import asyncio

    scope = await region("zuid-limburg")
    provider = await provider_in(scope, "91000010", "Dubbelklikker")
    clock = clock_at(2026, 10, 20)
    results = await asyncio.gather(
        submit(scope, provider, "klachten", "2026-K3", 7, clock),
        submit(scope, provider, "klachten", "2026-K3", 7, clock),
    )
    assert sorted(r[0].unchanged for r in results) == [False, True]
    assert await scope.count(QualityFigure) == 1 and await scope.count(Signal) == 1
