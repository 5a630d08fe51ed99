from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from core.migration_helpers import add_index

ID = "2026-12-03T09:05:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "next_due_at filled in; indexes for the lists"

BACKFILL = (
    "UPDATE escalation SET next_due_at = (SELECT MIN(d.due_at) FROM deadline d "
    "WHERE d.escalation = escalation.id AND d.status = 'open')"
)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    async def backfill():
        await engine_finder().run_ddl(BACKFILL)

    # Raw steps run in the order added: the column's values first, then the indexes over them.
    manager.add_raw(backfill)
    add_index(manager, "escalation_region_next_due", "escalation", ["region", "next_due_at", "id"])
    add_index(manager, "escalation_region_opened", "escalation", ["region", "opened_at", "id"])
    add_index(manager, "signal_escalation", "signal", ["escalation"])

    return manager
