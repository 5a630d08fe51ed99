"""`trede backup` / `trede restore`: the database and the objects in one archive.

The database goes in as JSON lines per table (every row, every column), so an archive made on the embedded
SQLite default restores into PostgreSQL and back; objects go in under their keys. Restoring needs an empty,
migrated database at the same migration level as the archive (``trede migrate`` first), so nothing is
mixed with other data. For large PostgreSQL installations, pg_dump plus the object store's own replication
remain the primary backup (docs/OPERATIONS.md); this is the portable, tested path.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from piccolo.columns import JSON, JSONB, UUID, Bytea, Date, ForeignKey, Timestamptz
from piccolo.table import Table

from core.apps import all_tables
from core.storage import Storage
from core.transactions import write_transaction

FORMAT = 1
# Parents before children, so foreign keys hold while restoring row by row.
TABLE_ORDER = [
    "region", "municipality", "region_mailbox", "provider", "contract", "app_user", "membership", "ladder",
    "ladder_version", "escalation", "signal", "deadline", "timeline_event", "measure", "document",
    "quality_indicator", "quality_figure", "quality_signal",
    "notification", "audit_entry", "job_run",
]  # fmt: skip
# Live state that must not outlive the moment: sessions (a restored one would let someone in again) and rate-limit
# counters; and what the sweep recomputes (its ledger, the stored /metrics figures). They stay out of the archive
# and may be present when restoring.
EPHEMERAL = frozenset({"web_session", "rate_limit_counter", "job_run", "metric_snapshot"})


class BackupError(Exception):
    pass


@dataclass
class BackupSummary:
    tables: dict[str, int]
    objects: int

    def describe(self) -> str:
        rows = sum(self.tables.values())
        return f"{rows} rows in {len(self.tables)} tables, {self.objects} objects"


def _tables() -> dict[str, type[Table]]:
    return {table._meta.tablename: table for table in all_tables() if table._meta.tablename not in EPHEMERAL}


def _ordered(tables: dict[str, type[Table]]) -> list[type[Table]]:
    known = [tables[name] for name in TABLE_ORDER if name in tables]
    rest = [t for name, t in sorted(tables.items()) if name not in TABLE_ORDER]
    return known + rest


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(table: type[Table]):
    kinds = {}
    for column in table._meta.columns:
        name = column._meta.db_column_name
        if isinstance(column, Timestamptz):
            kinds[name] = datetime.fromisoformat
        elif isinstance(column, Date):
            kinds[name] = date.fromisoformat
        elif isinstance(column, UUID) or (
            isinstance(column, ForeignKey)
            and isinstance(column._foreign_key_meta.resolved_references._meta.primary_key, UUID)
        ):
            kinds[name] = uuid.UUID
        elif isinstance(column, Bytea):
            kinds[name] = base64.b64decode
        elif isinstance(column, JSON | JSONB):
            kinds[name] = lambda v: v if isinstance(v, str) else json.dumps(v)

    def decode(row: dict) -> dict:
        return {key: (kinds[key](value) if value is not None and key in kinds else value) for key, value in row.items()}

    return decode


async def _migration_ids() -> list[str]:
    from piccolo.apps.migrations.tables import Migration

    rows = await Migration.select(Migration.name).order_by(Migration.name)
    return [row["name"] for row in rows]


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    archive.addfile(info, io.BytesIO(data))


async def backup(target: Path, storage: Storage) -> BackupSummary:
    tables = _tables()
    counts: dict[str, int] = {}
    object_count = 0
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        for table in _ordered(tables):
            rows = await table.select().output(load_json=False)
            lines = "".join(json.dumps({k: _encode(v) for k, v in r.items()}, ensure_ascii=False) + "\n" for r in rows)
            _add(archive, f"database/{table._meta.tablename}.jsonl", lines.encode())
            counts[table._meta.tablename] = len(rows)
        for key in storage.list_keys():
            # Through a temporary file: tar needs the size first, and an object may be larger than memory.
            with tempfile.TemporaryFile() as spool:
                for chunk in storage.open(key):
                    spool.write(chunk)
                info = tarfile.TarInfo(f"objects/{key}")
                info.size = spool.tell()
                info.mtime = int(time.time())
                spool.seek(0)
                archive.addfile(info, spool)
            object_count += 1
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now().astimezone().isoformat(),
            "migrations": await _migration_ids(),
            "tables": counts,
            "objects": object_count,
        }
        _add(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
    partial.replace(target)  # a backup file is whole or absent
    return BackupSummary(counts, object_count)


async def restore(source: Path, storage: Storage) -> BackupSummary:
    tables = _tables()
    with tarfile.open(source, "r:gz") as archive:
        try:
            manifest = json.load(archive.extractfile("manifest.json"))
        except KeyError:
            raise BackupError(f"{source} is not a Trede backup (no manifest.json)") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
        if manifest["migrations"] != await _migration_ids():
            raise BackupError("the database is not at the backup's migration level: run `trede migrate` on an "
                              "empty database of this Trede version first")
        for table in tables.values():
            if await table.count() > 0:
                raise BackupError(f"the database is not empty (table {table._meta.tablename}); restore into a new one")
        async with write_transaction():
            for table in _ordered(tables):
                member = f"database/{table._meta.tablename}.jsonl"
                try:
                    handle = archive.extractfile(member)
                except KeyError:
                    continue
                decode = _decoder(table)
                await table.delete(force=True)
                for line in handle:
                    row = decode(json.loads(line))
                    await table.insert(table(_ignore_missing=True, **_by_attribute(table, row)))
        objects = 0
        for member in archive.getmembers():
            if member.name.startswith("objects/") and member.isfile():
                key = member.name.removeprefix("objects/")
                storage.put(key, archive.extractfile(member), "application/octet-stream")
                objects += 1
    return BackupSummary(manifest["tables"], objects)


def _by_attribute(table: type[Table], row: dict) -> dict:
    names = {column._meta.db_column_name: column._meta.name for column in table._meta.columns}
    return {names[key]: value for key, value in row.items() if key in names}
