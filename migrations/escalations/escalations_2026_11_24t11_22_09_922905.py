from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_unique_index

ID = "2026-11-24T11:22:09:922905"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes (composite; portable to SQLite)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    add_unique_index(manager, "escalation_reference_key", "escalation", ["region", "reference"])
    add_unique_index(manager, "timeline_event_sequence_key", "timeline_event", ["escalation", "sequence"])

    return manager
