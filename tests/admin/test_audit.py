"""The audit log pages: the platform admin filters every region's entries and exports them as CSV; a
purchasing team lead sees only their own region; nobody else gets in."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.audit.tables import AuditEntry
from apps.tenancy.tables import Region
from core.audit import audit
from core.tenancy import RegionScope
from tests.accounts.support import app_client, login
from tests.csv_support import EVIL_NAME, sheet_rows


def table(html: str) -> str:
    """The log's rows only (the page's help text names actions too)."""
    start = html.index('id="auditlog"')
    return html[start : html.index("</table>", start)] if "</table>" in html[start:] else html[start:]


async def _region(slug: str) -> Region:
    return await Region.objects().where(Region.slug == slug).first()


async def _entries():
    zl, lek = await _region("zuid-limburg"), await _region("lekstroom")
    await audit("ladder.publish", region_id=zl.id, actor_label="Luuk Leider", target_type="ladder",
                target_id="kwaliteit", detail={"version": 2}, clock=_at(2026, 11, 2))  # fmt: skip
    await audit(
        "admin.region.kleuren",
        region_id=lek.id,
        actor_label="=SOM(1)",
        target_type="region",
        target_id="lekstroom",
        detail={"theme": {"primary": "=HYPERLINK(1)"}},
        clock=_at(2026, 11, 20),
    )
    await audit("admin.region.brieven", region_id=zl.id, actor_label="Bram Beheer", target_type="region",
                target_id="zuid-limburg", detail={}, clock=_at(2026, 11, 21))  # fmt: skip
    await audit("provider.naam", region_id=zl.id, actor_label=" =1+1", target_type="provider", target_id=EVIL_NAME,
                detail={"naam": EVIL_NAME}, clock=_at(2026, 11, 22))  # fmt: skip
    return zl, lek


class _at:
    def __init__(self, *day):
        self.moment = datetime(*day, 12, 0, tzinfo=UTC)

    def now(self):
        return self.moment


async def test_the_platform_admin_filters_every_region_and_exports_csv(world, oidc_settings):
    await _entries()
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        page = await http.get("/beheer/audit", params={"actie": "admin.region"})
        assert page.status_code == 200
        assert "admin.region.kleuren" in table(page.text) and "admin.region.brieven" in table(page.text)
        assert "ladder.publish" not in table(page.text)
        only_lek = await http.get("/beheer/audit", params={"actie": "admin", "regio": "lekstroom"})
        assert "admin.region.kleuren" in table(only_lek.text) and "admin.region.brieven" not in table(only_lek.text)
        by_actor = await http.get("/beheer/audit", params={"door": "luuk"})
        assert "ladder.publish" in table(by_actor.text) and "admin.region" not in table(by_actor.text)
        period = await http.get("/beheer/audit", params={"van": "2026-11-20", "tot": "2026-11-20"})
        assert "admin.region.kleuren" in table(period.text) and "admin.region.brieven" not in table(period.text)
        by_target = await http.get("/beheer/audit", params={"doel": "kwaliteit"})
        assert "ladder.publish" in table(by_target.text) and "admin.region" not in table(by_target.text)
        wrong = await http.get("/beheer/audit", params={"van": "gisteren"})
        assert wrong.status_code == 422 and "Vul een datum in als jjjj-mm-dd." in wrong.text

        exported = await http.get("/beheer/audit/export.csv", params={"actie": "admin.region"})
        rows = sheet_rows(exported, "auditlog-alle-regios.csv")  # BOM, ';', the charset once
        assert rows[0] == ["tijdstip", "regio", "actie", "door", "doel_soort", "doel", "details"]
        assert [r[2] for r in rows[1:]] == ["admin.region.brieven", "admin.region.kleuren"]
        assert rows[2][1] == "Jeugdhulp Lekstroom" and rows[2][3] == "'=SOM(1)"  # a formula stays text in a spreadsheet
        assert rows[1][0] == "21-11-2026 13:00:00"  # Dutch time, day first
    lek = await _region("lekstroom")
    recorded = await RegionScope(lek.id).count(AuditEntry).where(AuditEntry.action == "audit.export")
    assert recorded == 0  # the admin's export spans regions: recorded without a region


async def test_a_region_lead_sees_only_their_own_region(world, oidc_settings):
    zl, _ = await _entries()
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead")
        overview = await http.get("/regio/zuid-limburg/escalaties")
        assert 'href="/regio/zuid-limburg/audit"' in overview.text  # the lead finds the log in the region's menu
        page = await http.get("/regio/zuid-limburg/audit")
        assert (
            page.status_code == 200
            and "ladder.publish" in table(page.text)
            and "admin.region.brieven" in table(page.text)
        )
        assert "admin.region.kleuren" not in table(page.text)  # Lekstroom's
        assert (await http.get("/regio/lekstroom/audit")).status_code == 404
        assert (await http.get("/beheer/audit")).status_code == 404
        exported = await http.get("/regio/zuid-limburg/audit/export.csv")
        assert "admin.region.kleuren" not in exported.text
        rows = sheet_rows(exported, "auditlog-zuid-limburg.csv")  # BOM, ';', the charset once
        named = [(r[3], r[5]) for r in rows[1:] if r[2] == "provider.naam"]
        assert named == [("' =1+1", "'" + EVIL_NAME)]  # a provider's name and a label like a formula stay text
    assert await RegionScope(zl.id).count(AuditEntry).where(AuditEntry.action == "audit.export") == 1
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        assert 'href="/regio/zuid-limburg/audit"' not in (await http.get("/regio/zuid-limburg/escalaties")).text
        assert (await http.get("/regio/zuid-limburg/audit")).status_code == 404


async def test_the_platform_admin_also_sees_entries_without_a_region_and_a_lead_never_does(world, oidc_settings):
    await _entries()
    await audit("role.granted", actor_label="Systeem (KvK-koppeling bij eerste login)", target_type="user",
                target_id="vera", detail={"role": "aanbieder_medewerker"}, clock=_at(2026, 11, 22))  # fmt: skip
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        everything = table((await http.get("/beheer/audit")).text)
        assert "role.granted" in everything and "Platform (geen regio)" in everything
        assert "admin.region.kleuren" in everything  # the regions' entries stay listed beside it
        platform_only = table((await http.get("/beheer/audit", params={"regio": "platform"})).text)
        assert "role.granted" in platform_only and "admin.region" not in platform_only
        one_region = table((await http.get("/beheer/audit", params={"regio": "lekstroom"})).text)
        assert "role.granted" not in one_region
        exported = await http.get("/beheer/audit/export.csv", params={"actie": "role", "doel": "vera"})
        rows = sheet_rows(exported)
        assert [(r[1], r[2], r[5]) for r in rows[1:]] == [("Platform (geen regio)", "role.granted", "vera")]
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead")
        assert "role.granted" not in table((await http.get("/regio/zuid-limburg/audit")).text)
