"""The lists that page by keyset, and the bell, read their own index (issue 20): checked with EXPLAIN on the
queries the pages run (PostgreSQL with sequential scans priced out, as in test_query_plans; SQLite's EXPLAIN
QUERY PLAN)."""

from __future__ import annotations

from apps.accounts.tables import User
from apps.audit.tables import AuditEntry
from apps.escalations.tables import Signal
from apps.evidence.tables import EvidenceItem
from apps.notifications.inapp import _mine, unread_query
from apps.notifications.tables import Notification
from core.tenancy import RegionsScope
from tests.workspace.support import provider, zl_scope
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
