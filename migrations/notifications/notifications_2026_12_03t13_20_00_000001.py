from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_index, add_partial_index

ID = "2026-12-03T13:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the notice lists (keyset, newest first) and the bell's unread count"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="notifications", description=DESCRIPTION
    )

    # The region's delivery overview, all notices or one status, newest first.
    add_index(manager, "notification_region_created", "notification", ["region", "created_at", "id"])
    add_index(manager, "notification_region_status_created", "notification", ["region", "status", "created_at", "id"])
    # A person's own notices, newest first, and the bell: only in-app rows, and for the bell only the unread ones.
    add_partial_index(manager, "notification_inapp", "notification", ["recipient_user", "created_at", "id"],
                      "channel = 'inapp'")
    add_partial_index(manager, "notification_unread", "notification", ["recipient_user", "region"],
                      "read_at IS NULL AND channel = 'inapp'")

    return manager
