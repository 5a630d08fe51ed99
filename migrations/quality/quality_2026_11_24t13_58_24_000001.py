from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from core.migration_helpers import add_partial_index, add_unique_index

ID = "2026-11-24T13:58:24:000001"
VERSION = "1.38.0"
DESCRIPTION = "unique and partial indexes of the quality tables (portable to SQLite)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="quality", description=DESCRIPTION)

    # One indicator key per region; one current figure per provider, indicator and period; one signal per provider,
    # indicator, period and reason.
    add_unique_index(manager, "quality_indicator_key", "quality_indicator", ["region", "key"])

    async def current_figure_once():
        await engine_finder().run_ddl(
            'CREATE UNIQUE INDEX "quality_figure_current" ON "quality_figure" '
            """("region", "provider", "indicator", "period") WHERE status = 'actueel'"""
        )

    async def drop_current_figure_once():
        await engine_finder().run_ddl('DROP INDEX IF EXISTS "quality_figure_current"')

    manager.add_raw(current_figure_once)
    manager.add_raw_backwards(drop_current_figure_once)
    # The benchmark reads every current figure of one indicator and period.
    add_partial_index(
        manager, "quality_figure_period", "quality_figure", ["region", "indicator", "period"], "status = 'actueel'"
    )
    add_unique_index(
        manager, "quality_signal_once", "quality_signal", ["region", "provider", "indicator", "period", "reason"]
    )

    return manager
