"""The lists that page by keyset, and the bell, read their own index (issue 20): checked with EXPLAIN on the
queries the pages run (PostgreSQL with sequential scans priced out, as in test_query_plans; SQLite's EXPLAIN
QUERY PLAN)."""

from __future__ import annotations

from datetime import timedelta

from piccolo.engine import engine_finder

from apps.accounts.tables import User
from apps.audit.tables import AuditEntry
from apps.escalations.dashboard import due_between_queries, month_sums_query
from apps.escalations.overview import IN_FORCE, stops_query
from apps.escalations.tables import Escalation, Measure, Signal
from apps.evidence.tables import EvidenceItem
from apps.notifications.inapp import _mine, unread_query
from apps.notifications.services import pending_query
from apps.notifications.tables import Notification
from apps.tenancy.tables import Region
from core.clock import system_clock
from core.tenancy import RegionsScope
from tests.workspace.support import escalation_of, provider, zl_scope
from tests.workspace.test_query_plans import _plan


def ordered(query, *order):
    for column, ascending in order:
        query = query.order_by(column, ascending=ascending)
    return query


async def test_each_list_and_the_bell_read_their_index(world):
    scope = await zl_scope()
    ilse = await User.objects().where(User.subject == "zl-inkoop").first()
    vlinder = await provider("90000001")
    newest = ((Signal.received_at, False), (Signal.id, False))
    cases = {
        "signal_region_received": ordered(scope.select(Signal, Signal.id), *newest),
        "signal_region_status_received": ordered(scope.select(Signal, Signal.id).where(Signal.status == "nieuw"),
                                                 *newest),  # fmt: skip
        "evidence_item_provider_kind_person": ordered(
            EvidenceItem.select(EvidenceItem.id).where(EvidenceItem.provider == vlinder.id),
            (EvidenceItem.kind, True), (EvidenceItem.person, True), (EvidenceItem.id, True),
        ),
        "audit_entry_region_at": ordered(scope.select(AuditEntry, AuditEntry.id), (AuditEntry.at, False),
                                         (AuditEntry.id, False)),  # fmt: skip
        "notification_region_created": ordered(scope.select(Notification, Notification.id),
                                               (Notification.created_at, False), (Notification.id, False)),
        "notification_status_created": ordered(
            RegionsScope([row["id"] for row in await Region.select(Region.id)]).select(Notification, Notification.id)
            .where(Notification.status == "failed"), (Notification.created_at, False), (Notification.id, False),
        ),
        "notification_inapp": ordered(
            RegionsScope([scope.region_id]).select(Notification, Notification.id).where(_mine(ilse.id)),
            (Notification.created_at, False), (Notification.id, False),
        ),
    }  # fmt: skip
    for index, query in cases.items():
        plan = await _plan(str(query.limit(51)))
        assert index in plan, (index, plan)
    # the bell: an index of the person's in-app notices, never the table. The partial index of unread ones serves
    # it; with the statistics of a long test run PostgreSQL may take the person's in-app index instead, as cheap.
    plan = await _plan(str(unread_query(ilse.id, [scope.region_id])))
    assert "notification_unread" in plan or "notification_inapp" in plan, plan
    assert "Seq Scan on notification" not in plan and "SCAN notification" not in plan, plan


