"""Each page costs what it shows (issue 20): the signals, the evidence register (portal and region), the audit log
(region lead and platform admin) and the notice pages (a person's own, the region's delivery overview) run no more
SQL statements with many rows than with a few, page by keyset ("Volgende pagina"/"Vorige pagina", no JavaScript),
and page 2 continues exactly where page 1 stopped, in the page's order, every row once. The dashboard and the
escalation page run no more statements with many escalations or notice events."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from apps.accounts.tables import User
from apps.audit import services as audit_log
from apps.audit.tables import AuditEntry
from apps.escalations import services, signals
from apps.escalations.overview import STOPS_PAGE
from apps.escalations.tables import Deadline, Escalation, Measure, Signal
from apps.escalations.timeline import TIMELINE_PAGE
from apps.evidence import services as evidence
from apps.evidence.tables import EvidenceItem
from apps.ladders.services import latest_version
from apps.ladders.tables import Ladder, LadderVersion
from apps.notifications import inapp, pages
from apps.notifications.tables import Notification
from apps.providers.tables import Contract, Provider
from apps.tenancy.services import municipalities_on
from apps.tenancy.tables import Municipality, Region
from core.clock import system_clock
from core.tenancy import RegionScope
from tests.accounts.support import app_client, login
from tests.querycount import counting_statements
from tests.workspace.support import ZL, escalation_of, field_error, post_form, provider, zl_scope

Adder = Callable[[int, int], Awaitable[None]]  # (first number, how many) -> rows added


async def pages_walked(http, first_page: str, pattern: str) -> list[list[str]]:
    """The ids on each page, following rel="next" from the first one to the last."""
    found, text = [], first_page
    while True:
        found.append(re.findall(pattern, text))
        link = re.search(r'rel="next" href="([^"]+)"', text)
        if link is None:
            return found
        text = (await http.get(link.group(1).replace("&amp;", "&"))).text


async def check_costs_and_pages(http, url: str, pattern: str, add: Adder, size: int, expected: Callable) -> None:
    """A few rows, then more than two pages of them: the same number of statements; the pages together are
    ``expected()`` (the ids in the page's order, from the database) exactly; "vorige" from page 2 is page 1."""
    await add(0, 5)
    await http.get(url)  # what is cached per process (ladder specs, the region) is read once
    with counting_statements() as few:
        page = await http.get(url)
    assert page.status_code == 200 and 'rel="next"' not in page.text
    await add(5, 2 * size + 5)
    with counting_statements() as many:
        page = await http.get(url)
    assert page.status_code == 200
    assert many.count <= few.count, (few.count, many.count, many.queries)
    walked = await pages_walked(http, page.text, pattern)
    assert [len(p) for p in walked[:2]] == [size, size] and len(walked) == 3
    assert [row for p in walked for row in p] == [str(row) for row in await expected()]
    second = re.search(r'rel="next" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    back = re.search(r'rel="prev" href="([^"]+)"', (await http.get(second)).text).group(1).replace("&amp;", "&")
    assert re.findall(pattern, (await http.get(back)).text) == walked[0]


async def test_the_signals_list(world, oidc_settings):
    scope = await zl_scope()
    vlinder = await provider("90000001")
    now = system_clock.now()

    async def add(start: int, count: int) -> None:
        await Signal.insert(*[
            scope.new(Signal, provider=vlinder.id, reported_by=f"Melder {n}", description=f"Signaal {n}",
                      received_at=now - timedelta(minutes=n % 7, seconds=n), status=signals.NEW)
            for n in range(start, start + count)
        ])  # fmt: skip

    async def expected() -> list:
        rows = await scope.select(Signal, Signal.id).order_by(Signal.received_at, ascending=False).order_by(
            Signal.id, ascending=False
        )  # fmt: skip
        return [row["id"] for row in rows]

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", f"{ZL}/signalen")
        await check_costs_and_pages(http, f"{ZL}/signalen?toon=alle", r'data-signal="([^"]+)"', add,
                                    signals.PAGE_SIZE, expected)  # fmt: skip
        new_only = await http.get(f"{ZL}/signalen")
        assert 'rel="next" href="/regio/zuid-limburg/signalen?na=' in new_only.text  # the filter stays


