from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_unique_index

ID = "2026-11-24T11:22:09:207197"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes (composite; portable to SQLite)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="accounts", description=DESCRIPTION
    )

    add_unique_index(manager, "app_user_identity_key", "app_user", ["issuer", "subject"])

    return manager
