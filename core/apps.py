"""Helpers for declaring a Piccolo app whose migrations live in the top-level ``migrations/`` folder."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, Finder

from core.settings import ROOT


def app_config(name: str, tables: list, depends_on: tuple[str, ...] = ()) -> AppConfig:
    folder = Path(ROOT) / "migrations" / name
    folder.mkdir(parents=True, exist_ok=True)
    return AppConfig(
        app_name=name,
        migrations_folder_path=str(folder),
        table_classes=tables,
        migration_dependencies=[f"apps.{dep}.piccolo_app" for dep in depends_on],
        commands=[],
    )


def all_tables() -> list:
    """Every table of every registered app."""
    registry = Finder().get_app_registry()  # core.piccolo_conf's, loaded when first asked for
    return [table for config in registry.app_configs.values() for table in config.table_classes]