async def _evidence_adder(provider_id) -> tuple[Adder, Callable]:
    async def add(start: int, count: int) -> None:
        await EvidenceItem.insert(*[
            EvidenceItem(provider=provider_id, kind=evidence.VOG_MEDEWERKER if n % 2 else evidence.SKJ,
                         person=f"Persoon {n % 9}", number="" if n % 2 else "12345", issued_on=date(2025, 1, 1),
                         valid_until=date(2028, 1, 1))
            for n in range(start, start + count)
        ])  # fmt: skip

    async def expected() -> list:
        rows = await EvidenceItem.select(EvidenceItem.id).where(EvidenceItem.provider == provider_id).order_by(
            EvidenceItem.kind).order_by(EvidenceItem.person).order_by(EvidenceItem.id)  # fmt: skip
        return [row["id"] for row in rows]

    return add, expected


async def test_the_evidence_register_in_the_portal(world, oidc_settings):
    add, expected = await _evidence_adder((await provider("90000001")).id)
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal/bewijs")
        await check_costs_and_pages(http, "/portaal/bewijs", r'id="bewijs-([^"]+)"', add, evidence.PAGE_SIZE,
                                    expected)  # fmt: skip


async def test_the_evidence_register_of_a_provider_in_the_region(world, oidc_settings):
    vlinder = await provider("90000001")
    add, expected = await _evidence_adder(vlinder.id)
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", ZL)
        await check_costs_and_pages(http, f"{ZL}/aanbieders/{vlinder.id}/bewijs", r'id="bewijs-([^"]+)"', add,
                                    evidence.PAGE_SIZE, expected)  # fmt: skip


async def _audit_adder(region_id, *, platform: bool) -> Adder:
    now = system_clock.now()

    async def add(start: int, count: int) -> None:
        # with ``platform`` every 10th without a region: the platform admin's list merges them in
        await AuditEntry.insert(*[
            AuditEntry(region=None if platform and n % 10 == 3 else region_id, action="test.bulk",
                       actor_label=f"Test {n}", target_type="test", target_id=str(n),
                       at=now + timedelta(minutes=1 + n % 5, seconds=n))
            for n in range(start, start + count)
        ])  # fmt: skip

    return add


async def test_the_audit_log_of_a_region_lead(world, oidc_settings):
    scope = await zl_scope()
    add = await _audit_adder(scope.region_id, platform=False)

    async def expected() -> list:
        rows = await scope.select(AuditEntry, AuditEntry.id).where(AuditEntry.action == "test.bulk").order_by(
            AuditEntry.at, ascending=False).order_by(AuditEntry.id, ascending=False)  # fmt: skip
        return [row["id"] for row in rows]

    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", f"{ZL}/audit")
        # the filter keeps the page to the rows added here (login and the demo data also write the log)
        await check_costs_and_pages(http, f"{ZL}/audit?actie=test.bulk", r'data-audit="([^"]+)"', add,
                                    audit_log.PAGE_SIZE, expected)  # fmt: skip


async def test_the_audit_log_of_the_platform_admin(world, oidc_settings):
    scope = await zl_scope()
    add = await _audit_adder(scope.region_id, platform=True)

    async def expected() -> list:
        rows = await AuditEntry.select(AuditEntry.id).where(AuditEntry.action == "test.bulk").order_by(
            AuditEntry.at, ascending=False).order_by(AuditEntry.id, ascending=False)  # fmt: skip
        return [row["id"] for row in rows]

    async with app_client(oidc_settings) as http:
        await login(http, "beheer", "/beheer/audit")
        await check_costs_and_pages(http, "/beheer/audit?actie=test.bulk", r'data-audit="([^"]+)"', add,
                                    audit_log.PAGE_SIZE, expected)  # fmt: skip


