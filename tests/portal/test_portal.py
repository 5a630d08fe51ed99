"""The provider portal over HTTP, logged in through the real local OpenID provider: Vera Vlinder sees her
organisation's escalations in both regions with what is asked, never internal events, posts messages (htmx and
without JavaScript), keeps an evidence register; the region's purchasing team accepts and rejects with a reason,
and the provider sees the verdict."""

from __future__ import annotations

import re
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from apps.escalations import services as escalations
from apps.escalations.tables import Deadline, Escalation, TimelineEvent
from apps.evidence.tables import EvidenceItem, EvidenceReview
from apps.providers.tables import Provider
from core.actor import Actor
from core.clock import system_clock
from core.tenancy import RegionScope
from tests.accounts.support import app_client, csrf_headers, login
from tests.portal.support import PDF, VLINDER_KVK
from tests.querycount import counting_statements


def form_token(http) -> str:
    return http.cookies.get("csrftoken")


async def test_home_shows_escalations_of_both_regions_and_what_is_asked(world, oidc_settings):
    zl, lek = world["zl"], world["lek"]
    await escalations.add_note(
        RegionScope(zl.region),
        zl.id,
        actor=Actor("Ilse", roles=frozenset({"inkoop_medewerker"})),
        text="Intern: aanbieder reageert traag",
    )
    async with app_client(oidc_settings) as http:
        home = await login(http, "vlinder-medewerker", "/portaal")
        assert home.status_code == 200 and str(home.url).endswith("/portaal")
        text = home.text
        assert zl.reference in text and lek.reference in text
        assert "Zuid-Limburg" in text and "Lekstroom" in text
        assert re.search(r"Lever een plan van aanpak aan, uiterlijk op \d+ \w+ 2026", text)
        assert world["other"].reference not in text  # another provider's escalation
        page = await http.get(f"/portaal/escalaties/{zl.id}")
        assert page.status_code == 200
        assert "Intern: aanbieder reageert traag" not in page.text and 'data-kind="notitie"' not in page.text
        assert (await http.get(f"/portaal/escalaties/{world['other'].id}")).status_code == 404

        # A message without JavaScript: post, redirect, shown.
        posted = await http.post(
            f"/portaal/escalaties/{zl.id}/berichten",
            data={"_csrf_token": form_token(http), "tekst": "Het plan volgt deze week."},
        )
        assert posted.status_code == 303
        page = await http.get(posted.headers["location"])
        assert "Het plan volgt deze week." in page.text and "Uw bericht is geplaatst." in page.text
        # With htmx: only the messages block comes back; an empty message is refused next to the field.
        fragment = await http.post(
            f"/portaal/escalaties/{zl.id}/berichten",
            data={"tekst": "Tweede bericht"},
            headers={**csrf_headers(http), "HX-Request": "true"},
        )
        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith('<section aria-labelledby="berichten-kop" id="berichten">')
        assert "Tweede bericht" in fragment.text and "<html" not in fragment.text
        # and, out of band, the status and what the region asks, as they are now
        facts = re.search(r'<dl class="trede-facts" id="feiten" data-hx-swap-oob="true">.*?</dl>', fragment.text, re.S)
        assert facts and re.search(r"<dt>Status</dt><dd>lopend</dd>", facts.group(0))
        lead = '<section aria-labelledby="gevraagd-kop" id="gevraagd" class="trede-nu" data-hx-swap-oob="true">'
        assert lead in fragment.text
        page = await http.get(f"/portaal/escalaties/{zl.id}")
        assert 'id="feiten">' in page.text and "hx-swap-oob" not in page.text  # the page: the blocks in place
        empty = await http.post(
            f"/portaal/escalaties/{zl.id}/berichten",
            data={"tekst": " "},
            headers={**csrf_headers(http), "HX-Request": "true"},
        )
        assert "Een bericht mag niet leeg zijn." in empty.text
    events = await RegionScope(zl.region).select(TimelineEvent).where(TimelineEvent.kind == "bericht")
    assert {e["payload"]["van"] for e in events} == {"aanbieder"} and len(events) == 2


