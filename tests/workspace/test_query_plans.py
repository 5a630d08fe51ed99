"""The overview's and the API list's first page read the index (region, next_due_at, id), not the whole table:
checked with the database's own EXPLAIN (PostgreSQL with sequential scans and sorts priced out, so the plan shows
whether the index can serve the query and its order at all; SQLite's EXPLAIN QUERY PLAN)."""

from __future__ import annotations

from piccolo.engine import engine_finder

from apps.escalations.api_views import LIST_COLUMNS
from apps.escalations.overview import Filters, overview_fetch, overview_segments
from apps.escalations.tables import Escalation
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