async def test_a_persons_own_notices(world, oidc_settings):
    scope = await zl_scope()
    now = system_clock.now()
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", "/meldingen")
        ilse = await User.objects().where(User.subject == "zl-inkoop").first()

        async def add(start: int, count: int) -> None:
            await Notification.insert(*[
                scope.new(Notification, recipient=str(ilse.id), recipient_user=ilse.id, channel=inapp.INAPP,
                          template="ladder_notify", payload={"escalatie": f"ZL-{n}"}, status="sent",
                          idempotency_key=f"test-mine:{n}", created_at=now - timedelta(minutes=n % 4, seconds=n))
                for n in range(start, start + count)
            ])  # fmt: skip

        async def expected() -> list:
            rows = await Notification.select(Notification.id).where(
                (Notification.recipient_user == ilse.id) & (Notification.channel == inapp.INAPP)
            ).order_by(Notification.created_at, ascending=False).order_by(Notification.id, ascending=False)  # fmt: skip
            return [row["id"] for row in rows]

        await check_costs_and_pages(http, "/meldingen", r'href="/meldingen/([0-9a-f-]{36})"', add, inapp.PAGE_SIZE,
                                    expected)  # fmt: skip
        unread = await Notification.count().where(
            (Notification.recipient_user == ilse.id) & (Notification.channel == inapp.INAPP)
            & Notification.read_at.is_null()
        )  # fmt: skip
        assert unread >= 2 * inapp.PAGE_SIZE + 10
        assert f"{unread}<span" in (await http.get("/meldingen/teller")).text  # the bell counts them all


async def test_the_regions_delivery_overview(world, oidc_settings):
    scope = await zl_scope()
    now = system_clock.now()

    async def add(start: int, count: int) -> None:
        await Notification.insert(*[
            scope.new(Notification, recipient=f"t{n}@zl.example", channel="email", template="ladder_notify",
                      payload={}, status="failed" if n % 2 else "sent", idempotency_key=f"test-region:{n}",
                      created_at=now + timedelta(minutes=1 + n % 3, seconds=n))
            for n in range(start, start + count)
        ])  # fmt: skip

    async def expected() -> list:
        rows = await scope.select(Notification, Notification.id).where(Notification.status == "failed").order_by(
            Notification.created_at, ascending=False).order_by(Notification.id, ascending=False)  # fmt: skip
        return [row["id"] for row in rows]

    async def add_failed(start: int, count: int) -> None:  # twice as many, half of them failed
        await add(2 * start, 2 * count)

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", f"{ZL}/meldingen")
        await check_costs_and_pages(http, f"{ZL}/meldingen?status=failed", r'data-notification="([^"]+)"',
                                    add_failed, pages.DELIVERY_PAGE, expected)  # fmt: skip
        everything = await http.get(f"{ZL}/meldingen")
        assert f"Mislukt ({len(await expected())})" in everything.text
        assert 'rel="next" href="/regio/zuid-limburg/meldingen?na=' in everything.text


async def test_the_platform_admins_notices_of_every_region(world, oidc_settings):
    """One list across the regions (here Zuid-Limburg's and Lekstroom's, in turn), newest first, whatever their
    number; "sending" is a status no other test leaves rows in."""
    regions = [await zl_scope(), RegionScope((await Region.objects().where(Region.slug == "lekstroom").first()).id)]
    now = system_clock.now()

    async def add(start: int, count: int) -> None:
        for n in range(start, start + count):
            scope = regions[n % 2]
            await scope.insert(Notification, scope.new(
                Notification, recipient=f"p{n}@regio.example", channel="email", template="ladder_notify", payload={},
                status="sending", idempotency_key=f"test-platform:{n}",
                created_at=now + timedelta(minutes=1 + n % 3, seconds=n)))  # fmt: skip

    async def expected() -> list:
        rows = await Notification.select(Notification.id).where(Notification.status == "sending").order_by(
            Notification.created_at, ascending=False).order_by(Notification.id, ascending=False)  # fmt: skip
        return [row["id"] for row in rows]

    async with app_client(oidc_settings) as http:
        await login(http, "beheer", "/beheer/meldingen")
        await check_costs_and_pages(http, "/beheer/meldingen?status=sending", r'data-notification="([^"]+)"', add,
                                    pages.DELIVERY_PAGE, expected)  # fmt: skip
        page = await http.get("/beheer/meldingen?status=sending")
        assert f"Wordt verstuurd ({len(await expected())})" in page.text and "Jeugdhulp Lekstroom" in page.text


