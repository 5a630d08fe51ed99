"""Benchmark: the first screen of an escalation page with 2,000 timeline events, against a bare Litestar handler.

    .venv/bin/python bench/escalation_page.py [--events 2000] [--repeat 30]

Makes a scratch SQLite database (or uses DATABASE_URL when it points at a scratch PostgreSQL database), loads the
regions and demo rows, gives one demo escalation 2,000 timeline events, logs in as the purchasing team member
``zl-inkoop`` through the local OpenID provider (node, infra/oidc-dev) and then, with the same httpx client over
ASGI in this process, times:
- baseline: GET of a bare Litestar handler that returns a short text;
- page: GET /regio/zuid-limburg/escalaties/<id> (the whole first screen: ladder, deadlines, measures, forms and the
  newest 20 events; "meer laden" fetches older ones).
Prints the medians and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def timed(fn, repeat: int) -> float:
    await fn()  # warm up (template compilation, first queries)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def main(events: int, repeat: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="trede-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'bench.sqlite3'}")
    os.environ["TREDE_VAR_DIR"] = str(scratch / "var")

    import httpx
    from litestar import Litestar, get

    from apps.escalations.tables import Escalation, TimelineEvent
    from apps.providers.tables import Provider
    from core.bootstrap import migrate_database
    from core.clock import system_clock
    from tests.accounts import support

    await migrate_database()
    op = support.start_dev_op([f"{support.TEST_BASE}/auth/callback/dev"], [f"{support.TEST_BASE}/"])
    try:
        await support.load_world(op.issuer)
        settings = support.settings_with_providers(scratch, [support.provider_settings(op.issuer)])
        provider = await Provider.objects().where(Provider.kvk_number == "90000001").first()
        escalation = await Escalation.objects().where(Escalation.provider == provider.id).first()
        newest = TimelineEvent.select(TimelineEvent.sequence).where(TimelineEvent.escalation == escalation.id)
        last = await newest.order_by(TimelineEvent.sequence, ascending=False).first()
        start = last["sequence"] if last else 0
        rows = [
            TimelineEvent(id=uuid.uuid4(), region=escalation.region, escalation=escalation.id, sequence=start + i + 1,
                          kind="notitie" if i % 3 else "bericht", visibility="internal" if i % 3 else "shared",
                          actor_label="Benchmark", occurred_at=system_clock.now(), motivation="",
                          payload={"tekst": f"Gebeurtenis {i}: " + "tekst " * 20, "van": "regio"})
            for i in range(events)
        ]  # fmt: skip
        for chunk in range(0, len(rows), 500):
            await TimelineEvent.insert(*rows[chunk : chunk + 500])
        total = await TimelineEvent.count().where(TimelineEvent.escalation == escalation.id)

        from core.app import create_app

        @get("/", opt={"public": True}, sync_to_thread=False)
        def bare() -> str:
            return "ok"

        from core.db import prepare_engine
        from core.piccolo_conf import DB

        # What the app's start-up does (ASGITransport runs no start-up hooks): on PostgreSQL a connection pool, so a
        # request takes a pooled connection instead of opening one.
        await prepare_engine(DB)
        trede = create_app(settings, start_background=False)
        plain = Litestar(route_handlers=[bare])
        mounts = {support.TEST_BASE: httpx.ASGITransport(app=trede), "http://bare": httpx.ASGITransport(app=plain)}
        async with httpx.AsyncClient(base_url=support.TEST_BASE, mounts=mounts, timeout=30) as http:
            url = f"/regio/zuid-limburg/escalaties/{escalation.id}"
            await support.login(http, "zl-inkoop", url)
            page = await http.get(url)
            assert page.status_code == 200 and "Meer laden" in page.text, page.status_code
            shown = page.text.count('class="trede-event ')

            async def get_page() -> None:
                response = await http.get(url)
                assert response.status_code == 200

            async def get_bare() -> None:
                response = await http.get("http://bare/")
                assert response.status_code == 200

            baseline = await timed(get_bare, repeat)
            rendered = await timed(get_page, repeat)
        print(f"database: {os.environ['DATABASE_URL'].split(':')[0]}; timeline events of the escalation: {total}; "
              f"events on the first screen: {shown}; page size: {len(page.content) // 1024} KiB")  # fmt: skip
        print(f"bare Litestar handler: {baseline * 1000:8.2f} ms (median of {repeat})")
        print(f"escalation page:       {rendered * 1000:8.2f} ms (median of {repeat})")
        print(f"ratio page / bare:     {rendered / baseline:8.1f}×")
    finally:
        op.stop()
        from core.piccolo_conf import DB

        if hasattr(DB, "close_connection_pool"):
            await DB.close_connection_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.repeat))
