from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from core.migration_helpers import add_index, add_partial_index, add_unique_index, is_sqlite

ID = "2026-12-07T16:50:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "escalation_tally kept by triggers on escalation (counts without reading the escalations); month index"

KEY = ["region", "ladder_version", "current_step", "category", "subcategory", "status"]
COLUMNS = ", ".join(KEY)


def _match(row: str) -> str:
    return " AND ".join(f"{column} = {row}.{column}" for column in KEY)


def _changed() -> str:
    return " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in KEY)


def _add(row: str) -> str:
    values = ", ".join(f"{row}.{column}" for column in KEY)
    return (f"INSERT INTO escalation_tally ({COLUMNS}, escalations) VALUES ({values}, 1) "
            f"ON CONFLICT ({COLUMNS}) DO UPDATE SET escalations = escalation_tally.escalations + 1")  # fmt: skip


def _remove(row: str) -> str:
    return f"UPDATE escalation_tally SET escalations = escalations - 1 WHERE {_match(row)}"


BACKFILL = (
    f"INSERT INTO escalation_tally ({COLUMNS}, escalations) "
    f"SELECT {COLUMNS}, COUNT(*) FROM escalation GROUP BY {COLUMNS}"
)

# PostgreSQL: the two rows of a change are locked in the order of their keys, so that two transactions moving
# escalations in opposite directions (step a -> b and b -> a) never wait for each other in a circle.
POSTGRES = [
    f"""CREATE FUNCTION escalation_tally_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_add("NEW")};
        ELSIF TG_OP = 'DELETE' THEN
            {_remove("OLD")};
        ELSIF ROW({", ".join(f"OLD.{c}::text" for c in KEY)}) < ROW({", ".join(f"NEW.{c}::text" for c in KEY)}) THEN
            {_remove("OLD")};
            {_add("NEW")};
        ELSE
            {_add("NEW")};
            {_remove("OLD")};
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER escalation_tally_insert_delete AFTER INSERT OR DELETE ON escalation "
    "FOR EACH ROW EXECUTE FUNCTION escalation_tally_change()",
    f"CREATE TRIGGER escalation_tally_update AFTER UPDATE OF {COLUMNS} ON escalation "
    f"FOR EACH ROW WHEN ({_changed()}) EXECUTE FUNCTION escalation_tally_change()",
]
SQLITE = [
    f"CREATE TRIGGER escalation_tally_insert AFTER INSERT ON escalation BEGIN {_add('NEW')}; END",
    f"CREATE TRIGGER escalation_tally_delete AFTER DELETE ON escalation BEGIN {_remove('OLD')}; END",
    f"CREATE TRIGGER escalation_tally_update AFTER UPDATE OF {COLUMNS} ON escalation "
    f"WHEN {_changed().replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {_remove('OLD')}; {_add('NEW')}; END",
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    add_unique_index(manager, "escalation_tally_key", "escalation_tally", KEY)

    async def triggers():
        engine = engine_finder()
        await engine.run_ddl(BACKFILL)
        for statement in SQLITE if is_sqlite() else POSTGRES:
            await engine.run_ddl(statement)

    async def drop_triggers():
        engine = engine_finder()
        for name in ("escalation_tally_insert", "escalation_tally_delete", "escalation_tally_update",
                     "escalation_tally_insert_delete"):  # fmt: skip
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {name}" + ("" if is_sqlite() else " ON escalation"))
        if not is_sqlite():
            await engine.run_ddl("DROP FUNCTION IF EXISTS escalation_tally_change()")

    manager.add_raw(triggers)
    manager.add_raw_backwards(drop_triggers)
    # the dashboard's month chart: escalations closed per month as one index range (opened: escalation_region_opened)
    add_index(manager, "escalation_region_closed", "escalation", ["region", "closed_at"])
    # the dashboard's deadlines due this week and overdue, counted as one range of the region's open deadlines
    add_partial_index(manager, "deadline_open_region_due", "deadline", ["region", "due_at"], "status = 'open'")
    # the register of intake stops (a page by keyset, newest first), its count and the dashboard's newest ones
    add_partial_index(manager, "measure_stop_in_force", "measure", ["region", "started_at", "id"],
                      "ended_at IS NULL AND kind IN ('instroomstop', 'clientenstop')")

    return manager
