"""`trede tenants sync`: idempotent, all-or-nothing, and ladder edits publish versions that leave running
escalations alone."""

from __future__ import annotations

import re

import pytest

from apps.audit.tables import AuditEntry
from apps.escalations.services import open_escalation
from apps.escalations.tables import Escalation, Signal
from apps.ladders.services import latest_version, publish, spec_of
from apps.ladders.tables import Ladder, LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.services import SyncRefused, list_regions, sync_tenants
from apps.tenancy.tables import Municipality, Region, RegionMailbox
from core.actor import SYSTEM
from core.tenancy import RegionScope


async def test_sync_creates_the_three_regions_and_is_idempotent(db, tenants_dir):
    first = await sync_tenants(tenants_dir)
    assert sorted(c.slug for c in first if c.created) == ["lekstroom", "west-brabant-west", "zuid-limburg"]
    summaries = {r.slug: r for r in await list_regions()}
    assert {slug: r.municipalities for slug, r in summaries.items()} == {
        "zuid-limburg": 16,
        "west-brabant-west": 9,
        "lekstroom": 5,
    }
    zl = await Region.objects().where(Region.slug == "zuid-limburg").first()
    assert await RegionScope(zl.id).count(Municipality) == 19  # incl. the three that merged in 2019
    assert await RegionScope(zl.id).count(RegionMailbox) >= 1
    versions_before = await LadderVersion.count()
    audit_before = await AuditEntry.count()

    second = await sync_tenants(tenants_dir)
    assert [c.describe() for c in second] == [f"{c.slug}: unchanged" for c in second]
    assert await LadderVersion.count() == versions_before
    assert await AuditEntry.count() == audit_before  # nothing changed, nothing to audit


async def test_a_changed_ladder_publishes_a_new_version_and_running_escalations_keep_theirs(db, tenants_copy):
    await sync_tenants(tenants_copy)
    zl = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(zl.id)
    provider = Provider(kvk_number="90000099", name="Testzorg B.V.")
    await provider.save()
    escalation = await open_escalation(
        scope, provider=provider, ladder_key="contract", category=await _first_category(scope, "contract"),
        summary="Test", motivation="Signaal over administratie", actor=SYSTEM,
    )  # fmt: skip
    opened_on = await LadderVersion.objects().where(LadderVersion.id == escalation.ladder_version).first()

    path = tenants_copy / "templates" / "contractladder.toml"
    path.write_text(path.read_text().replace('name = "', 'name = "Gewijzigde ', 1))
    changes = {c.slug: c for c in await sync_tenants(tenants_copy)}
    assert "contract v2" in changes["zuid-limburg"].describe()
    assert "contract v2" in changes["lekstroom"].describe()  # every region using the template gets it

    ladder = await scope.objects(Ladder).where(Ladder.key == "contract").first()
    versions = await scope.select(LadderVersion, LadderVersion.version).where(LadderVersion.ladder == ladder.id)
    assert sorted(v["version"] for v in versions) == [1, 2]
    still = await scope.get(Escalation, escalation.id)
    assert still.ladder_version == opened_on.id
    assert opened_on.version == 1


async def _first_category(scope: RegionScope, key: str) -> str:
    ladder = await scope.objects(Ladder).where(Ladder.key == key).first()
    version = await scope.objects(LadderVersion).where(LadderVersion.ladder == ladder.id).first()
    return version.definition["categories"][0]["key"]


async def test_an_invalid_folder_applies_nothing(db, tenants_copy):
    path = tenants_copy / "lekstroom.toml"
    path.write_text(path.read_text().replace('cbs_code = "GM0321"', 'cbs_code = "GM321"'))
    with pytest.raises(SyncRefused) as refused:
        await sync_tenants(tenants_copy)
    assert any("tenants/lekstroom.toml: municipalities[" in str(p) for p in refused.value.problems)
    assert await Region.count() == 0


