"""Issue 20: one PostgreSQL connection per request or worker's unit of work, instead of one per query.

Runs against the real PostgreSQL of the machine (CI has it) whichever database the rest of the suite uses:
the engine is made here, so these tests never depend on TEST_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.response import Stream
from litestar.testing import AsyncTestClient
from piccolo.querystring import QueryString

from core import db
from core.db import (
    OneConnectionPostgresEngine,
    OneConnectionSQLiteEngine,
    one_connection,
    one_connection_middleware,
    unit_of_work,
)

PG_URL = os.environ.get("PG_TEST_URL", "postgres://postgres@127.0.0.1:5432/postgres")


async def pid(engine: OneConnectionPostgresEngine) -> int:
    rows = await engine.run_querystring(QueryString("SELECT pg_backend_pid() AS pid"))
    return rows[0]["pid"]


class Counting(OneConnectionPostgresEngine):
    """Counts the connections it takes from the pool or opens."""

    opened = 0
    acquired = 0

    async def get_new_connection(self):
        self.opened += 1
        return await super().get_new_connection()


class CountingPool:
    """asyncpg's pool, counting the connections taken from it (``Pool`` has slots: it is wrapped, not patched)."""

    def __init__(self, pool, engine) -> None:
        self._pool, self._engine = pool, engine

    def acquire(self, *args, **kwargs):
        self._engine.acquired += 1
        return self._pool.acquire(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._pool, name)


@pytest.fixture
async def engine():
    engine = Counting(config={"dsn": PG_URL})
    await engine.start_connection_pool(min_size=1, max_size=4)
    engine.pool = CountingPool(engine.pool, engine)
    await engine.run_ddl("CREATE TABLE IF NOT EXISTS one_connection_probe (n int)")
    await engine.run_ddl("TRUNCATE one_connection_probe")
    engine.acquired = 0
    yield engine
    await engine.run_ddl("DROP TABLE one_connection_probe")
    await engine.close_connection_pool()


async def test_a_unit_of_work_takes_one_pool_connection_for_its_queries_and_transactions(engine):
    async with one_connection():
        first = await pid(engine)
        async with engine.transaction():
            await engine.run_querystring(QueryString("INSERT INTO one_connection_probe VALUES (1)"))
            inside = await pid(engine)
        last = await pid(engine)
    assert first == inside == last
    assert engine.acquired == 1
    # Outside a unit every query still takes its own pool connection, as Piccolo does.
    await pid(engine)
    await pid(engine)
    assert engine.acquired == 3


async def test_a_failed_transaction_rolls_back_and_the_units_connection_goes_on(engine):
    async with one_connection():
        with pytest.raises(asyncpg.exceptions.DivisionByZeroError):
            async with engine.transaction():
                await engine.run_querystring(QueryString("INSERT INTO one_connection_probe VALUES (2)"))
                await engine.run_querystring(QueryString("SELECT 1 / 0"))
        rows = await engine.run_querystring(QueryString("SELECT count(*) AS n FROM one_connection_probe"))
    assert rows[0]["n"] == 0
    assert engine.acquired == 1


async def test_concurrent_tasks_of_one_unit_share_it_in_turn_and_two_units_have_two_connections(engine):
    async def unit() -> set[int]:
        async with one_connection():
            return set(await asyncio.gather(*(pid(engine) for _ in range(5))))

    a, b = await asyncio.gather(unit(), unit())
    assert len(a) == 1 and len(b) == 1  # no "another operation is in progress": the unit's tasks take turns
    assert a != b
    assert engine.acquired == 2


async def test_without_a_pool_a_unit_opens_one_connection_and_closes_it():
    engine = Counting(config={"dsn": PG_URL})
    before = engine.opened  # Piccolo may ask the server's version when the engine is made
    async with one_connection():
        pids = {await pid(engine) for _ in range(4)}
    assert len(pids) == 1 and engine.opened - before == 1
    # It was closed at the end of the unit: the server no longer has that backend.
    for _ in range(50):
        rows = await engine.run_querystring(
            QueryString("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = {}", pids.pop() if pids else 0)
        )
        if rows[0]["n"] == 0:
            break
        await asyncio.sleep(0.05)
    assert rows[0]["n"] == 0


