"""`trede backup` / `trede restore` round-trip the embedded default: every row and every object comes back."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tarfile
import uuid
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


def execute(url: str, sql: str, *args) -> None:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute(sql.replace("$1", "?").replace("$2", "?").replace("$3", "?"), args)
        return
    import asyncio

    import asyncpg

    async def run():
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(sql, *args)
        finally:
            await connection.close()

    asyncio.run(run())


def log_someone_in(url: str) -> None:
    """What a live platform has while a backup runs: a session (bytes in its value) and a rate-limit counter."""
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    if not url.startswith("sqlite:///"):
        ids = [uuid.UUID(i) for i in ids]
    execute(url, "INSERT INTO web_session (id, key, value, expires_at) VALUES ($1, $2, $3, NULL)",
            ids[0], "a" * 64, b'{"uid": "x", "auth_at": 1}')  # fmt: skip
    execute(url, "INSERT INTO rate_limit_counter (id, key, hits, expires_at) VALUES ($1, $2, 3, 4102444800)",
            ids[1], "login:203.0.113.7:1")  # fmt: skip


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

    log_someone_in(source_db)

    archive = tmp_path / "backups" / "trede.tar.gz"
    made = trede("backup", str(archive), "--embedded", env=source)
    assert made.returncode == 0, made.stderr
    assert "2 objects" in made.stdout and archive.exists()

    with tarfile.open(archive, "r:gz") as packed:
        names = packed.getnames()
    assert "database/region.jsonl" in names
    assert "database/web_session.jsonl" not in names and "database/rate_limit_counter.jsonl" not in names

    target = embedded_env(target_var, target_db)
    assert trede("migrate", "--embedded", env=target).returncode == 0
    restored = trede("restore", str(archive), "--embedded", env=target)
    assert restored.returncode == 0, restored.stderr
    for table in ["region", "municipality", "region_mailbox", "ladder", "ladder_version", "audit_entry"]:
        assert rows(target_db, table) == rows(source_db, table), table
    assert len(rows(target_db, "municipality")) == 19 + 9 + 6
    assert rows(target_db, "web_session") == [] and rows(target_db, "rate_limit_counter") == []
    for key, data in payloads.items():
        restored_bytes = (target_var / "objects" / key).read_bytes()
        assert hashlib.sha256(restored_bytes).digest() == hashlib.sha256(data).digest()

    again = trede("restore", str(archive), "--embedded", env=target)
    assert again.returncode == 1
    assert "not empty" in again.stderr


def test_restore_refuses_something_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "x.tar.gz"
    with tarfile.open(bogus, "w:gz"):
        pass
    env = embedded_env(tmp_path / "var", new_database_url())
    assert trede("migrate", env=env).returncode == 0
    result = trede("restore", str(bogus), "--embedded", env=env)
    assert result.returncode == 1
    assert "is not a Trede backup" in result.stderr
