from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_unique_index

ID = "2026-11-24T11:22:08:483997"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes (composite; portable to SQLite)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="ladders", description=DESCRIPTION
    )

    add_unique_index(manager, "ladder_region_key_key", "ladder", ["region", "key"])
    add_unique_index(manager, "ladder_version_number_key", "ladder_version", ["ladder", "version"])

    return manager