async def test_the_register_of_intake_stops(world, oidc_settings):
    scope = await zl_scope()
    template = await escalation_of("90000002")
    now = system_clock.now()

    async def add(start: int, count: int) -> None:
        await Measure.insert(*[
            scope.new(Measure, escalation=template.id, provider=template.provider, kind="instroomstop",
                      scope=["0935"], started_at=now - timedelta(days=n % 9, minutes=n))
            for n in range(start, start + count)
        ])  # fmt: skip

    async def expected() -> list:
        rows = await scope.select(Measure, Measure.id).where(
            Measure.kind.is_in(["instroomstop", "clientenstop"]) & Measure.ended_at.is_null()
        ).order_by(Measure.started_at, ascending=False).order_by(Measure.id, ascending=False)  # fmt: skip
        return [row["id"] for row in rows]

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", f"{ZL}/instroomstops")
        await check_costs_and_pages(http, f"{ZL}/instroomstops", r'data-stop="([^"]+)"', add, STOPS_PAGE,
                                    expected)  # fmt: skip
        page = await http.get(f"{ZL}/instroomstops")
        total = len(await expected())
        assert f"Instroomstops die nu van kracht zijn ({total}), {STOPS_PAGE} op deze pagina" in page.text
        csv = (await http.get(f"{ZL}/instroomstops.csv")).text
        assert csv.count("\n") - 1 == total  # the download has every stop, not one page


async def _bulk_escalations(scope, template, count: int, start: int) -> list:
    now = system_clock.now()
    rows = [
        scope.new(Escalation, reference=f"ZL-2026-{8000 + n:05d}", provider=template.provider,
                  ladder_version=template.ladder_version, category=template.category,
                  subcategory=template.subcategory, current_step=template.current_step, status="open",
                  summary=f"Bulk {n}", opened_at=now - timedelta(days=n % 300), next_due_at=now - timedelta(days=1))
        for n in range(start, start + count)
    ]  # fmt: skip
    await Escalation.insert(*rows)
    await Deadline.insert(*[
        scope.new(Deadline, escalation=e.id, step=e.current_step, key="plan_binnen", term="2 weken",
                  met_by="document:plan_van_aanpak", starts_at=now - timedelta(days=15),
                  due_at=now + timedelta(days=(i % 3) - 1))
        for i, e in enumerate(rows)
    ])  # fmt: skip
    await Measure.insert(*[
        scope.new(Measure, escalation=e.id, provider=e.provider, kind="instroomstop", scope=["0935"],
                  started_at=now - timedelta(days=i % 30))
        for i, e in enumerate(rows)
    ])  # fmt: skip
    return rows


