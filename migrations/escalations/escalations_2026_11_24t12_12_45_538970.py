from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_partial_index

ID = "2026-11-24T12:12:45:538970"
VERSION = "1.38.0"
DESCRIPTION = "partial indexes for the sweep"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    # The sweep reads open deadlines that are due, and open reminders whose moment has come.
    add_partial_index(manager, "deadline_open_due_at", "deadline", ["due_at"], "status = 'open'")
    add_partial_index(manager, "deadline_open_remind_at", "deadline", ["remind_at"], "status = 'open' AND remind_at IS NOT NULL")

    return manager
