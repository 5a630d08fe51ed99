"""The same migrations bring a fresh database up to date on SQLite and on PostgreSQL (run with both in CI)."""

from __future__ import annotations

import os

from core.apps import all_tables
from tests.conftest import ON_POSTGRES, new_database_url
from tests.support import trede


def _tables_in(url: str) -> set[str]:
    import asyncio

    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {row[0] for row in rows}
    import asyncpg

    async def fetch() -> set[str]:
        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        finally:
            await connection.close()
        return {row["tablename"] for row in rows}

    return asyncio.run(fetch())


def test_a_fresh_database_migrates_forward_and_a_second_run_is_a_no_op():
    url = new_database_url()
    assert url.startswith("postgres") == ON_POSTGRES
    env = {**os.environ, "DATABASE_URL": url}
    first = trede("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "Database is up to date." in first.stdout
    expected = {table._meta.tablename for table in all_tables()}
    assert expected <= _tables_in(url)
    second = trede("migrate", env=env)
    assert second.returncode == 0, second.stderr


async def test_composite_unique_indexes_hold(db):
    """The unique indexes made by hand in the migrations hold (e.g. one code per municipality per region)."""
    import pytest

    from apps.tenancy.tables import Municipality, Region
    from core.tenancy import RegionScope

    region = Region(slug="test-regio", name="Test")
    await region.save()
    scope = RegionScope(region.id)
    await scope.new(Municipality, cbs_code="GM0001", name="Een").save()
    with pytest.raises(Exception, match="(?i)unique"):
        await scope.new(Municipality, cbs_code="GM0001", name="Twee").save()
    other = Region(slug="andere-regio", name="Ander")
    await other.save()
    await RegionScope(other.id).new(Municipality, cbs_code="GM0001", name="Een").save()  # another region: fine
