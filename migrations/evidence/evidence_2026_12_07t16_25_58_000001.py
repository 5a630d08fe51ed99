from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_unique_index

ID = "2026-12-07T16:25:58:000001"
VERSION = "1.38.0"
DESCRIPTION = "an evidence item is delivered for an escalation once"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evidence", description=DESCRIPTION)

    add_unique_index(manager, "evidence_delivery_escalation_evidence", "evidence_delivery", ["escalation", "evidence"])

    return manager