async def test_the_dashboard_costs_the_same_with_many_escalations(world, oidc_settings):
    """The region's home with its dashboard: with 60 more escalations (each with a deadline due or overdue and an
    intake stop) no more statements than with 5; the intake stops are counted once and their newest 15 listed once,
    with a link to the register for the rest."""
    scope = await zl_scope()
    template = await escalation_of("90000002")
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", ZL)
        await _bulk_escalations(scope, template, 5, 0)
        await http.get(ZL)
        with counting_statements() as few:
            home = await http.get(ZL)
        assert home.status_code == 200 and 'id="stops-aantal"' in home.text
        await _bulk_escalations(scope, template, 55, 5)
        with counting_statements() as many:
            home = await http.get(ZL)
        assert many.count <= few.count, (few.count, many.count, many.queries)
        stops = await scope.count(Measure).where((Measure.kind == "instroomstop") & Measure.ended_at.is_null())
        assert f'id="stops-aantal">{stops}<' in home.text and stops >= 60
        assert sum(1 for q in many.queries if '"measure"' in q) == 2, [q for q in many.queries if '"measure"' in q]
        listed = re.search(r'<ul class="utrecht-unordered-list" id="stops">(.*?)</ul>', home.text, re.S).group(1)
        assert listed.count("<li ") == 15
        assert f"En nog {stops - 15} instroomstops" in home.text


async def test_the_overview_a_search_an_escalation_and_the_api_list_cost_the_same_with_many_escalations(
    world, oidc_settings
):
    """Issue 20's pages of the region other than the dashboard: the overview, the overview with a search (a
    provider's name), one escalation and the API list run no more statements with 60 more escalations (each with a
    deadline and an intake stop) than with 5."""
    scope = await zl_scope()
    template = await escalation_of("90000002")
    name = (await provider("90000002")).name
    urls = [f"{ZL}/escalaties", f"{ZL}/escalaties?zoek={name.split()[-1]}", f"{ZL}/escalaties/{template.id}",
            "/api/v1/regions/zuid-limburg/escalations"]  # fmt: skip
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", ZL)
        await _bulk_escalations(scope, template, 5, 0)
        few = {}
        for url in urls:
            await http.get(url)
            with counting_statements() as few[url]:
                assert (await http.get(url)).status_code == 200, url
        await _bulk_escalations(scope, template, 55, 5)
        for url in urls:
            with counting_statements() as many:
                page = await http.get(url)
            assert page.status_code == 200, url
            assert many.count <= few[url].count, (url, few[url].count, many.count, many.queries)
            if url.startswith("/api/"):  # its total from the region's tally, as the overview's: no escalation counted
                assert page.json()["total"] == await scope.count(Escalation)
                assert not [q for q in many.queries if "COUNT(" in q.upper() and 'FROM "escalation"' in q], many.queries


async def test_the_escalation_page_costs_the_same_with_many_notice_events(world, oidc_settings):
    """The escalation page with its timeline: with a full page of notice events, each with its mails, no more
    statements than with two (the deliveries of the page's events are looked up in one query)."""
    scope = await zl_scope()
    escalation = await escalation_of("90000002")
    url = f"{ZL}/escalaties/{escalation.id}"

    async def notices(count: int) -> None:
        for _ in range(count):
            event = await services.append_event(scope, escalation.id, "melding_verstuurd", payload={"aantal": 2})
            await Notification.insert(*[
                scope.new(Notification, recipient=f"t{i}@zl.example", channel="email", template="ladder_notify",
                          idempotency_key=f"{event.id}:{i}", status="sent" if i else "failed",
                          sent_at=event.occurred_at if i else None)
                for i in range(2)
            ])  # fmt: skip

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        await notices(2)
        await http.get(url)
        with counting_statements() as few:
            page = await http.get(url)
        assert page.text.count("Bezorgd: 1 van 2") == 2
        await notices(TIMELINE_PAGE)
        with counting_statements() as many:
            page = await http.get(url)
        assert many.count <= few.count, (few.count, many.count, many.queries)
        assert page.text.count("Bezorgd: 1 van 2") == TIMELINE_PAGE and "1 mislukt." in page.text
        # the escalation comes with its ladder version and provider in one statement, its dossier from its documents,
        # and a version this process validated before is not read again (issue 20)
        first = [q for q in many.queries if 'FROM "escalation"' in q]
        assert len(first) == 1 and '"escalation$ladder_version"' in first[0] and '"escalation$provider"' in first[0]
        assert not [q for q in many.queries if q.lstrip().upper().startswith("SELECT") and (
            'FROM "ladder_version"' in q or 'FROM "provider"' in q)], many.queries
        assert sum(1 for q in many.queries if 'FROM "document"' in q) == 1, many.queries


