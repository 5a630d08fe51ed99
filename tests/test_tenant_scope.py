"""One access path to region-owned rows: RegionScope filters and stamps; no other code bypasses it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from apps.tenancy.services import sync_tenants
from apps.tenancy.tables import Municipality, Region
from core.apps import all_tables
from core.tenancy import RegionScope, ScopeError, is_region_owned

ROOT = Path(__file__).resolve().parent.parent
QUERY_METHODS = {"select", "objects", "update", "delete", "count", "exists", "raw", "insert"}


def region_owned_tables() -> set[str]:
    return {t.__name__ for t in all_tables() if is_region_owned(t)}


def test_the_region_owned_tables_are_the_ones_we_expect():
    assert region_owned_tables() >= {
        "Municipality", "RegionMailbox", "Contract", "Membership", "Ladder", "LadderVersion",
        "Escalation", "Signal", "Deadline", "TimelineEvent", "Measure", "Document", "Notification", "AuditEntry",
    }  # fmt: skip


# Writers of rows that may have no region (platform-wide audit entries, a provider's own documents and the
# in-app notices of platform admins) insert through their own small writer, never read through it.
ALLOWED_DIRECT_WRITES = {("core/audit.py", "AuditEntry")}


def test_no_code_queries_region_owned_tables_outside_region_scope():
    owned = region_owned_tables()
    offenders = []
    for path in [*ROOT.glob("apps/**/*.py"), *ROOT.glob("core/**/*.py")]:
        relative = str(path.relative_to(ROOT))
        if relative == "core/tenancy.py":
            continue
        tree = ast.parse(path.read_text(), filename=relative)
        for node in ast.walk(tree):
            is_query = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in owned
                and node.func.attr in QUERY_METHODS
            )
            if is_query:
                offenders.append(f"{relative}:{node.lineno} {node.func.value.id}.{node.func.attr}()")
            direct_row = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in owned
                and (relative, node.func.id) not in ALLOWED_DIRECT_WRITES
            )
            if direct_row:
                offenders.append(f"{relative}:{node.lineno} {node.func.id}(...) built without RegionScope.new")
    assert offenders == []


async def test_scope_sees_only_its_own_region(db, tenants_dir):
    await sync_tenants(tenants_dir)
    zl = await Region.objects().where(Region.slug == "zuid-limburg").first()
    lek = await Region.objects().where(Region.slug == "lekstroom").first()
    zl_scope, lek_scope = RegionScope(zl.id), RegionScope(lek.id)
    houten = await lek_scope.objects(Municipality).where(Municipality.name == "Houten").first()
    assert houten is not None
    assert await zl_scope.get(Municipality, houten.id) is None  # same answer as "does not exist"
    assert await zl_scope.get(Municipality, "not-a-uuid") is None
    names = {m["name"] for m in await zl_scope.select(Municipality, Municipality.name)}
    assert "Houten" not in names and "Maastricht" in names
    await zl_scope.update(Municipality, {Municipality.name: "X"}).where(Municipality.id == houten.id)
    assert (await lek_scope.get(Municipality, houten.id)).name == "Houten"


def test_scope_refuses_foreign_region_and_unowned_tables():
    scope = RegionScope("00000000-0000-0000-0000-000000000001")
    with pytest.raises(ScopeError):
        scope.new(Municipality, region="00000000-0000-0000-0000-000000000002", cbs_code="GM0001", name="X")
    with pytest.raises(ScopeError):
        scope.select(Region)


async def test_rows_inserted_from_plain_values_are_the_scopes_and_take_their_defaults(db):
    """``insert_values`` (the sweep's sets): several rows in one statement, stamped with the scope's region, columns
    left out at their defaults, JSON as JSON; a row of another region or an unknown column is refused."""
    region = Region(slug="test-regio", name="Test")
    await region.save()
    scope = RegionScope(region.id)
    await scope.insert_values(Municipality, [
        {"cbs_code": "GM0001", "name": "Een", "contacts": [{"function": "aanstuurder", "email": "a@example.nl"}]},
        {"cbs_code": "GM0002", "name": "Twee"},
    ])  # fmt: skip
    rows = await scope.select(Municipality, Municipality.id, Municipality.name, Municipality.contacts,
                              Municipality.access_team_email).order_by(Municipality.cbs_code)  # fmt: skip
    assert [(r["name"], r["contacts"], r["access_team_email"]) for r in rows] == [
        ("Een", [{"function": "aanstuurder", "email": "a@example.nl"}], ""), ("Twee", [], ""),
    ]  # fmt: skip
    assert rows[0]["id"] != rows[1]["id"]
    with pytest.raises(ScopeError):
        await scope.insert_values(Municipality, [{"region": "00000000-0000-0000-0000-000000000002",
                                                  "cbs_code": "GM0003", "name": "Drie"}])  # fmt: skip
    with pytest.raises(ValueError):
        await scope.insert_values(Municipality, [{"cbs_code": "GM0004", "naam": "Vier"}])
    assert await scope.count(Municipality) == 2