async def test_evidence_register_and_the_regions_verdict(world, oidc_settings):
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    async with app_client(oidc_settings) as vera:
        await login(vera, "vlinder-medewerker", "/portaal/bewijs")
        soon = (
            system_clock.today() - relativedelta(years=3) + relativedelta(days=10)
        ).isoformat()  # expires in 10 days
        for person, datum, scan in (("Anna de Boer", soon, True), ("P-0042", "2025-05-20", False)):
            answer = await vera.post(
                "/portaal/bewijs/nieuw",
                data={
                    "_csrf_token": form_token(vera),
                    "soort": "vog_medewerker",
                    "persoon": person,
                    "nummer": "",
                    "datum": datum,
                },
                files={
                    "bestand": ("vog.pdf", PDF, "application/pdf") if scan else ("", b"", "application/octet-stream")
                },
            )
            assert answer.status_code == 303, answer.text[-1500:]
        big = await vera.post(
            "/portaal/bewijs/nieuw",
            data={
                "_csrf_token": form_token(vera),
                "soort": "big",
                "persoon": "Dr. A. Arts",
                "nummer": "09012345601",
                "datum": "2024-06-01",
            },
            files={"bestand": ("", b"", "application/octet-stream")},
        )
        assert big.status_code == 303
        wrong = await vera.post(
            "/portaal/bewijs/nieuw",
            data={
                "_csrf_token": form_token(vera),
                "soort": "big",
                "persoon": "X",
                "nummer": "9012345601",
                "datum": "2024-06-01",
            },
            files={"bestand": ("big.pdf", PDF, "application/pdf")},
        )
        assert wrong.status_code == 422 and "Een BIG-nummer bestaat uit 11 cijfers" in wrong.text
        assert list(vera.app.state.storage.list_keys()) == [
            (await EvidenceItem.objects().where(EvidenceItem.person == "Anna de Boer").first()).object_key
        ]  # the refused BIG's scan was never stored
        register = await vera.get("/portaal/bewijs")
        assert "09012345601" in register.text and "Anna de Boer" in register.text
        assert "Verloopt binnen 10 dagen" in register.text

    items = {i.person: i for i in await EvidenceItem.objects().where(EvidenceItem.provider == vlinder.id)}
    assert items["Dr. A. Arts"].number == "09012345601"
    anna, p42 = items["Anna de Boer"], items["P-0042"]
    base = f"/regio/zuid-limburg/aanbieders/{vlinder.id}/bewijs"
    async with app_client(oidc_settings) as ilse:
        await login(ilse, "zl-inkoop", base)
        page = await ilse.get(base)
        assert page.status_code == 200 and "Anna de Boer" in page.text and "P-0042" in page.text
        scan = await ilse.get(f"{base}/{anna.id}/bestand")
        assert scan.status_code == 200 and scan.content == PDF
        accepted = await ilse.post(
            f"{base}/{anna.id}/beoordeling",
            data={"_csrf_token": form_token(ilse), "oordeel": "geaccepteerd", "reden": ""},
        )
        assert accepted.status_code == 303
        no_reason = await ilse.post(
            f"{base}/{p42.id}/beoordeling", data={"_csrf_token": form_token(ilse), "oordeel": "afgewezen", "reden": ""}
        )
        assert no_reason.status_code == 422 and "Geef een reden voor de afwijzing" in no_reason.text
        rejected = await ilse.post(
            f"{base}/{p42.id}/beoordeling",
            data={
                "_csrf_token": form_token(ilse),
                "oordeel": "afgewezen",
                "reden": "Scan ontbreekt; stuur de VOG mee.",
            },
        )
        assert rejected.status_code == 303
        # Not the region's provider, or not the region's role: 404.
        assert (await ilse.get(f"/regio/lekstroom/aanbieders/{vlinder.id}/bewijs")).status_code == 404
        samen_kompas = await Provider.objects().where(Provider.kvk_number == "90000004").first()
        assert (await ilse.get(f"/regio/zuid-limburg/aanbieders/{samen_kompas.id}/bewijs")).status_code == 404
        assert (
            await ilse.get(f"/regio/zuid-limburg/aanbieders/{samen_kompas.id}/bewijs/{anna.id}/bestand")
        ).status_code == 404
    async with app_client(oidc_settings) as toegang:
        await login(toegang, "zl-toegang")
        assert (await toegang.get(base)).status_code == 404  # municipality staff do not review evidence

    reviews = await RegionScope(anna_region := (await _region("zuid-limburg"))).select(EvidenceReview)
    assert {(r["evidence"], r["verdict"]) for r in reviews} == {(anna.id, "geaccepteerd"), (p42.id, "afgewezen")}
    assert anna_region
    async with app_client(oidc_settings) as vera:
        await login(vera, "vlinder-medewerker", "/portaal/bewijs")
        register = await vera.get("/portaal/bewijs")
        assert "Zuid-Limburg: Geaccepteerd" in register.text
        assert "Zuid-Limburg: Afgewezen" in register.text and "Scan ontbreekt; stuur de VOG mee." in register.text
        home = await vera.get("/portaal")
        assert "Anna de Boer" in home.text and "Verloopt binnen 10 dagen" in home.text


