from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_index

ID = "2026-12-03T13:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the signals list (keyset, newest first)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    # The signals page reads a region's signals newest first, all of them or the new ones only.
    add_index(manager, "signal_region_received", "signal", ["region", "received_at", "id"])
    add_index(manager, "signal_region_status_received", "signal", ["region", "status", "received_at", "id"])

    return manager
