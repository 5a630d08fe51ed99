from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

from core.migration_helpers import add_index

ID = "2026-12-07T16:26:17:405524"
VERSION = "1.38.0"
DESCRIPTION = (
    "a dispute's financial mark (escalation.case_financial); index for the municipality's list of disputes "
    "(region, case municipality, opened, id: keyset, newest first)"
)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Escalation",
        tablename="escalation",
        column_name="case_financial",
        db_column_name="case_financial",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    add_index(manager, "escalation_region_case_opened", "escalation",
              ["region", "case_municipality", "opened_at", "id"])

    return manager
