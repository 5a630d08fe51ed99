"""A region as a tenants/ file and back: export → load → equal, for the shipped regions and for one made on the
admin pages; an exported file imported into a fresh database gives the same region; a ladder edited in Trede is
exported inline; a broken file imports nothing and says why in the loader's own words."""

from __future__ import annotations

import os
import shutil
import tomllib

from apps.admin import services as admin
from apps.audit.tables import AuditEntry
from apps.ladders import services as ladder_services
from apps.ladders.tables import Ladder
from apps.tenancy.export import export_region, region_settings
from apps.tenancy.loader import load_tenants
from apps.tenancy.schema import RegionFile
from apps.tenancy.services import NOT_IN_SETTINGS, sync_tenants
from apps.tenancy.tables import Region
from core.tenancy import RegionScope
from tests.accounts.support import app_client, csrf_headers, login
from tests.admin.support import HOLLAND_RIJNLAND
from tests.conftest import TABLES_IN_DELETE_ORDER, new_database_url
from tests.support import ROOT, trede

TENANTS = ROOT / "tenants"


def _load_one(tmp_path, slug: str, content: str):
    folder = tmp_path / "tenants"
    shutil.copytree(TENANTS / "templates", folder / "templates", dirs_exist_ok=True)
    (folder / f"{slug}.toml").write_text(content, encoding="utf-8")
    result = load_tenants(folder)
    assert result.problems == []
    return result.regions[0]


def _normalised(region: RegionFile) -> dict:
    data = region.model_dump(mode="json")
    data["municipalities"] = sorted(data["municipalities"], key=lambda m: m["cbs_code"])
    data["mailboxes"] = sorted(data["mailboxes"], key=lambda m: (m["role"], m["email"]))
    return data


async def test_every_shipped_region_round_trips(synced, tmp_path):
    original = {loaded.region.slug: loaded for loaded in load_tenants(TENANTS).regions}
    for slug, loaded in original.items():
        content = await export_region(slug, TENANTS)
        again = _load_one(tmp_path / slug, slug, content)
        assert _normalised(again.region) == _normalised(loaded.region)
        assert again.ladders == loaded.ladders
        # Ladders equal to a shared template are written as a reference, as in the original file.
        assert tomllib.loads(content)["ladders"]["contract"] == {"template": "contractladder"}


async def test_every_section_of_the_schema_is_stored_so_a_new_section_is_exported_too(synced):
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    assert set(region_settings(region)) == set(RegionFile.model_fields) - NOT_IN_SETTINGS


async def test_a_ladder_edited_in_trede_is_exported_inline(synced, tmp_path):
    region = await Region.objects().where(Region.slug == "lekstroom").first()
    scope = RegionScope(region.id)
    ladder = await scope.objects(Ladder).where(Ladder.key == "contract").first()
    spec = ladder_services.spec_of(await ladder_services.latest_version(scope, ladder))
    edited = spec.model_copy(update={"name": "Contractladder Lekstroom (aangepast)", "description": "eigen versie"})
    await ladder_services.publish(scope, edited)
    content = await export_region("lekstroom", TENANTS)
    entry = tomllib.loads(content)["ladders"]["contract"]
    assert "template" not in entry and entry["description"] == "eigen versie" and len(entry["steps"]) == len(spec.steps)
    assert _load_one(tmp_path, "lekstroom", content).ladders["contract"] == edited


async def test_an_admin_region_exports_and_imports_into_a_fresh_database(world, oidc_settings, tmp_path, db):
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        created = await http.post("/beheer/regios/nieuw", data=HOLLAND_RIJNLAND, headers=csrf_headers(http))
        assert created.status_code == 303
        await http.post(
            "/beheer/regios/holland-rijnland/gesloten_dagen",
            data={"dag": "2026-12-24", "omschrijving": "Kerstavond"},
            headers=csrf_headers(http),
        )
        download = await http.get("/beheer/regios/holland-rijnland/export.toml")
        assert download.status_code == 200
        assert download.headers["content-disposition"] == 'attachment; filename="holland-rijnland.toml"'
    exported = download.text
    loaded = _load_one(tmp_path, "holland-rijnland", exported)
    assert loaded.region.name == "Holland Rijnland" and len(loaded.region.municipalities) == 13
    assert loaded.region.calendar.extra_closed_days[0].label == "Kerstavond"

    for table in TABLES_IN_DELETE_ORDER:  # a fresh database: nothing of the region is left
        await db.run_ddl(f'DELETE FROM "{table}"')
    await sync_tenants(TENANTS)
    from core.demo import ensure_demo_accounts

    await ensure_demo_accounts(oidc_settings.oidc_providers[0].issuer)
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        imported = await http.post(
            "/beheer/regios/importeren",
            headers=csrf_headers(http),
            files={"bestand": ("holland-rijnland.toml", exported.encode(), "application/toml")},
        )
        assert imported.status_code == 303, imported.text
        assert (await http.get("/beheer/regios/holland-rijnland/export.toml")).text == exported
        again = await http.post("/beheer/regios/importeren", headers=csrf_headers(http),
                                files={"bestand": ("kopie.toml", exported.encode(), "application/toml")})  # fmt: skip
        assert again.status_code == 303  # the same file again changes nothing
    region = await Region.objects().where(Region.slug == "holland-rijnland").first()
    assert region.source_file == admin.MANAGED_IN_ADMIN
    actions = [r["action"] for r in await RegionScope(region.id).select(AuditEntry, AuditEntry.action)]
    assert actions.count("admin.region.import") == 2


async def test_a_broken_file_imports_nothing_and_names_each_problem(world, oidc_settings):
    content = (TENANTS / "lekstroom.toml").read_text().replace('slug = "lekstroom"', 'slug = "lek-twee"')
    content = 'onbekend = "x"\n' + content.replace('role = "inkoop"', 'role = "inkoopp"', 1)
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        refused = await http.post("/beheer/regios/importeren", headers=csrf_headers(http),
                                  files={"bestand": ("lek.toml", content.encode(), "application/toml")})  # fmt: skip
        assert refused.status_code == 422
        assert "Het bestand is niet ingelezen; er is niets veranderd." in refused.text
        assert "tenants/lek-twee.toml: onbekend: unknown field (check the spelling)" in refused.text
        assert "tenants/lek-twee.toml: mailboxes[0].role: Input should be" in refused.text
        from_file = await http.post("/beheer/regios/importeren", headers=csrf_headers(http),
                                    files={"bestand": ("z.toml", (TENANTS / "zuid-limburg.toml").read_bytes(),
                                                       "application/toml")})  # fmt: skip
        assert from_file.status_code == 422 and "komt uit tenants/zuid-limburg.toml" in from_file.text
    assert not await Region.exists().where(Region.slug == "lek-twee")


def test_trede_tenants_export_writes_the_file(tmp_path, tenants_copy):
    env = {**os.environ, "DATABASE_URL": new_database_url()}
    assert trede("migrate", env=env).returncode == 0
    assert trede("tenants", "sync", str(tenants_copy), env=env).returncode == 0
    target = tmp_path / "west-brabant-west.toml"
    result = trede("tenants", "export", "west-brabant-west", "-o", str(target), env=env)
    assert result.returncode == 0, result.stderr
    exported = tomllib.loads(target.read_text())
    assert exported["slug"] == "west-brabant-west" and len(exported["municipalities"]) == 9
    missing = trede("tenants", "export", "nergens", env=env)
    assert missing.returncode == 1 and "no region with slug 'nergens'" in missing.stderr
