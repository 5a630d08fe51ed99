"""The region dashboard on /regio/<slug>: open escalations by step and category, deadlines due this week and
overdue, intake stops in force, and escalations opened and closed per Dutch calendar month (SVG chart and table),
from known rows and a frozen clock. Another region's rows never count."""

from __future__ import annotations

import re
from datetime import datetime, time

import pytest

from apps.escalations.tables import Deadline, Escalation, Measure
from apps.ladders.tables import Ladder, LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.tables import Municipality, Region
from core.clock import AMSTERDAM, FrozenClock
from core.tenancy import RegionScope
from tests.accounts.support import ROOT, app_client, login

ZL = "/regio/zuid-limburg"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=AMSTERDAM)  # Wednesday; the week runs to Sunday 29 November


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def end_of(year: int, month: int, day: int) -> datetime:
    """How deadlines store a day's term: the end of that Dutch day."""
    return datetime.combine(datetime(year, month, day).date(), time.max, AMSTERDAM)


class RegionRows:
    """Writes escalations, deadlines and measures of one region as they are stored, with chosen moments."""

    def __init__(self, scope: RegionScope, version_id, provider_id):
        self.scope, self.version_id, self.provider_id, self.count = scope, version_id, provider_id, 0

    @classmethod
    async def of(cls, slug: str, provider: Provider) -> RegionRows:
        region = await Region.objects().where(Region.slug == slug).first()
        scope = RegionScope(region.id)
        ladder = await scope.objects(Ladder).where(Ladder.key == "kwaliteit").first()
        version = await scope.objects(LadderVersion).where(LadderVersion.ladder == ladder.id).order_by(
            LadderVersion.version, ascending=False).first()  # fmt: skip
        return cls(scope, version.id, provider.id)

    async def escalation(self, step: str, category: str, sub: str, opened: datetime, closed: datetime | None = None):
        self.count += 1
        row = self.scope.new(
            Escalation, reference=f"T-{self.scope.region_id.hex[:4]}-{self.count:04d}", provider=self.provider_id,
            ladder_version=self.version_id, category=category, subcategory=sub, current_step=step,
            status="closed" if closed else "open", opened_at=opened, closed_at=closed, summary=f"Test {self.count}",
        )  # fmt: skip
        await row.save()
        return row

    async def deadline(self, escalation, step: str, key: str, due: datetime, status: str = "open"):
        await self.scope.new(Deadline, escalation=escalation.id, step=step, key=key, term="2 weken", starts_at=due,
                             due_at=due, status=status).save()  # fmt: skip


