"""The overview's and the API list's first page read the index (region, next_due_at, id), not the whole table:
checked with the database's own EXPLAIN (PostgreSQL with sequential scans and sorts priced out, so the plan shows
whether the index can serve the query and its order at all; SQLite's EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import uuid

from piccolo.engine import engine_finder

from apps.audit.tables import AuditEntry
from apps.escalations.api_views import LIST_COLUMNS
from apps.escalations.overview import Filters, overview_fetch, overview_segments
from apps.escalations.tables import Escalation
from core import keyset
from core.clock import system_clock
from tests.workspace.support import zl_scope


async def _plan(sql: str) -> str:
    engine = engine_finder()
    if engine.engine_type == "postgres":
        async with engine.transaction():
            await engine.run_ddl("SET LOCAL enable_seqscan = off")
            # and sorts too: on a nearly empty table any index with a sort looks as cheap; the plan must show an
            # index that serves the list's order itself
            await engine.run_ddl("SET LOCAL enable_sort = off")
            rows = await engine.run_ddl(f"EXPLAIN {sql}")
        return "\n".join(r["QUERY PLAN"] for r in rows)
    rows = await engine.run_ddl(f"EXPLAIN QUERY PLAN {sql}")
    return "\n".join(str(r["detail"]) for r in rows)


async def test_the_overview_and_api_list_read_the_next_due_index(world):
    scope = await zl_scope()
    filters = Filters()
    segment = overview_segments(filters)[0]
    query = scope.select(Escalation, Escalation.id, Escalation.next_due_at).where(segment.condition)
    query = query.where(Escalation.status != "closed")
    for column, ascending in segment.order:
        query = query.order_by(column, ascending=ascending)
    # the API list: its columns (joins to provider and ladder), the same order, a page of 50
    api = scope.select(Escalation, *LIST_COLUMNS, Escalation.next_due_at).where(Escalation.next_due_at.is_not_null())
    api = api.order_by(Escalation.next_due_at).order_by(Escalation.id)
    for sql in (str(query.limit(26)), str(api.limit(50))):
        plan = await _plan(sql)
        assert "escalation_region_next_due" in plan, plan
        assert "Seq Scan on escalation" not in plan and "SCAN escalation" not in plan.replace("USING INDEX", ""), plan
    assert overview_fetch(scope, filters, system_clock.now())  # the page's fetch builds this same query


async def test_a_page_after_a_cursor_starts_at_the_cursor_in_the_index(world):
    """Page 400 must cost what page 1 costs: the cursor's condition bounds the index range, so the database does not
    read the 20,000 entries before the position only to filter them out. PostgreSQL applies the condition's OR
    ((a > x) OR (a = x AND b > y)) as a filter of the whole range; keyset.beyond leads it with a >= x, which it uses
    as an index bound. SQLite makes the OR a range by itself; its plan is checked the same way."""
    scope = await zl_scope()
    segment = overview_segments(Filters())[0]  # next_due_at ascending, then id
    newest_first = [(AuditEntry.at, False), (AuditEntry.id, False)]  # the audit log: newest first
    cases = [
        (scope.select(Escalation, Escalation.id).where(segment.condition), segment.order, "next_due_at", ">"),
        (scope.select(AuditEntry, AuditEntry.id), newest_first, "at", "<"),
    ]
    for query, order, column, direction in cases:
        query = query.where(keyset.beyond(order, [system_clock.now(), uuid.uuid4()], forward=True))
        for ordered_by, ascending in order:
            query = query.order_by(ordered_by, ascending=ascending)
        plan = await _plan(str(query.limit(51)))
        if engine_finder().engine_type == "postgres":
            bound = [line for line in plan.splitlines() if "Index Cond" in line]
            assert bound and f"{column} {direction}= " in bound[0], plan
        else:
            assert f"{column}{direction}?" in plan, plan
