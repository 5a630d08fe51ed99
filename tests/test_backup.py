"""`trede backup` / `trede restore` round-trip the embedded default: every row and every object comes back."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from tests.conftest import ON_POSTGRES, new_database_url
from tests.support import trede


def embedded_env(var_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STORAGE_URL", "BROKER_URL")}
    env["TREDE_VAR_DIR"] = str(var_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def rows(url: str, table: str) -> list[tuple]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall())
    import asyncio

    import asyncpg

    async def fetch():
        connection = await asyncpg.connect(url)
        try:
            return sorted(tuple(r) for r in await connection.fetch(f'SELECT * FROM "{table}"'))
        finally:
            await connection.close()

    return asyncio.run(fetch())


def test_backup_and_restore_round_trip_database_and_objects(tmp_path):
    source_var, target_var = tmp_path / "bron", tmp_path / "doel"
    source_db = new_database_url() if ON_POSTGRES else f"sqlite:///{source_var / 'trede.sqlite3'}"
    target_db = new_database_url() if ON_POSTGRES else f"sqlite:///{target_var / 'trede.sqlite3'}"
    source = embedded_env(source_var, source_db)
    assert trede("migrate", "--embedded", env=source).returncode == 0
    assert trede("tenants", "sync", "--embedded", env=source).returncode == 0
    # Objects as a provider's upload would leave them (the documents app stores under generated keys).
    objects = source_var / "objects" / "documents"
    objects.mkdir(parents=True)
    payloads = {"documents/a1": b"%PDF-1.7 plan van aanpak", "documents/b2": os.urandom(300_000)}
    for key, data in payloads.items():
        (source_var / "objects" / key).write_bytes(data)

    archive = tmp_path / "backups" / "trede.tar.gz"
    made = trede("backup", str(archive), "--embedded", env=source)
    assert made.returncode == 0, made.stderr
    assert "2 objects" in made.stdout and archive.exists()

    target = embedded_env(target_var, target_db)
    assert trede("migrate", "--embedded", env=target).returncode == 0
    restored = trede("restore", str(archive), "--embedded", env=target)
    assert restored.returncode == 0, restored.stderr
    for table in ["region", "municipality", "region_mailbox", "ladder", "ladder_version", "audit_entry"]:
        assert rows(target_db, table) == rows(source_db, table), table
    assert len(rows(target_db, "municipality")) == 19 + 9 + 6
    for key, data in payloads.items():
        restored_bytes = (target_var / "objects" / key).read_bytes()
        assert hashlib.sha256(restored_bytes).digest() == hashlib.sha256(data).digest()

    again = trede("restore", str(archive), "--embedded", env=target)
    assert again.returncode == 1
    assert "not empty" in again.stderr


def test_restore_refuses_something_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "x.tar.gz"
    import tarfile

    with tarfile.open(bogus, "w:gz"):
        pass
    env = embedded_env(tmp_path / "var", new_database_url())
    assert trede("migrate", env=env).returncode == 0
    result = trede("restore", str(bogus), "--embedded", env=env)
    assert result.returncode == 1
    assert "is not a Trede backup" in result.stderr
