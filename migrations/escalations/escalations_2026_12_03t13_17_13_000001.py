from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_partial_index

ID = "2026-12-03T13:17:13:000001"
VERSION = "1.38.0"
DESCRIPTION = "partial index for the letters not yet received"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    # The work list "Te beoordelen" reads a region's letters without a receipt whose 5 working days have passed.
    add_partial_index(
        manager, "letter_delivery_unconfirmed", "letter_delivery", ["region", "acknowledge_by"], "received_at IS NULL"
    )

    return manager
