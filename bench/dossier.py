"""Benchmark: building the dossier of an escalation (what the worker does), per 1,000 timeline events, against
rendering an empty letter measured in the same run.

    .venv/bin/python bench/dossier.py [--events 2000] [--repeat 3]

Makes a scratch SQLite database (or uses DATABASE_URL when it points at a scratch PostgreSQL database) and a scratch
object store (``TREDE_VAR_DIR``), loads the regions and demo rows, gives one demo escalation ``--events`` timeline
events (a third shared messages, the rest internal notes) and then, in this process, times (median of
``--repeat``):
- baseline: an empty letter (``letters.html_to_pdf`` of a page with a title), the fixed cost of one PDF/A;
- html: reading the escalation and rendering ``regio/dossier.html`` (``dossier.build_dossier``);
- pdf: the dossier's HTML to PDF/A (``dossier.dossier_pdf``);
- build: what the ``build_dossier`` actor does for one request (claim, read, render, PDF, store, document, audit,
  notice: ``dossier.build_requested``).
Prints the times, seconds per 1,000 events ((build − baseline) / events × 1,000) and the ratio build / baseline.
A small run (``--events 200 --repeat 1``) is enough to see the trend; the full 2,000 takes tens of seconds per build.
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

EMPTY_LETTER = ('<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Leeg</title></head>'
                "<body><p>Leeg.</p></body></html>")  # fmt: skip


async def timed(fn, repeat: int) -> float:
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

    import anyio.to_thread

    from apps.escalations import dossier, dossier_requests
    from apps.escalations.letters import html_to_pdf
    from apps.escalations.tables import Escalation, TimelineEvent
    from apps.escalations.workspace import Here
    from apps.providers.tables import Provider
    from apps.tenancy.tables import Region
    from core.actor import Actor
    from core.bootstrap import migrate_database
    from core.clock import system_clock
    from core.tenancy import RegionScope
    from tests.accounts import support

    await migrate_database()
    try:
        await support.load_world(None)  # no accounts: nothing here logs in
        provider = await Provider.objects().where(Provider.kvk_number == "90000001").first()
        escalation = await Escalation.objects().where(Escalation.provider == provider.id).first()
        region = await Region.objects().where(Region.id == escalation.region).first()
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

        scope = RegionScope(region.id)
        actor = Actor(label="Benchmark")
        h = Here(region=region, scope=scope, person=None, actor=actor, clock=system_clock)
        built: dict = {}

        async def empty_letter() -> None:
            await anyio.to_thread.run_sync(html_to_pdf, EMPTY_LETTER)

        async def html() -> None:
            built["dossier"] = await dossier.build_dossier(h, escalation.id)

        async def pdf() -> None:
            built["pdf"] = await dossier.dossier_pdf(built["dossier"])

        async def build() -> None:
            request = await dossier_requests.request_dossier(scope, escalation.id, actor, system_clock)
            document = await dossier.build_requested(region.id, request.id, system_clock)
            assert document is not None, "the build failed (see the log)"

        await empty_letter()  # warm up: pango, fonts, templates
        baseline = await timed(empty_letter, max(repeat, 3))
        rendered = await timed(html, repeat)
        converted = await timed(pdf, repeat)
        whole = await timed(build, repeat)
        per_thousand = (whole - baseline) / total * 1000
        print(f"database: {os.environ['DATABASE_URL'].split(':')[0]}; timeline events of the escalation: {total}; "
              f"dossier: {len(built['pdf']) // 1024} KiB")  # fmt: skip
        print(f"empty letter (PDF/A):      {baseline:8.2f} s (median of {max(repeat, 3)})")
        print(f"dossier HTML:              {rendered:8.2f} s (median of {repeat})")
        print(f"dossier PDF/A:             {converted:8.2f} s (median of {repeat})")
        print(f"whole build (worker):      {whole:8.2f} s (median of {repeat})")
        print(f"per 1,000 events:          {per_thousand:8.2f} s (build minus the empty letter)")
        print(f"ratio build / empty letter: {whole / baseline:7.1f}×")
    finally:
        from core.piccolo_conf import DB

        if hasattr(DB, "close_connection_pool"):
            await DB.close_connection_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.repeat))
