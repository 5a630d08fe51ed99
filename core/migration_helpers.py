"""Helpers for hand-written parts of migrations that must run on both SQLite and PostgreSQL."""

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
