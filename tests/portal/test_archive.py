"""The portal keeps history: De Vlinder finds its closed escalations of both regions at /portaal/archief, newest
closed first, filtered by region, year and reference, paged without JavaScript, and each closed escalation's page
still has its letters and documents. Another organisation's closed escalation never shows."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from apps.escalations import services as escalations
from apps.escalations.tables import Escalation, LetterDelivery
from apps.portal import archive
from apps.providers.tables import Provider
from core.actor import Actor
from core.clock import AMSTERDAM, system_clock
from core.tenancy import ProviderScope, RegionScope
from tests.accounts.support import app_client, login
from tests.portal.support import PDF

LEAD = Actor(label="Lotte Leider", roles=frozenset({"inkoop_lead"}))


def listed(text: str) -> list[str]:
    return re.findall(r'data-escalation="([^"]+)"', text)


async def close(escalation, *, at: datetime | None = None) -> None:
    scope = RegionScope(escalation.region)
    await escalations.close_escalation(scope, escalation.id, actor=LEAD, outcome="ingetrokken",
                                       motivation="De aanbieder heeft het op orde.")  # fmt: skip
    if at is not None:
        await scope.update(Escalation, {Escalation.closed_at: at}).where(Escalation.id == escalation.id)


async def test_closed_escalations_are_findable_with_their_letters_and_documents(world, oidc_settings):
    zl, lek, other = world["zl"], world["lek"], world["other"]
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal")
        empty = await http.get("/portaal/archief")
        assert empty.status_code == 200
        assert "Er zijn nog geen afgesloten escalaties over uw organisatie." in empty.text
        uploaded = await http.post(
            f"/portaal/escalaties/{zl.id}/documenten",
            data={"_csrf_token": http.cookies.get("csrftoken"), "soort": "plan_van_aanpak"},
            files={"bestand": ("plan-van-aanpak.pdf", PDF, "application/pdf")},
        )
        assert uploaded.status_code == 303
        await close(zl)
        await close(lek)
        await close(other)  # another provider's, in a region De Vlinder works in too

        page = await http.get("/portaal/archief")
        assert page.status_code == 200
        assert listed(page.text) == [lek.reference, zl.reference]  # newest closed first
        assert other.reference not in page.text and "Declaraties van een andere aanbieder." not in page.text
        assert "Zuid-Limburg" in page.text and "Lekstroom" in page.text
        # the outcome in words, not its key
        assert page.text.count("<dt>Uitkomst</dt><dd>Ingetrokken: het signaal bleek onterecht</dd>") == 2
        assert 'href="/portaal/archief" aria-current="page">Afgesloten escalaties</a>' in page.text
        home = await http.get("/portaal")
        assert zl.reference not in listed(home.text) and 'href="/portaal/archief"' in home.text

        link = re.search(rf'href="(/portaal/escalaties/[^"]+)">{zl.reference}</a>', page.text).group(1)
        detail = await http.get(link)
        assert detail.status_code == 200
        assert re.search(r"<dt>Status</dt><dd>afgesloten</dd>", detail.text)
        assert re.search(r"<dt>Afgesloten op</dt><dd>\d+ \w+ \d{4}</dd>", detail.text)
        assert "<dt>Uitkomst</dt><dd>Ingetrokken: het signaal bleek onterecht</dd>" in detail.text
        assert 'id="brievenlijst"' in detail.text  # the request for a plan of action the first step sent
        [letter] = await (await ProviderScope.for_provider(zl.provider)).objects(LetterDelivery).where(
            LetterDelivery.escalation == zl.id)  # fmt: skip
        assert f'data-letter="{letter.id}"' in detail.text
        documents = re.search(r'id="documentenlijst">(.*?)</ul>', detail.text, re.S).group(1)
        assert "plan-van-aanpak.pdf" in documents
        [href] = re.findall(r'href="(/portaal/documenten/[^"]+)">plan-van-aanpak.pdf<', documents)
        download = await http.get(href)  # the upload still downloads (the letter's file is the world's storage)
        assert download.status_code == 200 and download.content == PDF
        assert f'action="/portaal/escalaties/{zl.id}/documenten"' not in detail.text  # closed: nothing to add


async def test_the_archive_filters_on_region_year_and_reference(world, oidc_settings):
    zl, lek = world["zl"], world["lek"]
    await close(zl, at=datetime(2025, 6, 1, 12, tzinfo=AMSTERDAM))
    await close(lek)
    this_year = str(system_clock.today().year)
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal/archief")
        page = await http.get("/portaal/archief")
        assert '<option value="2025">2025</option>' in page.text and f'<option value="{this_year}">' in page.text
        assert '<option value="lekstroom">' in page.text and '<option value="zuid-limburg">' in page.text
        assert listed((await http.get("/portaal/archief?regio=lekstroom")).text) == [lek.reference]
        assert listed((await http.get("/portaal/archief?regio=zuid-limburg")).text) == [zl.reference]
        assert listed((await http.get("/portaal/archief?jaar=2025")).text) == [zl.reference]
        assert listed((await http.get(f"/portaal/archief?jaar={this_year}")).text) == [lek.reference]
        part = zl.reference.lower()  # any case, any part of it
        found = await http.get(f"/portaal/archief?kenmerk={part}")
        assert listed(found.text) == [zl.reference] and f'value="{part}"' in found.text
        assert listed((await http.get(f"/portaal/archief?kenmerk={part[3:]}")).text) == [lek.reference, zl.reference]
        assert listed((await http.get(f"/portaal/archief?kenmerk={part}&regio=lekstroom")).text) == []
        none = await http.get("/portaal/archief?kenmerk=XX-9999")
        assert listed(none.text) == [] and "Geen afgesloten escalaties gevonden met deze filters." in none.text
        # odd input is no error: an unknown region or a year that is not one shows every region and year
        odd = await http.get("/portaal/archief?regio=elders&jaar=twintig")
        assert listed(odd.text) == [lek.reference, zl.reference]


async def test_the_archive_pages_newest_closed_first_and_keeps_the_filter(world, oidc_settings):
    zl = world["zl"]
    scope = RegionScope(zl.region)
    start = system_clock.now() - timedelta(days=100)
    bulk = [scope.new(Escalation, reference=f"ZL-2026-{8000 + n:05d}", provider=zl.provider,
                      ladder_version=zl.ladder_version, category=zl.category, current_step=zl.current_step,
                      status="closed", summary=f"Afgesloten {n}", opened_at=start,
                      closed_at=start + timedelta(days=n))
            for n in range(30)]  # fmt: skip
    await Escalation.insert(*bulk)
    await close(world["lek"])  # Lekstroom: left out by the filter
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal/archief")
        page = await http.get("/portaal/archief?regio=zuid-limburg")
        seen = listed(page.text)
        assert len(seen) == 25 and 'rel="prev"' not in page.text
        link = re.search(r'rel="next" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
        assert "regio=zuid-limburg" in link
        page = await http.get(link)
        seen += listed(page.text)
        assert 'rel="next"' not in page.text
        assert seen == [f"ZL-2026-{8000 + n:05d}" for n in range(29, -1, -1)]
        back = re.search(r'rel="prev" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
        assert listed((await http.get(back)).text) == seen[:25]


async def test_another_organisations_closed_escalations_stay_out(world, oidc_settings):
    """Read through each organisation's ProviderScope: De Vlinder's archive never has Samen's escalation, and
    Samen's never De Vlinder's, whatever the filter asks (a region slug or a reference of the other)."""
    zl, other = world["zl"], world["other"]
    await close(zl)
    await close(other)
    samen = await Provider.objects().where(Provider.id == other.provider).first()
    vlinder_scope = await ProviderScope.for_provider(zl.provider)
    samen_scope = await ProviderScope.for_provider(samen.id)
    mine = await archive.closed_escalations(vlinder_scope, archive.Filters())
    theirs = await archive.closed_escalations(samen_scope, archive.Filters())
    assert [r["reference"] for r in mine["rows"]] == [zl.reference]
    assert [r["reference"] for r in theirs["rows"]] == [other.reference]
    searched = await archive.closed_escalations(vlinder_scope, archive.Filters(kenmerk=other.reference))
    assert searched["rows"] == []
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal/archief")
        page = await http.get(f"/portaal/archief?kenmerk={other.reference}&regio=zuid-limburg")
        assert page.status_code == 200 and other.reference not in page.text.replace(f'value="{other.reference}"', "")
        assert (await http.get(f"/portaal/escalaties/{other.id}")).status_code == 404


async def test_only_provider_users_open_the_archive(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        anonymous = await http.get("/portaal/archief")
        assert anonymous.status_code in (302, 303) and "/inloggen" in anonymous.headers["location"]
        await login(http, "zl-inkoop", "/werkruimte")  # no provider role: the portal is not there for them
        assert (await http.get("/portaal/archief")).status_code == (await http.get("/portaal")).status_code == 404


async def test_the_archive_reads_its_index(world):
    """A page of the archive walks the index of the provider's escalations by the moment closed, not the table."""
    from piccolo.engine import engine_finder  # why: only this test asks the database for its plan

    scope = await ProviderScope.for_provider(world["zl"].provider)
    query = scope.select(Escalation).where(archive.SEGMENTS[0].condition)
    for column, ascending in archive.SEGMENTS[0].order:
        query = query.order_by(column, ascending=ascending)
    sql = str(query.limit(26))
    engine = engine_finder()
    if engine.engine_type == "postgres":
        async with engine.transaction():
            await engine.run_ddl("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r["QUERY PLAN"] for r in await engine.run_ddl(f"EXPLAIN {sql}"))
    else:
        plan = "\n".join(str(r["detail"]) for r in await engine.run_ddl(f"EXPLAIN QUERY PLAN {sql}"))
    assert "escalation_provider_closed" in plan, plan
