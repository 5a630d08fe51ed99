from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_partial_index

ID = "2026-12-03T09:11:34:000001"
VERSION = "1.38.0"
DESCRIPTION = "partial index for the open step proposals"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    # The work list and the dashboard read a region's open proposals, oldest first.
    add_partial_index(manager, "step_proposal_open", "step_proposal", ["region", "proposed_at"], "status = 'open'")

    return manager
