"""Benchmark: one sweep over 1,000,000 deadlines of which 1,000 are due, against the bare indexed SQL query.

    .venv/bin/python bench/sweep.py [--rows 1000000] [--due 1000] [--server postgres://postgres@127.0.0.1:5432/postgres]

Makes a scratch PostgreSQL database, fills it, and prints timings and ratios measured in the same run:
- baseline: the bare indexed query for due deadlines (asyncpg, no ORM);
- find: Trede's `due_deadlines` (one index range across the regions, through RegionsScope);
- sweep: a full `run_sweep` (on one connection, as the worker's actor runs it) that claims each due deadline,
  marks it missed and writes its timeline event and audit entry.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def admin(server: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def main(rows: int, due: int, server: str) -> None:
    name = f"trede_bench_{uuid.uuid4().hex[:8]}"
    await admin(server, f'CREATE DATABASE "{name}"')
    url = f"{server.rpartition('/')[0]}/{name}"
    os.environ["DATABASE_URL"] = url
    try:
        await run(rows, due, url)
    finally:
        from core.piccolo_conf import DB

        await DB.close_connection_pool()
        await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(rows: int, due: int, url: str) -> None:
    import asyncpg

    from apps.escalations.services import open_escalation
    from apps.providers.tables import Provider
    from apps.tenancy.services import sync_tenants
    from apps.tenancy.tables import Region
    from apps.workers.services import run_sweep
    from core.actor import SYSTEM
    from core.bootstrap import migrate_database
    from core.broker import configure_broker
    from core.clock import FrozenClock
    from core.db import one_connection
    from core.piccolo_conf import DB
    from core.tenancy import RegionScope

    configure_broker("stub://")
    await migrate_database()
    await sync_tenants(ROOT / "tenants")
    await DB.start_connection_pool(min_size=1, max_size=4)
    now = datetime.now(UTC)
    clock = FrozenClock(now)
    provider = Provider(kvk_number="99999999", name="Benchmark B.V.")
    await provider.save()
    escalations = []
    for region in await Region.objects():
        ladder = "toewijzing" if region.slug == "west-brabant-west" else "kwaliteit"
        category = {"zuid-limburg": "niet_veiligheid", "west-brabant-west": "geschil"}.get(region.slug, "kwaliteit")
        case = {"subcategory": "pic", "municipality": "GM1674", "case_reference": "BENCH-1", "professionals": "bench"}
        escalation = await open_escalation(RegionScope(region.id), provider=provider, ladder_key=ladder,
                                           category=category, summary="bench", motivation="bench", actor=SYSTEM,
                                           clock=clock, **(case if ladder == "toewijzing" else {}))  # fmt: skip
        escalations.append((escalation.region, escalation.id))
    connection = await asyncpg.connect(url)
    started = time.perf_counter()
    # The escalations' own deadlines are in the future; add the benchmark's rows, spread over the regions.
    await connection.execute("UPDATE deadline SET due_at = $1::timestamptz + interval '400 days'", now)
    for index, (region_id, escalation_id) in enumerate(escalations):
        share = rows // len(escalations) + (1 if index < rows % len(escalations) else 0)
        due_share = due // len(escalations) + (1 if index < due % len(escalations) else 0)
        await connection.execute(
            """
            INSERT INTO deadline (id, region, escalation, step, key, term, met_by, starts_at, due_at, status, reasons,
                                  calendar_version, claimed_by)
            SELECT gen_random_uuid(), $1, $2, 'bench', 'bench', '2 weken', '', $3,
                   CASE WHEN g <= $5 THEN $3::timestamptz - (g || ' minutes')::interval
                        ELSE $3::timestamptz + (g || ' seconds')::interval END,
                   'open', '[]', '', ''
            FROM generate_series(1, $4) AS g
            """,
            region_id, escalation_id, now, share, due_share,
        )  # fmt: skip
    await connection.execute("ANALYZE deadline")
    fill = time.perf_counter() - started
    total = await connection.fetchval("SELECT count(*) FROM deadline")
    due_now = await connection.fetchval("SELECT count(*) FROM deadline WHERE status = 'open' AND due_at <= $1", now)
    print(f"filled {total:,} deadlines ({due_now:,} due) in {fill:.1f} s")

    async def bare() -> None:
        await connection.fetch(
            "SELECT id, region FROM deadline WHERE status = 'open' AND due_at <= $1 ORDER BY due_at LIMIT $2", now, due
        )

    from apps.escalations.deadlines import due_deadlines

    async def find() -> None:
        await due_deadlines(clock)

    baseline = await timed(bare, 30)
    finding = await timed(find, 30)
    plan = await connection.fetch(
        "EXPLAIN SELECT id FROM deadline WHERE status = 'open' AND due_at <= $1 ORDER BY due_at LIMIT 1000", now
    )
    sweeps = []
    for attempt in range(3):
        await connection.execute("UPDATE deadline SET status = 'open', ended_at = NULL WHERE step = 'bench'")
        started = time.perf_counter()
        async with one_connection():  # as the worker's actor runs it (unit_of_work)
            result = await run_sweep(attempt + 1, clock)
        sweeps.append(time.perf_counter() - started)
        assert result["missed"] == due, result
    sweep = statistics.median(sweeps)
    await connection.close()
    print("plan:", " / ".join(row[0].strip() for row in plan[:2]))
    print(f"baseline  bare indexed query for due deadlines: {baseline * 1000:8.2f} ms")
    print(f"find      due_deadlines (all regions, scoped): {finding * 1000:8.2f} ms  ratio {finding / baseline:6.1f}x")
    print(f"sweep     run_sweep acting on {due} deadlines:   {sweep * 1000:8.1f} ms  ratio {sweep / baseline:6.0f}x "
          f"({sweep / due * 1000:.2f} ms per deadline acted on)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.due, arguments.server))
