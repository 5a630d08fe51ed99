"""The audit writer: every decision and administrative action is one appended row."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apps.audit.tables import AuditEntry
from core.clock import Clock, system_clock


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
