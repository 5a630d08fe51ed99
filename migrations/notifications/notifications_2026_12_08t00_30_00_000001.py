from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_index

ID = "2026-12-08T00:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "the platform admin's notices of every region: one status, newest first, across regions"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="notifications", description=DESCRIPTION
    )

    add_index(manager, "notification_status_created", "notification", ["status", "created_at", "id"])

    return manager
