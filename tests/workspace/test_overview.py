"""The escalations overview: filters, search by name or KvK number, counts per step, sorting by the next
deadline, pagination, CSV export of the filtered list — and that it stays fast with many escalations."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from apps.escalations import services
from apps.escalations.deadlines import refresh_next_due
from apps.escalations.tables import Deadline, Escalation
from apps.providers.tables import Contract, Provider
from core.actor import Actor
from core.clock import system_clock
from tests.accounts.support import app_client, login
from tests.csv_support import EVIL_NAME, sheet_dicts
from tests.letter_fields import opening
from tests.workspace.support import ZL, escalation_of, provider, zl_scope


def dutch_day(text: str) -> date | None:
    return datetime.strptime(text, "%d-%m-%Y").date() if text else None


def references(html: str) -> list[str]:
    return re.findall(r'<tr class="utrecht-table__row" data-escalation="([^"]+)"', html)


async def test_filters_search_counts_and_csv(world, oidc_settings):
    vlinder = await escalation_of("90000001")  # safety, VOG werknemers
    samen = await escalation_of("90000002")  # non-safety, administratief
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", f"{ZL}/escalaties")
        page = await http.get(f"{ZL}/escalaties")
        assert set(references(page.text)) == {vlinder.reference, samen.reference}
        assert "2</strong> escalaties gevonden" in page.text
        assert re.search(r'data-step="kwaliteit/gesprek_direct">1<', page.text)
        assert re.search(r'data-step="kwaliteit/verzoek_plan_van_aanpak">1<', page.text)

        cases = {
            "categorie=kwaliteit/veiligheid": [vlinder.reference],
            "categorie=kwaliteit/niet_veiligheid/administratief": [samen.reference],
            "stap=kwaliteit/gesprek_direct": [vlinder.reference],
            f"aanbieder={samen.provider}": [samen.reference],
            "zoek=samen+sterk": [samen.reference],
            "zoek=90000001": [vlinder.reference],
            "zoek=bestaat-niet": [],
            "status=afgesloten": [],
            "verlopen=1": [],
        }
        for query, expected in cases.items():
            found = await http.get(f"{ZL}/escalaties?{query}")
            assert found.status_code == 200 and references(found.text) == expected, query

        # the step counts ignore the step filter itself, but follow the others
        found = await http.get(f"{ZL}/escalaties?stap=kwaliteit/gesprek_direct&zoek=samen")
        assert references(found.text) == [] and re.search(r'data-step="kwaliteit/verzoek_plan_van_aanpak">1<',
                                                          found.text)  # fmt: skip

        # one overdue deadline: the overdue filter finds it, and it sorts first by next deadline
        scope = await zl_scope()
        await scope.update(Deadline, {Deadline.due_at: system_clock.now() - timedelta(days=2)}).where(
            Deadline.escalation == samen.id
        )
        await refresh_next_due(scope, samen.id)  # what every deadline service does after a change
        overdue = await http.get(f"{ZL}/escalaties?verlopen=1")
        assert references(overdue.text) == [samen.reference] and "verlopen</strong>" in overdue.text
        assert references((await http.get(f"{ZL}/escalaties")).text)[0] == samen.reference

        # htmx: only the results block, with the URL pushed
        partial = await http.get(f"{ZL}/escalaties?zoek=vlinder", headers={"HX-Request": "true",
                                                                          "HX-Target": "resultaten"})  # fmt: skip
        assert partial.text.lstrip().startswith('<div id="resultaten">') and "<html" not in partial.text
        assert partial.headers["HX-Push-Url"].endswith("/escalaties?zoek=vlinder")

        sheet = await http.get(f"{ZL}/escalaties/export.csv?categorie=kwaliteit/veiligheid")
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
        assert "attachment" in sheet.headers["content-disposition"]
        rows = sheet_dicts(sheet, "escalaties-zuid-limburg.csv")  # BOM, ';', the charset once
        assert [r["kenmerk"] for r in rows] == [vlinder.reference]
        assert (
            rows[0]["kvk_nummer"] == "90000001" and rows[0]["stap"] == "Gesprek aanbieder direct (fysiek/telefonisch)"
        )


async def test_many_escalations_page_by_keyset_with_a_capped_count(world, oidc_settings):
    """Over a thousand escalations: "volgende"/"vorige" links (no JavaScript) walk every row exactly once in
    order; a filter of status, step or category is counted exactly from the region's tally, a search stops
    counting at 1.000 and says so (without counts per step); and the export has every row."""
    scope = await zl_scope()
    actor = Actor(label="Test", is_system=True)
    providers = []
    for i in range(20):
        organisation = Provider(kvk_number=f"7{i:07d}", name=f"Aanbieder {i:02d} B.V.")
        await organisation.save()
        await scope.new(Contract, provider=organisation.id, reference=f"T-{i}", valid_from=system_clock.today()).save()
        providers.append(organisation)
    template = await escalation_of("90000002")
    await services.open_escalation(
        scope,
        provider=providers[0],
        ladder_key="kwaliteit",
        category="niet_veiligheid",
        subcategory="financieel",
        summary="Echt geopend",
        motivation="Test",
        actor=actor, letter_fields=opening("niet_veiligheid")
    )
    now = system_clock.now()
    rows = [
        scope.new(Escalation, reference=f"ZL-2026-{5000 + n:05d}", provider=providers[n % 20].id,
                  ladder_version=template.ladder_version, category="niet_veiligheid", subcategory="financieel",
                  current_step="verzoek_plan_van_aanpak", status="closed" if n % 3 == 0 else "open",
                  summary=f"Bulk {n}", opened_at=now - timedelta(minutes=n),
                  next_due_at=None if n % 3 == 0 else now + timedelta(days=n % 40))
        for n in range(1200)
    ]  # fmt: skip
    for start in range(0, len(rows), 500):
        await Escalation.insert(*rows[start : start + 500])  # bulk rows, built by scope.new
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", f"{ZL}/escalaties")
        for query, expected in (("status=alle", 1203), ("", 803), ("sorteer=kenmerk&status=alle", 1203),
                                ("sorteer=geopend&zoek=Aanbieder+07", 40),
                                ("status=alle&zoek=ZL-2026", 1203)):  # fmt: skip
            page = await http.get(f"{ZL}/escalaties?{query}")
            assert page.status_code == 200
            if "zoek" in query and expected > 1000:
                assert "meer dan 1.000</strong> escalaties gevonden" in page.text and "Per stap" not in page.text
            else:
                assert f"{expected:,}".replace(",", ".") + "</strong> escalaties gevonden" in page.text
                step = re.search(r'data-step="kwaliteit/verzoek_plan_van_aanpak">(\d+)<', page.text)
                assert "zoek" in query or int(step.group(1)) >= expected - 3  # the bulk rows' step, exactly
            seen, pages = [], [page.text]
            while (link := re.search(r'rel="next" href="([^"]+)"', page.text)) is not None:
                page = await http.get(link.group(1).replace("&amp;", "&"))
                pages.append(page.text)
                seen.extend(references(pages[-2]))
            seen.extend(references(page.text))
            assert len(seen) == len(set(seen)) == expected, query
            assert len(pages) == -(-expected // 25)
            # and back: "vorige" from the last page gives the one before it again
            back = re.search(r'rel="prev" href="([^"]+)"', page.text)
            if len(pages) > 1:
                previous = await http.get(back.group(1).replace("&amp;", "&"))
                assert references(previous.text) == references(pages[-2])
            if "sorteer=kenmerk" in query:
                assert seen == sorted(seen)
        first = references((await http.get(f"{ZL}/escalaties")).text)
        # the export in the same order: soonest next deadline first; those without one after it, newest first
        sheet = await http.get(f"{ZL}/escalaties/export.csv?status=alle")
        exported = sheet_dicts(sheet)  # two batches streamed, one BOM
        assert len(exported) == 1203 and [r["kenmerk"] for r in exported[:25]] == first
        due = [dutch_day(r["volgende_termijn"]) for r in exported]
        with_due = [d for d in due if d]
        # 800 bulk rows, the one opened, the demo ones
        assert len(with_due) >= 801 and due[: len(with_due)] == sorted(with_due)
        bulk_without = [r["kenmerk"] for r in exported[len(with_due):] if r["kenmerk"] >= "ZL-2026-05000"]
        assert bulk_without == sorted(bulk_without)  # opened a minute apart: newest (lowest number) first
        # a cursor that is not ours shows the first page, no error
        odd = await http.get(f"{ZL}/escalaties?na=bm9uc2Vuc2U")
        assert odd.status_code == 200 and references(odd.text)[0] == first[0]
    assert await provider("90000001")


async def test_the_export_opens_in_dutch_excel_and_runs_no_provider_name(world, oidc_settings):
    """A provider named like a formula comes out as text (also after a space); dates as dd-mm-jjjj."""
    vlinder, samen = await provider("90000001"), await provider("90000002")
    await Provider.update({Provider.name: EVIL_NAME}).where(Provider.id == vlinder.id)
    await Provider.update({Provider.name: " =1+1"}).where(Provider.id == samen.id)
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", f"{ZL}/escalaties")
        rows = sheet_dicts(await http.get(f"{ZL}/escalaties/export.csv?status=alle"), "escalaties-zuid-limburg.csv")
    names = {r["kvk_nummer"]: r["aanbieder"] for r in rows}
    assert names["90000001"] == "'" + EVIL_NAME and names["90000002"] == "' =1+1"
    assert all(re.fullmatch(r"\d{2}-\d{2}-\d{4}", r["geopend_op"]) for r in rows)
    assert {r["termijn_verlopen"] for r in rows} <= {"ja", "nee"}