async def _region(slug: str):
    from apps.tenancy.tables import Region

    return (await Region.objects().where(Region.slug == slug).first()).id


async def test_home_pages_its_escalations_and_costs_the_same_with_many_more(world, oidc_settings):
    """A provider with many running escalations: the home shows 25 at a time with "volgende"/"vorige" links that
    work without JavaScript, every escalation once, and the page runs no more SQL statements than with three."""
    zl = world["zl"]
    scope = RegionScope(zl.region)
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal")
        await http.get("/portaal")  # the ladder specs are read once
        with counting_statements() as few:
            home = await http.get("/portaal")
        assert home.status_code == 200 and 'rel="next"' not in home.text
        now = system_clock.now()
        bulk = [scope.new(Escalation, reference=f"ZL-2026-{7000 + n:05d}", provider=zl.provider,
                          ladder_version=zl.ladder_version, category=zl.category, current_step=zl.current_step,
                          status="open", summary=f"Bulk {n}", opened_at=now + timedelta(minutes=n))
                for n in range(60)]  # fmt: skip
        await Escalation.insert(*bulk)
        await Deadline.insert(*[
            scope.new(Deadline, escalation=e.id, step=e.current_step, key="plan_binnen", term="2 weken",
                      met_by="document:plan_van_aanpak", starts_at=now, due_at=now + timedelta(days=14 + i % 5))
            for i, e in enumerate(bulk) for _ in range(2)
        ])  # fmt: skip
        with counting_statements() as many:
            home = await http.get("/portaal")
        assert many.count <= few.count, many.queries
        seen, pages = [], 1
        seen.extend(re.findall(r'data-escalation="([^"]+)"', home.text))
        while (link := re.search(r'rel="next" href="([^"]+)"', home.text)) is not None:
            home = await http.get(link.group(1).replace("&amp;", "&"))
            seen.extend(re.findall(r'data-escalation="([^"]+)"', home.text))
            pages += 1
        assert pages == 3 and len(seen) == len(set(seen)) == 63  # the three of the demo data too
        assert seen[-1] == "ZL-2026-07059"  # oldest first: the last one opened comes last
        back = re.search(r'rel="prev" href="([^"]+)"', home.text)
        previous = await http.get(back.group(1).replace("&amp;", "&"))
        assert re.findall(r'data-escalation="([^"]+)"', previous.text) == seen[25:50]
