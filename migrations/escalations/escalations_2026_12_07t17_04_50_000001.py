from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_index

ID = "2026-12-07T17:04:50:000001"
VERSION = "1.38.0"
DESCRIPTION = "index for a person's own signals in a region (keyset, newest first)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    add_index(manager, "signal_region_filed_by_received", "signal", ["region", "filed_by", "received_at", "id"])

    return manager