async def test_the_landing_page_shows_the_newest_escalations_as_links_whatever_their_number(world, oidc_settings):
    """/werkruimte, the page after login: the team member and the provider see the newest ten escalations, newest
    first, each reference a link to the page they may open, and a link to the list with the rest; 60 more
    escalations cost no more statements (it read every escalation of the region before)."""
    scope = await zl_scope()
    template = await escalation_of("90000001")
    for account, link in [("zl-inkoop", f"{ZL}/escalaties/"), ("vlinder-medewerker", "/portaal/escalaties/")]:
        async with app_client(oidc_settings) as http:
            await login(http, account, "/werkruimte")
            await http.get("/werkruimte")
            with counting_statements() as few:
                assert (await http.get("/werkruimte")).status_code == 200
            if account == "zl-inkoop":
                await _bulk_escalations(scope, template, 60, 0)
            with counting_statements() as many:
                page = await http.get("/werkruimte")
            assert page.status_code == 200
            assert many.count <= few.count, (account, few.count, many.count, many.queries)
            newest = await scope.select(Escalation, Escalation.id, Escalation.reference).where(
                Escalation.provider == template.provider
            ).order_by(Escalation.opened_at, ascending=False).order_by(Escalation.id, ascending=False).limit(10)
            table = page.text.split('id="escalaties-', 1)[1].split("</table>", 1)[0]
            if account == "zl-inkoop":  # the region's newest, of every provider
                newest = await scope.select(Escalation, Escalation.id, Escalation.reference).order_by(
                    Escalation.opened_at, ascending=False
                ).order_by(Escalation.id, ascending=False).limit(10)
                assert f'href="{ZL}/escalaties"' in page.text and "Alle escalaties in" in page.text
            else:
                assert 'href="/portaal/" data-all' in page.text
            assert re.findall(r'<a class="utrecht-link" href="([^"]+)">([^<]+)</a>', table) == [
                (f"{link}{row['id']}", row["reference"]) for row in newest
            ]
            assert (await http.get(f"{link}{newest[0]['id']}")).status_code == 200


async def _more_regions(start: int, count: int) -> None:
    """``count`` regions, each with two municipalities (one merged away before today) and a ladder in version 2."""
    regions = [Region(slug=f"testregio-{n}", name=f"Testregio {n:02d}") for n in range(start, start + count)]
    await Region.insert(*regions)
    for n, region in enumerate(regions, start):
        scope = RegionScope(region.id)
        await Municipality.insert(
            scope.new(Municipality, cbs_code=f"GM{9000 + 2 * n}", name=f"Stad {n}"),
            scope.new(Municipality, cbs_code=f"GM{9001 + 2 * n}", name=f"Dorp {n}", valid_until=date(2020, 12, 31)),
        )  # fmt: skip
        ladder = scope.new(Ladder, key="kwaliteit", name=f"Ladder {n}")
        await Ladder.insert(ladder)
        await LadderVersion.insert(*[
            scope.new(LadderVersion, ladder=ladder.id, version=v, definition={}, sha256=f"{n}-{v}") for v in (1, 2)
        ])  # fmt: skip


