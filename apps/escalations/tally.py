"""Counting a region's escalations without reading them: ``escalation_tally`` (kept by database triggers on
``escalation``, in the writing transaction, see ``EscalationTally``) holds one row per ladder version, step,
category, subcategory and status. The home page, the dashboard and the overview (when its filter is one the tally
knows: status, step, category) read these few rows instead of grouping the region's escalations (issue 20)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.escalations.tables import EscalationTally
from core.tenancy import RegionScope

CLOSED = "closed"


@dataclass(frozen=True)
class Tally:
    rows: list[dict]  # ladder_version, current_step, category, subcategory, status, escalations (> 0)

    def matching(self, *, status: str = "alle", ladder_of: Any = None, ladder: str = "", step: str = "",
                 category: str = "", subcategory: str = "") -> list[dict]:  # fmt: skip
        """The rows of a filter: ``status`` lopend / afgesloten / alle; ``ladder`` (a key, through ``ladder_of``:
        version id -> key), ``step``, ``category``, ``subcategory`` when given."""
        found = []
        for row in self.rows:
            if (status == "lopend" and row["status"] == CLOSED) or (status == "afgesloten" and row["status"] != CLOSED):
                continue
            if ladder and ladder_of(row["ladder_version"]) != ladder:
                continue
            if (step and row["current_step"] != step) or (category and row["category"] != category):
                continue
            if subcategory and row["subcategory"] != subcategory:
                continue
            found.append(row)
        return found

    def total(self, *, status: str = "", step: str = "", category: str = "") -> int:
        """How many escalations have exactly this status (open, paused, closed), current step and category, each
        when given: the API list's filters."""
        return sum(row["escalations"] for row in self.rows
                   if (not status or row["status"] == status) and (not step or row["current_step"] == step)
                   and (not category or row["category"] == category))  # fmt: skip

    def open_total(self) -> int:
        return sum(row["escalations"] for row in self.matching(status="lopend"))


async def region_tally(scope: RegionScope) -> Tally:
    """The region's tally: a handful of rows, however many escalations the region has."""
    rows = await scope.select(
        EscalationTally, EscalationTally.ladder_version, EscalationTally.current_step, EscalationTally.category,
        EscalationTally.subcategory, EscalationTally.status, EscalationTally.escalations,
    ).where(EscalationTally.escalations > 0)  # fmt: skip
    return Tally(rows)
