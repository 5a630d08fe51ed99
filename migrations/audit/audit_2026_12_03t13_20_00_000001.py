from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_index

ID = "2026-12-03T13:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "index for the audit log page (keyset, newest first per region)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="audit", description=DESCRIPTION
    )

    add_index(manager, "audit_entry_region_at", "audit_entry", ["region", "at", "id"])

    return manager
