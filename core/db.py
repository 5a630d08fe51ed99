"""The database engine, chosen from DATABASE_URL (SQLite for the embedded default, PostgreSQL in production)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import wraps
from pathlib import Path
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine

from core.settings import VAR_DIR

log = logging.getLogger("trede.db")


def database_url_from_env() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'trede.sqlite3'}"


def engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout: the embedded default has one writer at a time (web, worker, scheduler).
        return OneConnectionSQLiteEngine(path=str(path), timeout=30)
    return OneConnectionPostgresEngine(config={"dsn": url})


class _Pin:
    """The one connection of a request or a worker's unit of work, taken at its first query (a request that
    reads nothing takes none) and given back at its end. The lock keeps concurrent tasks of one unit (e.g.
    the health checks' gather) from using the connection at the same time."""

    def __init__(self) -> None:
        self.connection: Any = None
        self.lock = asyncio.Lock()
        self.engine: Engine | None = None

    async def take(self, engine: Engine) -> Any:
        if self.connection is None:
            self.engine = engine
            if isinstance(engine, SQLiteEngine):
                self.connection = await engine.get_connection()  # aiosqlite: its own thread, kept for the unit
            else:
                pool = getattr(engine, "pool", None)
                self.connection = await (pool.acquire() if pool else engine.get_new_connection())
        return self.connection

    async def give_back(self) -> None:
        if self.connection is None or self.engine is None:
            return
        connection, self.connection = self.connection, None
        pool = getattr(self.engine, "pool", None)
        try:
            if pool:
                await pool.release(connection)  # asyncpg resets it once here, not after every query
            else:
                await connection.close()
        except Exception:  # a broken connection must not hide the request's own answer or error
            log.warning("a unit of work's database connection could not be given back; it is closed", exc_info=True)
            if hasattr(connection, "terminate"):
                connection.terminate()


_pin: ContextVar[_Pin | None] = ContextVar("trede_one_connection", default=None)


@asynccontextmanager
async def one_connection() -> AsyncIterator[None]:
    """Every query on PostgreSQL inside this block uses one connection (issue 20: Piccolo takes a pool
    connection per query, and asyncpg's reset statement followed each). Nested blocks share the outer one."""
    if _pin.get() is not None:
        yield
        return
    pin = _Pin()
    token = _pin.set(pin)
    try:
        yield
    finally:
        _pin.reset(token)
        await pin.give_back()


def unit_of_work(function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A worker's actor runs on one connection: ``@unit_of_work`` under ``@dramatiq.actor``."""

    @wraps(function)
    async def run(*args: Any, **kwargs: Any) -> Any:
        async with one_connection():
            return await function(*args, **kwargs)

    return run


def one_connection_middleware(app: Any) -> Any:
    """ASGI: one database connection per HTTP request (the session, the guard, the handler, a streamed body)."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        async with one_connection():
            await app(scope, receive, send)

    return middleware


class _OneConnectionTransaction(PostgresTransaction):
    """A transaction inside a unit of work runs on the unit's connection and leaves it open afterwards."""

    async def __aenter__(self) -> PostgresTransaction:
        try:
            return await super().__aenter__()
        except BaseException:  # BEGIN failed: __aexit__ will not run, so the unit's connection is freed here
            pin = getattr(self, "_pin", None)
            if pin is not None and pin.lock.locked():
                pin.lock.release()
            raise

    async def get_connection(self) -> Any:
        pin = _pin.get()
        if pin is None:
            return await super().get_connection()
        await pin.lock.acquire()  # released in __aexit__: no other task of the unit uses it meanwhile
        self._pin = pin
        try:
            return await pin.take(self.engine)
        except BaseException:
            pin.lock.release()
            raise

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        pin = getattr(self, "_pin", None)
        if self._parent is not None or pin is None:
            return await super().__aexit__(exception_type, exception, traceback)
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            pin.lock.release()
        return exception is None


class OneConnectionPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine, using the unit of work's connection where there is one."""

    async def _run_on_pin(self, pin: _Pin, query: str, args: Any) -> Any:
        async with pin.lock:
            connection = await pin.take(self)
            return await connection.fetch(query, *(args or []))

    async def _run_in_pool(self, query: str, args: Any = None) -> Any:
        pin = _pin.get()
        if pin is not None:
            return await self._run_on_pin(pin, query, args)
        return await super()._run_in_pool(query, args)

    async def _run_in_new_connection(self, query: str, args: Any = None) -> Any:
        pin = _pin.get()
        if pin is not None:
            return await self._run_on_pin(pin, query, args)
        return await super()._run_in_new_connection(query, args)

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _OneConnectionTransaction(engine=self, allow_nested=allow_nested)


class OneConnectionSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, using the unit of work's connection where there is one: outside a transaction
    Piccolo opens a new connection (a thread of aiosqlite's, a PRAGMA and a commit) for every query, which made the
    embedded default's pages cost a connection per statement. A write outside a transaction is committed at once,
    as before; transactions keep their own connection (BEGIN IMMEDIATE), so the unit's connection holds no lock
    between statements."""

    async def _run_in_new_connection(
        self, query: str, args: Any = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        pin = _pin.get()
        if pin is None or (query_type == "insert" and self.get_version_sync() < 3.35):
            return await super()._run_in_new_connection(query, args, query_type, table)
        async with pin.lock:
            connection = await pin.take(self)
            try:
                async with connection.execute(query, args or []) as cursor:
                    rows = await cursor.fetchall()
                if connection.in_transaction:  # the implicit transaction of a write
                    await connection.commit()
            except BaseException:
                if connection.in_transaction:
                    await connection.rollback()
                raise
            return rows


def is_sqlite(engine: Engine) -> bool:
    return engine.engine_type == "sqlite"


def contains_ignoring_case(column: Any, text: str) -> Any:
    """``column`` contains ``text``, case-insensitively: ILIKE on PostgreSQL; SQLite's LIKE already ignores case
    (for ASCII). The wildcards % and _ in ``text`` are dropped, so a search is never a pattern."""
    pattern = f"%{text.replace('%', '').replace('_', '')}%"
    return column.like(pattern) if column._meta.engine_type == "sqlite" else column.ilike(pattern)


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