async def test_the_list_of_regions_costs_the_same_with_many_regions(world, oidc_settings):
    """The public home page, the API's list of regions and the platform admin's regions: with 20 more regions no
    more statements than with 2 (they read the municipalities and ladders of each region in a query of its own),
    and each region still shows its municipalities of today and its ladders with their latest version."""
    urls = ["/", "/api/v1/regions", "/beheer/regios"]
    async with app_client(oidc_settings) as http:
        await login(http, "beheer", "/beheer/regios")
        await _more_regions(0, 2)
        few = {}
        for url in urls:
            await http.get(url)
            with counting_statements() as few[url]:
                assert (await http.get(url)).status_code == 200, url
        await _more_regions(2, 20)
        for url in urls:
            with counting_statements() as many:
                page = await http.get(url)
            assert page.status_code == 200, url
            assert many.count <= few[url].count, (url, few[url].count, many.count, many.queries)
        regions = {r["slug"]: r for r in (await http.get("/api/v1/regions")).json()}
        assert regions["testregio-7"]["municipalities"] == 1
        assert regions["testregio-7"]["ladders"] == [{"key": "kwaliteit", "name": "Ladder 7", "version": 2}]
        zl = await zl_scope()
        assert regions["zuid-limburg"]["municipalities"] == len(await municipalities_on(zl, system_clock.today()))
        assert [(x["key"], x["version"]) for x in regions["zuid-limburg"]["ladders"]] == [
            (x.key, (await latest_version(zl, x)).version)
            for x in await zl.objects(Ladder).order_by(Ladder.key)
        ]  # fmt: skip
        home = (await http.get("/")).text
        row = home.split('data-region="testregio-19"', 1)[1].split("</tr>", 1)[0]
        assert "<td class=\"utrecht-table__cell utrecht-table__cell--numeric\" data-municipalities>1</td>" in row
        assert "Ladder 19 <span class=\"trede-muted\">(versie 2)</span>" in row
        admin = (await http.get("/beheer/regios")).text
        assert "Testregio 19" in admin and admin.count("Testregio ") >= 22


async def test_the_portal_home_shows_the_first_evidence_to_end_whatever_the_register_holds(world, oidc_settings):
    """The portal's home lists the evidence that ends within the warning days or has ended and is not replaced:
    the first ten by end date, with how many there are; 30 more such items (and renewals) cost no more statements
    (it read every item that ever ended)."""
    vlinder = await provider("90000001")
    today = system_clock.today()

    async def add(start: int, count: int) -> None:
        items = []
        for n in range(start, start + count):
            issued = today - timedelta(days=3 * 365 - 50 + 7 * n)  # ends within 50 days, or has ended
            items.append(EvidenceItem(provider=vlinder.id, kind=evidence.VOG_MEDEWERKER, person=f"Medewerker {n}",
                                      issued_on=issued, valid_until=evidence.valid_until(evidence.VOG_MEDEWERKER,
                                                                                         issued)))  # fmt: skip
        await EvidenceItem.insert(*items)
        # every third one is renewed: the renewal is valid, the old one no longer shows
        await EvidenceItem.insert(*[
            EvidenceItem(provider=vlinder.id, kind=item.kind, person=item.person, issued_on=today,
                         valid_until=evidence.valid_until(item.kind, today), replaces=item.id)
            for item in items[::3]
        ])  # fmt: skip

    async def expected() -> list[str]:
        rows = await EvidenceItem.select(EvidenceItem.id, EvidenceItem.person).where(
            (EvidenceItem.provider == vlinder.id) & (EvidenceItem.valid_until <= today + timedelta(days=60))
        ).order_by(EvidenceItem.valid_until).order_by(EvidenceItem.id)  # fmt: skip
        renewed = {r["replaces"] for r in await EvidenceItem.select(EvidenceItem.replaces).where(
            EvidenceItem.replaces.is_not_null())}  # fmt: skip
        return [r["person"] for r in rows if r["id"] not in renewed]

    def listed(page: str) -> list[str]:
        part = page.split('id="verloopt-lijst">', 1)[1].split("</ul>", 1)[0]
        return re.findall(r'<li class="utrecht-unordered-list__item">[^<]* van ([^:<]+):', part)

    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal/")
        await add(0, 5)
        await http.get("/portaal/")
        with counting_statements() as few:
            page = await http.get("/portaal/")
        assert listed(page.text) == (await expected())[:10]
        await add(5, 30)
        with counting_statements() as many:
            page = await http.get("/portaal/")
        assert page.status_code == 200
        assert many.count <= few.count, (few.count, many.count, many.queries)
        everything = await expected()
        assert len(everything) > 10 and listed(page.text) == everything[:10]
        assert f"De 10 met de vroegste einddatum, van {len(everything)} in totaal." in page.text
        assert 'href="/portaal/bewijs"' in page.text
        ending = [q for q in many.queries if 'FROM "evidence_item"' in q and '"valid_until" <=' in q]
        assert ending and all("LIMIT" in q for q in ending), ending  # a page and a capped count, never them all


