"""The escalations overview: filters, search by name or KvK number, counts per step, sorting by the next
deadline, pagination, CSV export of the filtered list — and that it stays fast with many escalations."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta

from apps.escalations import services
from apps.escalations.tables import Deadline, Escalation
from apps.providers.tables import Contract, Provider
from core.actor import Actor
from core.clock import system_clock
from tests.accounts.support import app_client, login
from tests.workspace.support import ZL, escalation_of, provider, zl_scope


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
        rows = list(csv.DictReader(io.StringIO(sheet.text)))
        assert [r["kenmerk"] for r in rows] == [vlinder.reference]
        assert (
            rows[0]["kvk_nummer"] == "90000001" and rows[0]["stap"] == "Gesprek aanbieder direct (fysiek/telefonisch)"
        )


async def test_many_escalations_page_quickly_with_offset_pagination(world, oidc_settings):
    """A few thousand escalations: a page, a filtered page, the counts and the last page stay fast."""
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
        actor=actor,
    )
    rows = [
        scope.new(Escalation, reference=f"ZL-2026-{5000 + n:05d}", provider=providers[n % 20].id,
                  ladder_version=template.ladder_version, category="niet_veiligheid", subcategory="financieel",
                  current_step="verzoek_plan_van_aanpak", status="closed" if n % 3 == 0 else "open",
                  summary=f"Bulk {n}", opened_at=system_clock.now())
        for n in range(3000)
    ]  # fmt: skip
    for start in range(0, len(rows), 500):
        await Escalation.insert(*rows[start : start + 500])  # bulk rows, built by scope.new
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", f"{ZL}/escalaties")
        for query in ("", "zoek=Aanbieder+07", "status=alle&pagina=200", "sorteer=kenmerk&pagina=5", "verlopen=1"):
            started = time.perf_counter()
            page = await http.get(f"{ZL}/escalaties?{query}")
            elapsed = time.perf_counter() - started
            assert page.status_code == 200 and elapsed < 2.0, (query, elapsed)
        page = await http.get(f"{ZL}/escalaties?status=alle")
        assert "3003</strong> escalaties gevonden" in page.text and "pagina 1 van 121" in page.text
        last = await http.get(f"{ZL}/escalaties?status=alle&pagina=121")
        assert len(references(last.text)) == 3003 - 120 * 25
        sheet = await http.get(f"{ZL}/escalaties/export.csv?zoek=Aanbieder+07")
        assert len(list(csv.DictReader(io.StringIO(sheet.text)))) == 100  # 2000 open of 3000, one in 20: 100
    assert await provider("90000001")