async def test_a_refusal_halfway_rolls_back_every_region(db, tenants_copy):
    await sync_tenants(tenants_copy)
    zl = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(zl.id)
    vaals = await scope.objects(Municipality).where(Municipality.cbs_code == "GM0981").first()
    await scope.new(Signal, municipality=vaals.id, reported_by="Toegang Vaals", description="Signaal").save()

    # Lekstroom (applied first, alphabetically) changes; Zuid-Limburg then drops a municipality in use.
    lek = tenants_copy / "lekstroom.toml"
    lek.write_text(lek.read_text().replace('name = "Jeugdhulp Lekstroom"', 'name = "Jeugdregio Lekstroom"'))
    zl_file = tenants_copy / "zuid-limburg.toml"
    text = zl_file.read_text()
    start = text.index('[[municipalities]]\ncbs_code = "GM0981"')
    end = text.index("[[municipalities]]", start + 1)
    zl_file.write_text(text[:start] + text[end:])

    with pytest.raises(SyncRefused) as refused:
        await sync_tenants(tenants_copy)
    assert "GM0981 (Vaals) cannot be removed" in str(refused.value)
    lekstroom = await Region.objects().where(Region.slug == "lekstroom").first()
    assert lekstroom.name == "Jeugdhulp Lekstroom"  # rolled back with the rest
    assert await scope.count(Municipality) == 19


async def test_sync_is_audited(db, tenants_dir):
    await sync_tenants(tenants_dir)
    entries = await AuditEntry.select(AuditEntry.action, AuditEntry.target_id, AuditEntry.detail).output(load_json=True)
    assert sorted(e["target_id"] for e in entries) == ["lekstroom", "west-brabant-west", "zuid-limburg"]
    assert all(e["action"] == "tenants.sync" for e in entries)
    assert all(e["detail"]["samenvatting"].startswith("aangemaakt; ladders gepubliceerd: ") for e in entries)  # Dutch


async def test_a_municipality_a_dispute_is_about_cannot_be_removed(db, tenants_copy):
    await sync_tenants(tenants_copy)
    wbw = RegionScope((await Region.objects().where(Region.slug == "west-brabant-west").first()).id)
    provider = Provider(kvk_number="90000099", name="Geschil B.V.")
    await provider.save()
    await open_escalation(wbw, provider=provider, ladder_key="toewijzing", category="geschil", subcategory="doelen",
                          summary="Doelen.", motivation="Geschil.", actor=SYSTEM, municipality="GM1674",
                          case_reference="RSD-2026-0001", professionals="Jeugdprofessional")  # fmt: skip
    path = tenants_copy / "west-brabant-west.toml"
    text = path.read_text()
    start = text.index('[[municipalities]]\ncbs_code = "GM1674"')
    path.write_text(text[:start] + text[text.index("[[municipalities]]", start + 1) :])
    with pytest.raises(SyncRefused, match="GM1674 \\(Roosendaal\\) cannot be removed: disputes about a case refer"):
        await sync_tenants(tenants_copy)
    assert await wbw.count(Escalation) == 1


async def test_a_file_read_again_keeps_what_the_ladder_editor_published(db, tenants_copy):
    """The team changed a ladder in the editor (version 2); the operator then changes a mailbox in the region file:
    reading the file again leaves version 2 in force. A ladder changed in the file itself is published over it."""
    await sync_tenants(tenants_copy)
    zl = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(zl.id)
    ladder = await scope.objects(Ladder).where(Ladder.key == "contract").first()
    first = await latest_version(scope, ladder)
    edited = spec_of(first).model_copy(update={"name": "Contractladder zoals het team hem wil"})
    assert (await publish(scope, edited, note="Ladder-editor: Lea Lead")).version == 2

    path = tenants_copy / "zuid-limburg.toml"
    text = path.read_text()
    mailbox = re.search(r'email = "([^"]+)"', text).group(1)
    path.write_text(text.replace(mailbox, "nieuw." + mailbox, 1))
    changes = {c.slug: c for c in await sync_tenants(tenants_copy)}
    assert changes["zuid-limburg"].changed and "contract v" not in changes["zuid-limburg"].describe()
    latest = await latest_version(scope, ladder)
    assert latest.version == 2 and spec_of(latest).name == "Contractladder zoals het team hem wil"

    template = tenants_copy / "templates" / "contractladder.toml"
    original = template.read_text()
    template.write_text(original.replace('name = "', 'name = "Gewijzigde ', 1))
    changes = {c.slug: c for c in await sync_tenants(tenants_copy)}
    assert "contract v3" in changes["zuid-limburg"].describe()
    assert spec_of(await latest_version(scope, ladder)).name.startswith("Gewijzigde ")
    template.write_text(original)  # the operator takes the change back: the file's first ladder again
    changes = {c.slug: c for c in await sync_tenants(tenants_copy)}
    assert "contract v4" in changes["zuid-limburg"].describe()
    assert (await latest_version(scope, ladder)).sha256 == first.sha256