async def test_the_signal_form_searches_the_providers_of_a_large_region(world, oidc_settings):
    """The access team's signal form listed every provider with a contract in the region (thousands, nationally):
    with 250 more it runs no more statements and offers a search by name or KvK number instead; one match files the
    signal for it, several are offered to choose from, none is said next to the field."""
    scope = await zl_scope()
    today = system_clock.today()

    async def add(start: int, count: int) -> None:
        providers = [Provider(kvk_number=f"{70000000 + n}", name=f"Zorgpraktijk Noord {n:03d}")
                     for n in range(start, start + count)]  # fmt: skip
        await Provider.insert(*providers)
        await Contract.insert(*[scope.new(Contract, provider=p.id, reference=f"ZL-NOORD-{p.kvk_number}",
                                          valid_from=today) for p in providers])  # fmt: skip

    async with app_client(oidc_settings) as http:
        await login(http, "zl-toegang", f"{ZL}/signalen/nieuw")
        await add(0, 5)
        await http.get(f"{ZL}/signalen/nieuw")
        with counting_statements() as few:
            form = await http.get(f"{ZL}/signalen/nieuw")
        assert "Zorgpraktijk Noord 004" in form.text and 'name="aanbieder_zoek"' not in form.text  # a short list
        await add(5, signals.PROVIDER_CHOICES + 50)
        with counting_statements() as many:
            form = await http.get(f"{ZL}/signalen/nieuw")
        assert form.status_code == 200
        assert many.count <= few.count, (few.count, many.count, many.queries)
        assert 'name="aanbieder_zoek"' in form.text and "Zorgpraktijk Noord" not in form.text

        base = {"gemeld_door": "Tessa Toegang, toegang Maastricht", "omschrijving": "Wachtlijst niet gemeld."}
        several = await post_form(http, f"{ZL}/signalen", {**base, "aanbieder_zoek": "noord 01"})
        assert several.status_code == 422
        assert "Meer dan één aanbieder gevonden bij ‘noord 01’" in field_error(several.text, "aanbieder_zoek")
        offered = re.findall(r'<option value="([^"]+)"[^>]*>(Zorgpraktijk Noord 01\d) \(KvK', several.text)
        assert [name for _, name in offered] == [f"Zorgpraktijk Noord 01{n}" for n in range(10)]
        chosen = await post_form(http, f"{ZL}/signalen", {**base, "aanbieder_zoek": "noord 01",
                                                          "aanbieder": offered[3][0]})  # fmt: skip
        assert chosen.status_code == 303
        one = await post_form(http, f"{ZL}/signalen", {**base, "aanbieder_zoek": "70000123"})  # the KvK number
        assert one.status_code == 303
        none = await post_form(http, f"{ZL}/signalen", {**base, "aanbieder_zoek": "Zuiderzorg"})
        assert none.status_code == 422 and "Geen aanbieder met een contract" in field_error(none.text, "aanbieder_zoek")
        broad = await post_form(http, f"{ZL}/signalen", {**base, "aanbieder_zoek": "Noord"})
        assert "Dit zijn de eerste 20." in broad.text
    filed = await scope.select(Signal, Signal.provider.name.as_alias("name")).where(
        Signal.description == base["omschrijving"]).order_by(Signal.received_at)  # fmt: skip
    assert [row["name"] for row in filed] == ["Zorgpraktijk Noord 013", "Zorgpraktijk Noord 123"]
