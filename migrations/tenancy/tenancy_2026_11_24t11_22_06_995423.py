from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_unique_index

ID = "2026-11-24T11:22:06:995423"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes (composite; portable to SQLite)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="tenancy", description=DESCRIPTION
    )

    add_unique_index(manager, "municipality_region_code_key", "municipality", ["region", "cbs_code"])

    return manager