@pytest.fixture
async def known_world(db, dev_op):
    from apps.tenancy.services import sync_tenants
    from core.demo import ensure_demo_accounts

    await sync_tenants(ROOT / "tenants")
    provider = Provider(kvk_number="91000001", name="Aanbieder Dashboard B.V.")
    await provider.save()
    other = Provider(kvk_number="91000002", name="Aanbieder Elders B.V.")
    await other.save()
    await ensure_demo_accounts(dev_op.issuer)

    zl = await RegionRows.of("zuid-limburg", provider)
    e1 = await zl.escalation("verzoek_plan_van_aanpak", "niet_veiligheid", "administratief", at(2026, 11, 13))
    e2 = await zl.escalation("verzoek_plan_van_aanpak", "niet_veiligheid", "financieel", at(2026, 11, 2))
    e3 = await zl.escalation("officiele_brief", "niet_veiligheid", "financieel", at(2026, 9, 10))
    e4 = await zl.escalation("gesprek_direct", "veiligheid", "vog_werknemers", at(2026, 11, 24))
    await zl.escalation("verzoek_plan_van_aanpak", "niet_veiligheid", "doeltreffendheid", at(2026, 6, 10),
                        closed=at(2026, 7, 15))  # fmt: skip
    await zl.escalation("verzoek_plan_van_aanpak", "niet_veiligheid", "financieel", at(2025, 10, 5),
                        closed=at(2026, 1, 20))  # opened before the 12 months, closed within  # fmt: skip
    # 00:30 on 1 November in the Netherlands is still 31 October in UTC: it counts for November
    await zl.escalation("verzoek_plan_van_aanpak", "niet_veiligheid", "financieel", at(2026, 11, 1, 0, 30),
                        closed=at(2026, 11, 20))  # fmt: skip

    await zl.deadline(e1, "verzoek_plan_van_aanpak", "plan_binnen", end_of(2026, 11, 27))  # this week
    await zl.deadline(e2, "verzoek_plan_van_aanpak", "plan_binnen", end_of(2026, 11, 16))  # overdue
    await zl.deadline(e3, "officiele_brief", "plan_binnen_na_brief", end_of(2026, 11, 29))  # Sunday: this week
    await zl.deadline(e3, "officiele_brief", "plan_binnen_na_brief", at(2026, 11, 25, 9, 0))  # an hour ago: overdue
    await zl.deadline(e3, "officiele_brief", "plan_binnen_na_brief", end_of(2026, 11, 26), status="met")  # met
    await zl.deadline(e4, "gesprek_direct", "gesprek", at(2026, 11, 30, 12, 0))  # next week

    codes = [m["cbs_code"] for m in await zl.scope.select(Municipality, Municipality.cbs_code).limit(3)]
    await zl.scope.new(Measure, escalation=e4.id, provider=provider.id, kind="instroomstop", scope=codes,
                       started_at=at(2026, 11, 24, 15, 0), start_motivation="VOG's ontbreken.").save()  # fmt: skip
    await zl.scope.new(Measure, escalation=e3.id, provider=provider.id, kind="instroomstop", scope=codes,
                       started_at=at(2026, 9, 12), ended_at=at(2026, 10, 1)).save()  # lifted  # fmt: skip

    lek = await RegionRows.of("lekstroom", other)  # another region: none of this may show in Zuid-Limburg
    elsewhere = await lek.escalation("verzoek_plan_van_aanpak", "niet_veiligheid", "", at(2026, 11, 10))
    await lek.deadline(elsewhere, "verzoek_plan_van_aanpak", "plan_binnen", end_of(2026, 11, 26))
    await lek.deadline(elsewhere, "verzoek_plan_van_aanpak", "plan_binnen", end_of(2026, 11, 2))


