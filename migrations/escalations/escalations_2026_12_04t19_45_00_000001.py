from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_index

ID = "2026-12-04T19:45:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "index for the portal's archive: a provider's escalations by the moment closed (keyset, newest first)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    add_index(manager, "escalation_provider_closed", "escalation", ["provider", "closed_at", "id"])

    return manager
