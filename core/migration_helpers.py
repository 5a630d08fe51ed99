"""Helpers for hand-written parts of migrations that must run on both SQLite and PostgreSQL."""

import re

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder


def add_unique_index(manager: MigrationManager, name: str, table: str, columns: list[str]) -> None:
    """A composite unique index. Piccolo's ``Unique`` constraint is added with ALTER TABLE, which SQLite lacks."""
    column_list = ", ".join(f'"{column}"' for column in columns)

    async def forwards():
        await engine_finder().run_ddl(f'CREATE UNIQUE INDEX "{name}" ON "{table}" ({column_list})')

    async def backwards():
        await engine_finder().run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(forwards)
    manager.add_raw_backwards(backwards)


def add_partial_index(manager: MigrationManager, name: str, table: str, columns: list[str], where: str) -> None:
    """An index over only the rows that matter (e.g. open deadlines): small, and exactly what the sweep reads.
    Partial indexes work the same on SQLite and PostgreSQL."""
    column_list = ", ".join(f'"{column}"' for column in columns)

    async def forwards():
        await engine_finder().run_ddl(f'CREATE INDEX "{name}" ON "{table}" ({column_list}) WHERE {where}')

    async def backwards():
        await engine_finder().run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(forwards)
    manager.add_raw_backwards(backwards)


def is_sqlite() -> bool:
    from piccolo.engine.sqlite import SQLiteEngine  # why: only this helper needs the engine class

    return isinstance(engine_finder(), SQLiteEngine)


class NullableOnSQLiteManager(MigrationManager):
    """A migration manager whose ``alter_column`` calls (making columns nullable) are recorded as usual -- so that
    later auto migrations know the columns are nullable -- but are not run on SQLite, which has no ALTER
    COLUMN; ``drop_not_null_on_sqlite`` makes the same change there."""

    async def _run_alter_columns(self, backwards: bool = False):
        if is_sqlite():
            return
        await super()._run_alter_columns(backwards=backwards)


def drop_not_null_on_sqlite(manager: MigrationManager, table: str, columns: list[str]) -> None:
    """Make columns nullable on SQLite, which has no ALTER COLUMN (PostgreSQL migrations use Piccolo's
    ``alter_column``). SQLite documents this edit of the stored schema as the way to remove a NOT NULL
    constraint: the file format does not change (https://www.sqlite.org/lang_altertable.html, section 7)."""

    async def forwards():
        if not is_sqlite():
            return  # PostgreSQL: the migration's alter_column does it
        engine = engine_finder()
        rows = await engine.run_ddl(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
        sql = rows[0]["sql"]
        for column in columns:
            sql = re.sub(rf'("{column}" [A-Z]+(?:\([0-9]+\))?) NOT NULL', r"\1", sql)
        version = (await engine.run_ddl("PRAGMA schema_version"))[0]["schema_version"]
        await engine.run_ddl("PRAGMA writable_schema = ON")
        await engine.run_ddl(
            f"UPDATE sqlite_master SET sql = {_sql_literal(sql)} WHERE type = 'table' AND name = '{table}'"
        )
        await engine.run_ddl(f"PRAGMA schema_version = {version + 1}")
        await engine.run_ddl("PRAGMA writable_schema = OFF")

    manager.add_raw(forwards)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def add_index(manager: MigrationManager, name: str, table: str, columns: list[str]) -> None:
    """A composite index in the order a list reads (e.g. region, then its sort key, then id)."""
    column_list = ", ".join(f'"{column}"' for column in columns)

    async def forwards():
        await engine_finder().run_ddl(f'CREATE INDEX "{name}" ON "{table}" ({column_list})')

    async def backwards():
        await engine_finder().run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(forwards)
    manager.add_raw_backwards(backwards)