# Rows the four queries below must not read, so that on PostgreSQL the index made for each query is also the
# cheapest (a nearly empty table makes several indexes cost the same): open escalations (no closing moment),
# deadlines met in the region and running in another, intake stops that ended, notices sent.
FILLERS = [
    """INSERT INTO escalation (id, region, reference, provider, contract, ladder_version, category, subcategory,
                               current_step, status, outcome, summary, opened_at)
       SELECT gen_random_uuid(), e.region, 'PLAN-' || g, e.provider, e.contract, e.ladder_version, e.category,
              e.subcategory, e.current_step, 'open', '', '', {} FROM escalation e, generate_series(1, 2000) AS g
       WHERE e.id = {}""",
    """INSERT INTO deadline (id, region, escalation, step, key, term, met_by, starts_at, due_at, status, reasons,
                             calendar_version, claimed_by)
       SELECT gen_random_uuid(), CASE WHEN g % 2 = 0 THEN e.region ELSE {} END, e.id, 'x', 'x', '1 week', '', {},
              {}::timestamptz + (g % 14 - 7) * interval '1 day', CASE WHEN g % 2 = 0 THEN 'met' ELSE 'open' END,
              '[]', '', '' FROM escalation e, generate_series(1, 4000) AS g WHERE e.id = {}""",
    """INSERT INTO measure (id, region, escalation, provider, kind, scope, started_at, ended_at, start_motivation,
                            end_motivation, created_at)
       SELECT gen_random_uuid(), e.region, e.id, e.provider, 'instroomstop', '[]', {}, {}, '', '', {}
       FROM escalation e, generate_series(1, 2000) AS g WHERE e.id = {}""",
]


async def test_the_dashboard_the_register_and_the_outbox_read_their_partial_and_range_indexes(world):
    """Issue 20's indexes for the dashboard's month chart (closed per month) and its deadlines due this week and
    overdue, the register of intake stops (a page and its count) and the outbox's pending notices: each query as the
    page or the sweep runs it reads its index, never the whole table."""
    scope = await zl_scope()
    now = system_clock.now()
    if engine_finder().engine_type == "postgres":
        template = await escalation_of("90000002")
        other = await Region.select(Region.id).where(Region.id != scope.region_id).first()
        engine = engine_finder()
        for sql, values in zip(FILLERS, [(now, template.id), (other["id"], now, now, template.id),
                                         (now, now, now, template.id)], strict=True):  # fmt: skip
            await Escalation.raw(sql, *values)
        # The rows earlier tests of the run deleted leave their index pages behind, and the planner prices an index
        # by its pages per live row: rebuilt and vacuumed (as autovacuum keeps them in production), each index is as
        # large as what it holds, so the plan does not depend on which tests ran before (a full run on PostgreSQL
        # once counted the due deadlines through the region's plain index).
        for table in ("escalation", "deadline", "measure", "notification"):
            await engine.run_ddl(f"REINDEX TABLE {table}")
        await engine.run_ddl("VACUUM ANALYZE escalation, deadline, measure, notification")
    bounds = [now - timedelta(days=30 * back) for back in range(12, -1, -1)]
    this_week, this_week_first = due_between_queries(scope, now, now + timedelta(days=7))
    overdue, overdue_first = due_between_queries(scope, None, now)
    newest_stops = ordered(stops_query(scope), (Measure.started_at, False), (Measure.id, False)).limit(51)
    everywhere = RegionsScope([row["id"] for row in await Region.select(Region.id)])
    on_postgres = engine_finder().engine_type == "postgres"
    cases = [
        ("escalation_region_closed", "escalation", month_sums_query(scope, "closed_at", bounds)),
        *(("deadline_open_region_due", "deadline", query) for query in (this_week, this_week_first, overdue,
                                                                        overdue_first)),
        ("measure_stop_in_force", "measure", newest_stops),
        ("measure_stop_in_force", "measure", scope.count(Measure).where(IN_FORCE)),
        # SQLite, without statistics, may search the per-region index (region, status, created_at) and sort instead.
        # On PostgreSQL the platform admin's (status, created_at, id) serves the outbox's order as well, and on the
        # test's small table it may cost the same as the partial index: either, never a sort (priced out here).
        (("notification_pending_created", "notification_status_created") if on_postgres else "INDEX", "notification",
         pending_query(everywhere, now, 2000)),
    ]  # fmt: skip
    for index, table, query in cases:
        plan = await _plan(str(query))
        assert any(name in plan for name in ((index,) if isinstance(index, str) else index)), (index, str(query), plan)
        assert f"Seq Scan on {table}" not in plan and f"SCAN {table}" not in plan.replace(f"SCAN {table} USING", ""), (
            index, plan,
        )  # fmt: skip
