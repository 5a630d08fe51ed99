from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_helpers import add_index

ID = "2026-12-03T13:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the evidence register (keyset by kind and person), its replacements and what expires"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="evidence", description=DESCRIPTION
    )

    add_index(manager, "evidence_item_provider_kind_person", "evidence_item", ["provider", "kind", "person", "id"])
    add_index(manager, "evidence_item_replaces", "evidence_item", ["replaces"])
    add_index(manager, "evidence_item_provider_valid_until", "evidence_item", ["provider", "valid_until"])

    return manager
