from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_partial_index

ID = "2026-12-07T17:05:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "the sweep's outbox: pending notifications oldest first, across regions, from a partial index"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="notifications", description=DESCRIPTION
    )

    add_partial_index(manager, "notification_pending_created", "notification", ["created_at"], "status = 'pending'")

    return manager
