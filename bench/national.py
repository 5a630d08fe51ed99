"""Benchmark: the region's pages, the API list, the CSV export and the sweep on a national-sized dataset.

    .venv/bin/python bench/national.py [--scale 1.0] [--seconds 5] [--due 1000] [--keep | --reuse]
        [--server postgres://postgres@127.0.0.1:5432/postgres]

Builds the national dataset in its own PostgreSQL database (``trede_national``, dropped again unless ``--keep``):
migrations, the shipped regions from tenants/ plus clones to 42 regions, then in SQL (generate_series) at scale 1:
10,000 providers with ~22,500 contracts, 200,000 escalations (20 % in Zuid-Limburg, 70 % open), ~5,000,000 timeline
events (one escalation with 2,000), ~1,000,000 open deadlines (all in the future, terms without missed actions),
intake stops, signals, notices and audit entries. ``--scale 0.05`` is a quick run.

Then it starts ``trede serve --embedded --no-bootstrap`` on that database (broker: Redis, so no in-process worker
or scheduler touches the data while it is measured), logs in a purchasing team member of Zuid-Limburg and a user
of the provider with the most open escalations by inserting their ``web_session`` rows, and for each page prints
p50/p95 at concurrency 1 and 16 (httpx over real HTTP, ``--seconds`` per measurement) next to ``/health/live``
measured in the same run, as ratios. The CSV export: time to the first byte and to the last row. Last, in this
process, the sweep (``run_sweep`` on one connection, as the worker's actor runs it) with nothing due, and with
``--due`` deadlines spread over the regions made due (each missed term writes its event and audit entry; no
letters), three times: its time per due deadline, each and their median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "trede_national"
ZL = "zuid-limburg"
REGIONS = 42
BIG_PROVIDER_OPEN = 623  # the provider with the most open escalations (issue 20), times the scale


async def admin(server: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


# --- the dataset -----------------------------------------------------------------------------------------------

BUILD = [
    ("regions", """
        INSERT INTO region (id, slug, name, settings, source_file, source_sha256, active, synced_at)
        SELECT gen_random_uuid(), 'bench-regio-' || lpad(g::text, 2, '0'), 'Benchregio ' || g, r.settings, '', '', true,
               now()
        FROM region r, generate_series(1, $1) AS g WHERE r.slug = 'zuid-limburg';
        INSERT INTO ladder (id, region, key, name)
        SELECT gen_random_uuid(), c.id, l.key, l.name
        FROM ladder l JOIN region zl ON zl.id = l.region AND zl.slug = 'zuid-limburg'
        CROSS JOIN region c WHERE c.slug LIKE 'bench-regio-%';
        INSERT INTO ladder_version (id, region, ladder, version, definition, sha256, note, created_at)
        SELECT gen_random_uuid(), c.region, c.id, v.version, v.definition, v.sha256, v.note, now()
        FROM ladder_version v JOIN ladder l ON l.id = v.ladder
        JOIN region zl ON zl.id = l.region AND zl.slug = 'zuid-limburg'
        JOIN ladder c ON c.key = l.key JOIN region cr ON cr.id = c.region AND cr.slug LIKE 'bench-regio-%';
        INSERT INTO quality_indicator (id, region, key, name, description, unit, period, norm_min, norm_max, due_days,
                                       remind_days_before, signal_out_of_norm, signal_missing, derived_from, position,
                                       active)
        SELECT gen_random_uuid(), c.id, q.key, q.name, q.description, q.unit, q.period, q.norm_min, q.norm_max,
               q.due_days, q.remind_days_before, q.signal_out_of_norm, q.signal_missing, q.derived_from, q.position,
               q.active
        FROM quality_indicator q JOIN region zl ON zl.id = q.region AND zl.slug = 'zuid-limburg'
        CROSS JOIN region c WHERE c.slug LIKE 'bench-regio-%';
        CREATE TABLE bench_region AS
        SELECT r.id, r.slug, (row_number() OVER (ORDER BY r.slug) - 1)::int AS n, v.id AS version,
               v.definition -> 'categories' -> 0 ->> 'key' AS category,
               v.definition -> 'categories' -> 0 ->> 'start_step' AS step
        FROM region r JOIN LATERAL (
            SELECT lv.* FROM ladder_version lv JOIN ladder l ON l.id = lv.ladder WHERE lv.region = r.id
            ORDER BY l.key = 'kwaliteit' DESC, l.key, lv.version DESC LIMIT 1) v ON true
        WHERE r.active;
    """),
    ("providers and contracts", """
        INSERT INTO provider (id, kvk_number, name, created_at)
        SELECT gen_random_uuid(), (70000000 + g)::text,
               (ARRAY['Jeugdzorg', 'Zorggroep', 'Stichting', 'Praktijk'])[1 + g % 4] || ' Bench ' || g, now()
        FROM generate_series(0, $1 - 1) AS g;
        CREATE TABLE bench_provider AS
        SELECT id, (kvk_number::int - 70000000) AS n FROM provider WHERE kvk_number::int >= 70000000;
        INSERT INTO contract (id, region, provider, reference, kind, valid_from, valid_until)
        SELECT gen_random_uuid(), r.id, p.id, 'DVO-' || p.n || '-' || r.n, 'dvo', date '2024-01-01', NULL
        FROM bench_provider p
        CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(ARRAY[p.n % 42, (p.n * 7 + 3) % 42,
            CASE WHEN p.n % 4 = 0 THEN (SELECT n FROM bench_region WHERE slug = 'zuid-limburg') END]) AS x
            WHERE x IS NOT NULL) k
        JOIN bench_region r ON r.n = k.x;
        CREATE TABLE bench_contract AS
        SELECT c.id, c.provider, r.n AS region_n,
               (row_number() OVER (PARTITION BY c.region ORDER BY c.id) - 1)::int AS k,
               count(*) OVER (PARTITION BY c.region)::int AS of
        FROM contract c JOIN bench_region r ON r.id = c.region;
    """),
    ("escalations", """
        INSERT INTO escalation (id, region, reference, provider, contract, ladder_version, category, subcategory,
                                current_step, status, outcome, summary, opened_at, closed_at)
        SELECT gen_random_uuid(), r.id, 'NAT-' || e.g, c.provider, c.id, r.version, r.category, '', r.step,
               CASE WHEN e.g % 10 < 7 THEN 'open' ELSE 'closed' END,
               CASE WHEN e.g % 10 < 7 THEN '' ELSE 'hersteld' END,
               'Signaal ' || e.g || ': ' || (ARRAY['rapportage ontbreekt', 'klacht over bejegening',
                   'wachttijd te lang', 'VOG verlopen'])[1 + e.g % 4],
               now() - (e.g % 730) * interval '1 day' - (e.g % 1440) * interval '1 minute',
               CASE WHEN e.g % 10 < 7 THEN NULL ELSE now() - (e.g % 30) * interval '1 day' END
        FROM (SELECT g, CASE WHEN g % 5 = 0 THEN (SELECT n FROM bench_region WHERE slug = 'zuid-limburg')
                             ELSE g % 42 END AS region_n
              FROM generate_series(1, $1) AS g) e
        JOIN bench_region r ON r.n = e.region_n
        JOIN bench_contract c ON c.region_n = e.region_n AND c.k = (e.g / 42) % c.of;
    """),
    ("the largest provider", """
        UPDATE escalation SET provider = (SELECT id FROM bench_provider WHERE n = 0),
               contract = (SELECT c.id FROM contract c JOIN bench_provider p ON p.id = c.provider AND p.n = 0
                           JOIN region r ON r.id = c.region AND r.slug = 'zuid-limburg')
        WHERE id IN (SELECT e.id FROM escalation e JOIN region r ON r.id = e.region AND r.slug = 'zuid-limburg'
                     WHERE e.status = 'open' ORDER BY e.reference LIMIT $1);
    """),
    ("timeline events", """
        INSERT INTO timeline_event (id, region, escalation, sequence, kind, visibility, actor, actor_label, occurred_at,
                                    motivation, payload, idempotency_key)
        SELECT gen_random_uuid(), e.region, e.id, s, CASE WHEN s % 3 = 0 THEN 'notitie' ELSE 'bericht' END,
               CASE WHEN s % 3 = 0 THEN 'internal' ELSE 'shared' END, NULL, 'Benchmark',
               e.opened_at + s * interval '1 hour', '',
               jsonb_build_object('tekst', 'Gebeurtenis ' || s || ' van ' || e.reference, 'van', 'regio'), NULL
        FROM escalation e CROSS JOIN LATERAL generate_series(1, 5 + abs(hashtext(e.reference)) % 41) AS s;
        INSERT INTO timeline_event (id, region, escalation, sequence, kind, visibility, actor, actor_label, occurred_at,
                                    motivation, payload, idempotency_key)
        SELECT gen_random_uuid(), e.region, e.id, s, CASE WHEN s % 3 = 0 THEN 'notitie' ELSE 'bericht' END,
               CASE WHEN s % 3 = 0 THEN 'internal' ELSE 'shared' END, NULL, 'Benchmark',
               e.opened_at + s * interval '1 hour', '',
               jsonb_build_object('tekst', 'Gebeurtenis ' || s || ': ' || repeat('tekst ', 20), 'van', 'regio'), NULL
        FROM escalation e, generate_series(46, 2000) AS s WHERE e.reference = 'NAT-7';
        DELETE FROM timeline_event t USING escalation e
        WHERE e.reference = 'NAT-7' AND t.escalation = e.id AND t.sequence > 2000;
    """),
    ("deadlines", """
        INSERT INTO deadline (id, region, escalation, step, key, term, met_by, starts_at, due_at, remind_at, status,
                              reasons, calendar_version, claimed_by, starts)
        SELECT gen_random_uuid(), e.region, e.id, e.current_step, 'bench-' || k, '2 weken', '',
               now() - interval '1 day',
               now() + interval '1 hour' + (abs(hashtext(e.reference || k)) % (400 * 1440)) * interval '1 minute',
               NULL, 'open', '[]', '', '', 'step'
        FROM escalation e CROSS JOIN generate_series(1, 7) AS k WHERE e.status = 'open';
        -- what apps.escalations.deadlines.refresh_next_due keeps on every escalation
        UPDATE escalation e SET next_due_at = d.due FROM (
            SELECT escalation, min(due_at) AS due FROM deadline WHERE status = 'open' GROUP BY escalation) d
        WHERE d.escalation = e.id;
    """),
    ("measures, signals, notices, audit", """
        INSERT INTO measure (id, region, escalation, provider, kind, scope, started_at, ended_at, start_motivation,
                             end_motivation, created_at)
        SELECT gen_random_uuid(), e.region, e.id, e.provider, 'instroomstop', '[]', e.opened_at + interval '1 day',
               NULL, 'Benchmark', '', now()
        FROM escalation e WHERE e.status = 'open' AND abs(hashtext(e.reference)) % 50 = 0;
        INSERT INTO signal (id, region, provider, municipality, reported_by, description, received_at,
                            touches_contract, status, escalation, source)
        SELECT gen_random_uuid(), e.region, e.provider, NULL, 'Toegang', e.summary, e.opened_at, true, 'geëscaleerd',
               e.id, 'handmatig'
        FROM escalation e WHERE abs(hashtext(e.reference)) % 2 = 0;
        INSERT INTO notification (id, region, recipient, recipient_user, channel, template, payload, idempotency_key,
                                  status, attempts, last_error, created_at, sent_at, error_detail)
        SELECT gen_random_uuid(), e.region, 'provider:' || e.provider, NULL, 'email', 'termijn_herinnering',
               jsonb_build_object('escalatie', e.reference, 'escalation_id', e.id::text, 'wat', 'Plan van aanpak',
                                  'vervaldatum', '1 januari 2027'),
               'bench:' || e.id, 'sent', 1, '', e.opened_at, e.opened_at, ''
        FROM escalation e WHERE abs(hashtext(e.reference)) % 4 = 0;
        INSERT INTO audit_entry (id, region, actor, actor_label, action, target_type, target_id, detail, at)
        SELECT gen_random_uuid(), e.region, NULL, 'Benchmark', 'escalation.open', 'escalation', e.id::text,
               jsonb_build_object('referentie', e.reference), e.opened_at
        FROM escalation e;
    """),
]


async def build(connection, scale: float) -> None:
    escalations = max(420, int(200_000 * scale))
    arguments = {
        "regions": (REGIONS - await connection.fetchval("SELECT count(*) FROM region WHERE active"),),
        "providers and contracts": (max(100, int(10_000 * scale)),),
        "escalations": (escalations,),
        "the largest provider": (max(5, int(BIG_PROVIDER_OPEN * scale)),),
    }
    for name, sql in BUILD:
        started = time.perf_counter()
        statements = [part.strip() for part in sql.split(";") if part.strip()]
        for statement in statements:
            await connection.execute(statement, *(arguments.get(name, ()) if "$1" in statement else ()))
        print(f"  {name:<36} {time.perf_counter() - started:7.1f} s", flush=True)
    started = time.perf_counter()
    await connection.execute("VACUUM ANALYZE")
    print(f"  {'vacuum analyze':<36} {time.perf_counter() - started:7.1f} s", flush=True)


async def sizes(connection) -> str:
    counts = await connection.fetchrow(
        "SELECT (SELECT count(*) FROM region WHERE active) AS regions, (SELECT count(*) FROM provider) AS providers, "
        "(SELECT count(*) FROM contract) AS contracts, (SELECT count(*) FROM escalation) AS escalations, "
        "(SELECT count(*) FROM timeline_event) AS events, "
        "(SELECT count(*) FROM deadline WHERE status = 'open') AS open_deadlines, "
        "(SELECT count(*) FROM measure WHERE kind = 'instroomstop' AND ended_at IS NULL) AS intake_stops"
    )
    return ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in counts.items())


# --- logging in: a web_session row per person, as apps.accounts.controllers writes it at the OIDC callback -----


async def forget_bench_people(connection) -> None:
    """The people an earlier run (``--reuse``) logged in: removed, so that this run makes them anew."""
    await connection.execute(
        "DELETE FROM web_session WHERE user_id IN (SELECT id FROM app_user WHERE issuer = 'https://bench.invalid'); "
        'DELETE FROM membership WHERE "user" IN (SELECT id FROM app_user WHERE issuer = \'https://bench.invalid\'); '
        "DELETE FROM app_user WHERE issuer = 'https://bench.invalid'"
    )


async def session_for(connection, *, subject: str, region: str | None = None, provider=None, role: str) -> str:
    user_id = await connection.fetchval(
        "INSERT INTO app_user (id, issuer, subject, email, name, is_platform_admin, active, created_at, digest_opt_in) "
        "VALUES (gen_random_uuid(), 'https://bench.invalid', $1::text, $1::text || '@bench.invalid', $1::text, "
        "false, true, now(), false) "
        "RETURNING id",
        subject,
    )  # fmt: skip
    await connection.execute(
        'INSERT INTO membership (id, "user", region, provider, role, created_at) '
        "VALUES (gen_random_uuid(), $1, (SELECT id FROM region WHERE slug = $2), $3, $4, now())",
        user_id, region, provider, role,
    )  # fmt: skip
    key = secrets.token_hex(32)
    value = json.dumps({"uid": str(user_id), "auth_at": int(time.time())}).encode()
    await connection.execute(
        "INSERT INTO web_session (id, key, value, expires_at, user_id) VALUES (gen_random_uuid(), $1, $2, $3, $4)",
        key, value, int(time.time()) + 10 * 3600, user_id,
    )  # fmt: skip
    return key


# --- measuring ------------------------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def measure(http, url: str, cookie: str | None, concurrency: int, seconds: float) -> dict:
    """Requests from ``concurrency`` clients for ``seconds`` (at least 3 answers each at concurrency 1)."""
    samples: list[float] = []
    failures: list[int] = []
    stop = time.perf_counter() + seconds
    headers = {"Cookie": f"trede_session={cookie}"} if cookie else {}

    async def client() -> None:
        while time.perf_counter() < stop or (concurrency == 1 and len(samples) < 3):
            started = time.perf_counter()
            try:
                response = await http.get(url, headers=headers)
                status = response.status_code
            except Exception:  # a timeout counts as a failure, not as a sample
                status = 0
            if status == 200:
                samples.append(time.perf_counter() - started)
            else:
                failures.append(status)
                if len(failures) > 20:
                    return

    await asyncio.gather(*(client() for _ in range(concurrency)))
    if not samples:
        return {"n": 0, "failed": len(failures), "statuses": sorted(set(failures))}
    return {"n": len(samples), "failed": len(failures), "p50": statistics.median(samples),
            "p95": percentile(samples, 0.95)}  # fmt: skip


async def first_byte_and_total(http, url: str, cookie: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = None
    lines = 0
    async with http.stream("GET", url, headers={"Cookie": f"trede_session={cookie}"}) as response:
        assert response.status_code == 200, response.status_code
        async for chunk in response.aiter_bytes():
            if first is None:
                first = time.perf_counter() - started
            lines += chunk.count(b"\n")
    return first or 0.0, time.perf_counter() - started, max(lines - 1, 0)


def line(name: str, result: dict, floor: dict) -> str:
    if not result["n"]:
        return f"{name:<34} no answer ({result['failed']} failed: {result.get('statuses')})"
    failed = f"  ({result['failed']} failed)" if result["failed"] else ""
    return (f"{name:<34} p50 {result['p50'] * 1000:8.1f} ms  p95 {result['p95'] * 1000:8.1f} ms  "
            f"x floor p50 {result['p50'] / floor['p50']:7.0f}  p95 {result['p95'] / floor['p95']:7.0f}  "
            f"n={result['n']}{failed}")  # fmt: skip


async def pages(base: str, connection, seconds: float, parts: set[str]) -> None:
    import httpx

    zl = await connection.fetchval("SELECT id FROM region WHERE slug = $1", ZL)
    big = await connection.fetchval(
        "SELECT provider FROM escalation WHERE region = $1 AND status = 'open' GROUP BY provider "
        "ORDER BY count(*) DESC LIMIT 1", zl,
    )  # fmt: skip
    typical = await connection.fetchval(
        "SELECT e.id FROM escalation e WHERE e.region = $1 AND e.status = 'open' AND e.reference <> 'NAT-7' "
        "AND e.provider <> $2 ORDER BY e.reference LIMIT 1", zl, big,
    )  # fmt: skip
    long = await connection.fetchval("SELECT id FROM escalation WHERE reference = 'NAT-7'")
    long_region = await connection.fetchval("SELECT r.slug FROM region r JOIN escalation e ON e.region = r.id "
                                            "WHERE e.reference = 'NAT-7'")  # fmt: skip
    name = await connection.fetchval("SELECT name FROM provider WHERE id = $1", big)
    await forget_bench_people(connection)
    inkoop = await session_for(connection, subject="bench-inkoop", region=ZL, role="inkoop_medewerker")
    if long_region != ZL:
        await connection.execute(
            'INSERT INTO membership (id, "user", region, role, created_at) SELECT gen_random_uuid(), u.id, r.id, '
            "'inkoop_medewerker', now() FROM app_user u, region r WHERE u.subject = 'bench-inkoop' AND r.slug = $1",
            long_region,
        )  # fmt: skip
    portal = await session_for(connection, subject="bench-aanbieder", provider=big, role="aanbieder_medewerker")
    admin = await session_for(connection, subject="bench-beheer", region=ZL, role="waarnemer")
    await connection.execute("UPDATE app_user SET is_platform_admin = true WHERE subject = 'bench-beheer'")
    open_of_big = await connection.fetchval("SELECT count(*) FROM escalation WHERE provider = $1 AND status = 'open'",
                                            big)  # fmt: skip
    region = f"/regio/{ZL}"
    from core import keyset  # the cursor a client holds after paging 20,000 rows into the API list

    deep = await connection.fetchrow(
        "SELECT next_due_at, id FROM escalation WHERE region = $1 AND next_due_at IS NOT NULL "
        "ORDER BY next_due_at, id OFFSET 20000 LIMIT 1", zl,
    )  # fmt: skip
    after = keyset.encode("t", [deep["next_due_at"], deep["id"]]) if deep else ""
    targets = [
        ("dashboard /regio/<slug>", region, inkoop),
        ("escalations overview", f"{region}/escalaties", inkoop),
        ("overview with search", f"{region}/escalaties?zoek={name.split()[-1]}", inkoop),
        ("one escalation (typical)", f"{region}/escalaties/{typical}", inkoop),
        ("one escalation, 2,000 events", f"/regio/{long_region}/escalaties/{long}", inkoop),
        ("intake-stop register", f"{region}/instroomstops", inkoop),
        (f"provider portal home ({open_of_big} open)", "/portaal", portal),
        ("API list", f"/api/v1/regions/{ZL}/escalations", inkoop),
        ("API list, after 20,000 rows", f"/api/v1/regions/{ZL}/escalations?after={after}", inkoop),
        ("account-holding region's list", f"{region}/accounthouder", inkoop),
        ("landing page /werkruimte (team)", "/werkruimte", inkoop),
        ("landing page /werkruimte (provider)", "/werkruimte", portal),
        ("public home, 42 regions", "/", None),
        ("admin: regions", "/beheer/regios", admin),
        ("admin: one region (its contracts)", f"/beheer/regios/{ZL}", admin),
        ("admin: notices of all regions", "/beheer/meldingen", admin),
    ]
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        for _, url, cookie in targets:  # every page answers before anything is timed (and warms up)
            response = await http.get(url, headers={"Cookie": f"trede_session={cookie}"} if cookie else {})
            assert response.status_code == 200, (url, response.status_code, response.text[:300])
        for concurrency in (1, 16) if "pages" in parts else ():
            floor = await measure(http, "/health/live", None, concurrency, seconds)
            print(f"\nconcurrency {concurrency}: floor /health/live p50 {floor['p50'] * 1000:.2f} ms, "
                  f"p95 {floor['p95'] * 1000:.2f} ms (n={floor['n']})", flush=True)  # fmt: skip
            for title, url, cookie in targets:
                print(line(title, await measure(http, url, cookie, concurrency, seconds), floor), flush=True)
        if "csv" not in parts:
            return
        first, total, rows = await first_byte_and_total(http, f"{region}/escalaties/export.csv", inkoop)
        print(f"\nCSV export of {ZL} ({rows:,} rows): first byte {first * 1000:.0f} ms, total {total:.2f} s")


async def sweep(url: str, due: int) -> None:
    import asyncpg

    os.environ["DATABASE_URL"] = url
    from apps.workers.services import run_sweep as sweep_once
    from core.broker import configure_broker
    from core.clock import system_clock
    from core.db import one_connection
    from core.piccolo_conf import DB

    async def run_sweep(slot: int, clock) -> dict:  # on one connection, as the worker's actor runs it (unit_of_work)
        async with one_connection():
            return await sweep_once(slot, clock)

    configure_broker("stub://")  # the outbox job enqueues into memory; nothing is delivered
    await DB.start_connection_pool(min_size=1, max_size=4)
    connection = await asyncpg.connect(url)
    try:
        slot = int(time.time())
        # Warm-up: what the dataset leaves due (the quality watch's first notices, the outbox handing them to the
        # broker, 2,000 a sweep) is done first, as a running worker would have; then "nothing due" is measured.
        started, runs = time.perf_counter(), 0
        while runs < 30 and any((await run_sweep(slot - 100 + runs, system_clock)).values()):
            runs += 1
        print(f"\nsweep warm-up: {runs + 1} runs in {time.perf_counter() - started:.1f} s until nothing was due")
        timings = []
        for attempt in range(3):
            started = time.perf_counter()
            await run_sweep(slot + attempt, system_clock)
            timings.append(time.perf_counter() - started)
        idle = statistics.median(timings)
        per_deadline, runs_due = [], []
        for attempt in range(3):  # three sets of due deadlines (a sweep with due work varies more than an idle one)
            await connection.execute(
                "UPDATE deadline SET due_at = now() - (1 + abs(hashtext(id::text)) % 600) * interval '1 minute' "
                "WHERE id IN (SELECT id FROM deadline WHERE status = 'open' ORDER BY hashtext(id::text || $2) "
                "LIMIT $1)", due, str(attempt),
            )  # fmt: skip
            regions = await connection.fetchval(
                "SELECT count(DISTINCT region) FROM deadline WHERE status = 'open' AND due_at <= now()"
            )
            started = time.perf_counter()
            result = await run_sweep(slot + 10 + attempt, system_clock)
            busy = time.perf_counter() - started
            left = await connection.fetchval("SELECT count(*) FROM deadline WHERE status = 'open' AND due_at <= now()")
            acted = result.get("missed", 0)
            runs_due.append((busy, acted, left, regions))
            per_deadline.append((busy - idle) / max(acted, 1))
    finally:
        await connection.close()
        await DB.close_connection_pool()
    print(f"\nsweep with nothing due: {idle * 1000:.0f} ms (median of 3)")
    for busy, acted, left, regions in runs_due:
        print(f"sweep with {due:,} due in {regions} regions: {busy:.2f} s, acted on {acted:,} ({left:,} left for the "
              f"next run); {(busy - idle) / max(acted, 1) * 1000:.2f} ms per due deadline beyond the idle sweep")
    print(f"sweep per due deadline: median of 3 {statistics.median(per_deadline) * 1000:.2f} ms")


def start_server(url: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "BROKER_URL": os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379"),
           "PYTHONPATH": str(ROOT), "BASE_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    command = [sys.executable, "-c", "from core.cli import main; main()", "serve", "--embedded", "--no-bootstrap",
               "--port", str(port)]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)


async def wait_for(base: str, process: subprocess.Popen, log: Path) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=2) as http:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"trede serve stopped; its log: {log}")
            try:
                if (await http.get("/health/live")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"trede serve did not answer; its log: {log}")


async def exists(server: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(server)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE))
    finally:
        await connection.close()


async def main(scale: float, seconds: float, due: int, server: str, keep: bool, port: int, parts: set[str],
               reuse: bool = False) -> None:  # fmt: skip
    import asyncpg

    reuse = reuse and await exists(server)
    if not reuse:
        await admin(server, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin(server, f'CREATE DATABASE "{DATABASE}"')
    url = f"{server.rpartition('/')[0]}/{DATABASE}"
    os.environ["DATABASE_URL"] = url
    try:
        from apps.tenancy.services import sync_tenants
        from core.bootstrap import migrate_database

        started = time.perf_counter()
        await migrate_database()  # with --reuse: only the migrations added since the dataset was built
        if not reuse:
            await sync_tenants(ROOT / "tenants")
            print(f"national dataset at scale {scale} in {DATABASE}:", flush=True)
        connection = await asyncpg.connect(url)
        try:
            if not reuse:
                await build(connection, scale)
            print(f"{'reused' if reuse else 'built'} in {time.perf_counter() - started:.0f} s: "
                  f"{await sizes(connection)}", flush=True)  # fmt: skip
            log = Path(f"/tmp/trede-national-{port}.log")
            process = start_server(url, port, log)
            try:
                await wait_for(f"http://127.0.0.1:{port}", process, log)
                await pages(f"http://127.0.0.1:{port}", connection, seconds, parts)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:  # still busy with a page that takes longer than the run
                    process.kill()
                    process.wait()
        finally:
            await connection.close()
        if "sweep" in parts:
            await sweep(url, due)
    finally:
        if not keep:
            await admin(server, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=5.0, help="per page and concurrency")
    parser.add_argument("--due", type=int, default=1000, help="deadlines made due for the sweep's measurement")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--parts", default="pages,csv,sweep", help="what to measure (comma-separated)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help=f"use the {DATABASE} database a --keep run left (migrated forward), keep it afterwards")
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"))
    arguments = parser.parse_args()
    print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    asyncio.run(main(arguments.scale, arguments.seconds, arguments.due, arguments.server,
                     arguments.keep or arguments.reuse, arguments.port, set(arguments.parts.split(",")),
                     arguments.reuse))  # fmt: skip