async def test_a_worker_actor_body_is_one_unit(engine):
    @unit_of_work
    async def actor() -> set[int]:
        return {await pid(engine) for _ in range(3)}

    assert len(await actor()) == 1
    assert engine.acquired == 1


async def test_a_request_and_its_streamed_body_use_one_connection():
    engine = Counting(config={"dsn": PG_URL})

    @get("/three")
    async def three() -> dict:
        return {"pids": [await pid(engine) for _ in range(3)]}

    @get("/stream")
    async def stream() -> Stream:
        async def chunks():
            for _ in range(3):
                yield f"{await pid(engine)}\n"

        return Stream(chunks())

    async def start_pool() -> None:  # on the app's own event loop, as core.app's lifespan does
        await engine.start_connection_pool(min_size=1, max_size=4)
        engine.pool = CountingPool(engine.pool, engine)

    app = Litestar([three, stream], middleware=[one_connection_middleware], on_startup=[start_pool],
                   on_shutdown=[engine.close_connection_pool])  # fmt: skip
    async with AsyncTestClient(app) as client:
        assert len(set((await client.get("/three")).json()["pids"])) == 1
        assert engine.acquired == 1
        assert len(set((await client.get("/stream")).text.split())) == 1
        assert engine.acquired == 2
        assert (await client.get("/three")).status_code == 200
        assert engine.acquired == 3


async def test_a_failed_begin_frees_the_units_connection_for_the_next_query(engine, monkeypatch):
    """If BEGIN itself fails (a dropped connection, say), the request's later queries must not wait for ever."""
    async def broken_begin(self):
        raise ConnectionError("BEGIN failed")

    monkeypatch.setattr(db._OneConnectionTransaction, "begin", broken_begin)
    async with one_connection():
        with pytest.raises(ConnectionError):
            async with engine.transaction():
                pass
        assert await asyncio.wait_for(pid(engine), timeout=5)


class CountingSQLite(OneConnectionSQLiteEngine):
    """Counts the connections a unit of work opens (Piccolo itself opens one per query outside a unit)."""

    opened = 0

    async def get_connection(self):
        self.opened += 1
        return await super().get_connection()


async def test_on_sqlite_a_unit_of_work_keeps_one_connection_and_commits_each_write_at_once(tmp_path):
    """The embedded default: a unit's queries share one aiosqlite connection (Piccolo opened one, with its own
    thread, per query); a write outside a transaction is visible to any other connection at once, a failed one
    leaves nothing behind, a transaction keeps its own connection, and concurrent tasks take turns."""
    engine = CountingSQLite(path=str(tmp_path / "unit.sqlite3"))
    await engine.run_ddl("PRAGMA journal_mode=WAL")
    await engine.run_ddl("CREATE TABLE probe (n integer CHECK (n < 100))")

    def count() -> int:  # another connection: sees only what was committed
        with closing(sqlite3.connect(tmp_path / "unit.sqlite3")) as other:
            return other.execute("SELECT count(*) FROM probe").fetchone()[0]

    async with one_connection():
        await engine.run_querystring(QueryString("INSERT INTO probe VALUES ({})", 1))
        assert count() == 1
        with pytest.raises(Exception, match="CHECK"):
            await engine.run_querystring(QueryString("INSERT INTO probe VALUES ({})", 100))
        async with engine.transaction():
            await engine.run_querystring(QueryString("INSERT INTO probe VALUES ({})", 2))
        seen = await asyncio.gather(*(engine.run_querystring(QueryString("SELECT n FROM probe")) for _ in range(5)))
        assert engine.opened == 2  # the unit's connection and the transaction's
    assert all(sorted(row["n"] for row in rows) == [1, 2] for rows in seen)
    rows = await engine.run_querystring(QueryString("SELECT count(*) AS n FROM probe"))
    assert rows[0]["n"] == count() == 2 and engine.opened == 2  # outside a unit: Piccolo's connection per query
