from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-12-07T18:01:11:372446"
VERSION = "1.38.0"
DESCRIPTION = "drop timeline_event_escalation: the unique (escalation, sequence) index serves every lookup by escalation"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="TimelineEvent",
        tablename="timeline_event",
        column_name="escalation",
        db_column_name="escalation",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