def row_numbers(html: str, attribute: str, value: str) -> list[int]:
    match = re.search(rf'<tr[^>]*{attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return [int(n) for n in re.findall(r"<td[^>]*>\s*(\d+)\s*</td>", match.group(1))]


def table(html: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', html, re.S)
    return match.group(1) if match else ""


async def test_the_dashboard_shows_the_numbers_of_the_known_rows(known_world, oidc_settings):
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(NOW)
        await login(http, "zl-inkoop")
        page = await http.get(ZL)
        assert page.status_code == 200
        html = page.text

    # open escalations by step and by category (closed ones and Lekstroom's are not counted)
    assert row_numbers(html, "data-stap", "kwaliteit/verzoek_plan_van_aanpak") == [2]
    assert row_numbers(html, "data-stap", "kwaliteit/officiele_brief") == [1]
    assert row_numbers(html, "data-stap", "kwaliteit/gesprek_direct") == [1]
    assert len(re.findall(r"data-stap=", html)) == 3
    assert row_numbers(html, "data-categorie", "kwaliteit/niet_veiligheid/financieel") == [2]
    assert row_numbers(html, "data-categorie", "kwaliteit/niet_veiligheid/administratief") == [1]
    assert row_numbers(html, "data-categorie", "kwaliteit/veiligheid/vog_werknemers") == [1]
    assert "kwaliteit/niet_veiligheid/doeltreffendheid" not in html  # only a closed one

    # deadlines: due this week (to Sunday 29 November) and overdue, each listed with its escalation
    assert re.search(r'id="deze-week-aantal">2<', html) and re.search(r'id="verlopen-aantal">2<', html)
    week = table(html, "deze-week")
    assert week.index("27 november 2026") < week.index("29 november 2026")
    assert "Plan van aanpak" in week and "T-" in week and "30 november" not in week
    overdue = table(html, "verlopen")
    assert "16 november 2026" in overdue and "25 november 2026" in overdue
    assert "Aanbieder Elders" not in html

    # the intake stop in force (the lifted one is not)
    assert re.search(r'id="stops-aantal">1<', html) and "3 gemeenten" in html

    # opened and closed per Dutch month, December 2025 to November 2026
    months = re.findall(r'data-maand="(\d{4}-\d{2})"', html)
    assert months[0] == "2025-12" and months[-1] == "2026-11" and len(months) == 12
    expected = {"2026-11": [4, 1], "2026-10": [0, 0], "2026-09": [1, 0], "2026-07": [0, 1], "2026-06": [1, 0],
                "2026-01": [0, 1], "2025-12": [0, 0]}  # fmt: skip
    for month, numbers in expected.items():
        assert row_numbers(html, "data-maand", month) == numbers, month
    assert "6 geopend, 3 afgesloten" in html
    # the chart: an image with a text alternative; the same numbers as labels above its bars
    svg = re.search(r"<svg[^>]*>(.*?)</svg>", html, re.S)
    assert 'role="img"' in html[svg.start() : svg.start() + 300] and "<title" in svg.group(1)
    assert len(re.findall(r"<rect ", svg.group(1))) == 1 + 24  # the hatching pattern and two bars per month
    labels = re.findall(r'font-size="10"[^>]*>(\d+)</text>', svg.group(1))
    assert labels[-2:] == ["4", "1"] and sorted(map(int, labels), reverse=True)[:1] == [4]


async def test_without_read_rights_there_is_no_dashboard(known_world, oidc_settings):
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(NOW)
        await login(http, "zl-toegang")  # municipality: the register of intake stops, not the escalations
        page = await http.get(ZL)
        assert page.status_code == 200 and 'id="dashboard"' not in page.text
        assert "Instroomstops" in page.text
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(NOW)
        await login(http, "lek-inkoop")
        own = await http.get("/regio/lekstroom")
        assert re.search(r'id="deze-week-aantal">1<', own.text) and re.search(r'id="verlopen-aantal">1<', own.text)
        assert "Aanbieder Dashboard" not in own.text
        assert (await http.get(ZL)).status_code == 404


async def test_the_home_page_leads_with_what_needs_a_team_member_today(known_world, oidc_settings):
    """Before the counts and the charts: the overdue terms and today's, the ladder's proposal to decide and the
    letter whose receipt is not confirmed, each linked to its escalation; an observer, who decides nothing, does not
    get the block."""
    from apps.escalations.tables import LetterDelivery, StepProposal, TimelineEvent

    zl = await RegionRows.of("zuid-limburg", await Provider.objects().where(Provider.kvk_number == "91000001").first())
    zl.count = 100  # references after those of known_world
    e5 = await zl.escalation("officiele_brief", "niet_veiligheid", "financieel", at(2026, 10, 1))
    await zl.deadline(e5, "officiele_brief", "plan_binnen_na_brief", end_of(2026, 11, 25))  # today, tonight
    await zl.scope.new(StepProposal, escalation=e5.id, step="formeel_gesprek", step_title="Formeel gesprek",
                       reason="De termijn is verlopen.", proposed_at=at(2026, 11, 20)).save()  # fmt: skip
    event = zl.scope.new(TimelineEvent, escalation=e5.id, sequence=1, kind="brief_verstuurd", payload={})
    await event.save()
    await zl.scope.new(LetterDelivery, escalation=e5.id, event=event.id, letter="officiele_brief_plan_van_aanpak",
                       title="Officiële brief", method="aangetekend", sent_at=at(2026, 11, 10),
                       acknowledge_by=at(2026, 11, 17)).save()  # fmt: skip
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(NOW)
        await login(http, "zl-inkoop")
        html = (await http.get(ZL)).text
    today = html[html.index('id="vandaag"') : html.index('id="dashboard"')]
    assert html.index('id="vandaag"') < html.index("trede-tegels")  # first, before the counts
    assert "Termijnen: 2 verlopen, 1 vandaag" in today
    terms = re.findall(r"<time[^>]*>([^<]+)</time>", today[: today.index('id="vandaag-voorstellen"')])
    assert terms == ["16 november 2026", "25 november 2026", "25 november 2026"]  # overdue oldest first, then today
    assert "Te beslissen: 1 voorstel" in today and "Formeel gesprek" in today
    assert f'href="{ZL}/escalaties/{e5.id}#te-beoordelen"' in today
    assert "Ontvangst niet bevestigd: 1 brief" in today and "Officiële brief" in today
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(NOW)
        await login(http, "zl-waarnemer")
        assert 'id="vandaag"' not in (await http.get(ZL)).text
