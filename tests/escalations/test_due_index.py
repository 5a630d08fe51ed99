"""The sweep's due queries read one index range across every region, never the whole deadline table.

On PostgreSQL 20,000 deadlines (of which 10 due) are added and analysed, then the planner's choice for the exact
query the sweep runs is read with ``EXPLAIN``; on SQLite ``EXPLAIN QUERY PLAN`` names the index it searches."""

from __future__ import annotations

from datetime import timedelta

from apps.escalations.deadlines import due_query
from apps.escalations.reminders import reminder_query
from apps.escalations.services import open_escalation
from apps.escalations.tables import Deadline
from core.actor import SYSTEM
from tests.conftest import ON_POSTGRES
from tests.letter_fields import opening


async def plan(query) -> str:
    if ON_POSTGRES:
        rows = await Deadline.raw(f"EXPLAIN {query}")
        return "\n".join(row["QUERY PLAN"] for row in rows)
    rows = await Deadline.raw(f"EXPLAIN QUERY PLAN {query}")
    return "\n".join(row["detail"] for row in rows)


async def fill(escalation, now) -> None:
    if not ON_POSTGRES:
        return
    await Deadline.raw(
        "INSERT INTO deadline (id, region, escalation, step, key, term, met_by, starts_at, due_at, remind_at, status, "
        "reasons, calendar_version, claimed_by) "
        "SELECT gen_random_uuid(), {}, {}, 'x', 'x', '2 weken', '', {}, "
        "{}::timestamptz + (CASE WHEN g <= 10 THEN -g ELSE g END) * interval '1 minute', "
        "{}::timestamptz + g * interval '1 minute', "
        "CASE WHEN g % 3 = 0 THEN 'missed' ELSE 'open' END, '[]', '', '' FROM generate_series(1, 20000) AS g",
        escalation.region, escalation.id, now, now, now,
    )  # fmt: skip
    await Deadline.raw("ANALYZE deadline")


async def test_due_and_reminder_queries_use_their_partial_indexes(zl, provider, clock):
    escalation = await open_escalation(
        zl, provider=provider, ladder_key="kwaliteit", category="niet_veiligheid", summary="x", motivation="x",
        actor=SYSTEM, clock=clock, letter_fields=opening("niet_veiligheid")
    )  # fmt: skip
    now = clock.now() + timedelta(days=1)
    await fill(escalation, now)
    regions = [zl.region_id, "00000000-0000-0000-0000-000000000001"]
    due, remind = await plan(due_query(regions, now, 500)), await plan(reminder_query(regions, now, 500))
    for text in (due, remind):
        assert "Seq Scan on deadline" not in text and "SCAN deadline\n" not in f"{text}\n", text
    if ON_POSTGRES:  # SQLite (the embedded default, small) may prefer the status index; PostgreSQL the range
        assert "deadline_open_due_at" in due, due
        assert "deadline_open_remind_at" in remind, remind
        # one range for all regions: the open ones of the ten due (every third of the added rows is missed)
        assert len(await due_query(regions, now, 500)) == 7
