"""The audit writer: every decision and administrative action is one appended row."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apps.audit.tables import AuditEntry
from core.clock import Clock, system_clock
from core.tenancy import RegionScope


async def audit(
    action: str,
    *,
    region_id: UUID | None = None,
    actor_id: UUID | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: str = "",
    detail: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> None:
    await AuditEntry(
        region=region_id,
        actor=actor_id,
        actor_label=actor_label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail or {},
        at=clock.now(),
    ).save()


async def audit_many(scope: RegionScope, entries: list[dict[str, Any]], clock: Clock = system_clock) -> None:
    """Several entries of one region in one insert from plain values (the sweep's missed terms); each dict holds
    ``action`` and ``audit``'s other keyword arguments except the region."""
    at = clock.now()
    rows = [
        {
            "actor": entry.get("actor_id"),
            "actor_label": entry.get("actor_label", ""),
            "action": entry["action"],
            "target_type": entry.get("target_type", ""),
            "target_id": str(entry.get("target_id", "")),
            "detail": entry.get("detail") or {},
            "at": at,
        }
        for entry in entries
    ]
    await scope.insert_values(AuditEntry, rows)
