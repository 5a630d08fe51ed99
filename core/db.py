"""The database engine, chosen from DATABASE_URL (SQLite for the embedded default, PostgreSQL in production)."""

from __future__ import annotations

import os
from pathlib import Path

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from core.settings import VAR_DIR


def database_url_from_env() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'trede.sqlite3'}"


def engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout: the embedded default has one writer at a time (web, worker, scheduler).
        return SQLiteEngine(path=str(path), timeout=30)
    return PostgresEngine(config={"dsn": url})


def is_sqlite(engine: Engine) -> bool:
    return engine.engine_type == "sqlite"


async def prepare_engine(engine: Engine, *, pool: bool = True) -> None:
    """Per-process set-up: WAL for SQLite (readers never wait for the writer), a pool for PostgreSQL.

    No pool when the worker runs in the same process: its actors run on another event loop, and an asyncpg
    pool belongs to the loop that made it.
    """
    if is_sqlite(engine):
        await engine.run_ddl("PRAGMA journal_mode=WAL;")
    elif pool:
        await engine.start_connection_pool(min_size=1, max_size=10)


async def close_engine(engine: Engine) -> None:
    if not is_sqlite(engine) and getattr(engine, "pool", None) is not None:
        await engine.close_connection_pool()
