"""A region's quality indicators (``[indicators.KEY]`` in its region file) and the periods figures are given for.

Periods are written as people write them: ``2026-K3`` (the third quarter of 2026) and ``2026`` (the year).
``Q`` is accepted for ``K`` when reading. A figure for a period is due ``due_days`` after the period's last day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from apps.quality.tables import QualityIndicator
from core.tenancy import RegionScope

QUARTER, YEAR = "kwartaal", "jaar"
UNIT_LABELS = {"aantal": "aantal", "procent": "%", "score": "score", "dagen": "dagen", "euro": "euro"}
WHOLE_UNITS = {"aantal", "dagen"}  # counted: no fractions
_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*[KQkq]\s*([1-4])\s*$")
_YEAR_RE = re.compile(r"^\s*(\d{4})\s*$")
FIRST_YEAR = 2015  # the Jeugdwet; nothing earlier is a period of Trede


# --- periods ---------------------------------------------------------------------------------------------------


def parse_period(text: str, kind: str) -> str | None:
    """The canonical code of a period of ``kind`` ("2026-K3", "2026"), or None when ``text`` is not one."""
    if kind == QUARTER:
        match = _QUARTER_RE.match(text or "")
        if match and int(match.group(1)) >= FIRST_YEAR:
            return f"{match.group(1)}-K{match.group(2)}"
        return None
    match = _YEAR_RE.match(text or "")
    return match.group(1) if match and int(match.group(1)) >= FIRST_YEAR else None


def period_kind(code: str) -> str:
    return QUARTER if "-K" in code else YEAR


def period_end(code: str) -> date:
    """The last day of a period."""
    if "-K" in code:
        year, quarter = int(code[:4]), int(code[-1])
        first_of_next = date(year + 1, 1, 1) if quarter == 4 else date(year, quarter * 3 + 1, 1)
        return first_of_next - timedelta(days=1)
    return date(int(code), 12, 31)


def period_label(code: str) -> str:
    """ "2026-K3" -> "3e kwartaal 2026"; "2026" -> "2026"."""
    if "-K" in code:
        return f"{code[-1]}e kwartaal {code[:4]}"
    return code


def period_containing(kind: str, day: date) -> str:
    if kind == QUARTER:
        return f"{day.year}-K{(day.month - 1) // 3 + 1}"
    return str(day.year)


def previous_period(code: str) -> str:
    if "-K" in code:
        year, quarter = int(code[:4]), int(code[-1])
        return f"{year - 1}-K4" if quarter == 1 else f"{year}-K{quarter - 1}"
    return str(int(code) - 1)


def last_closed_period(kind: str, today: date) -> str:
    """The most recent period that has ended before ``today``."""
    return previous_period(period_containing(kind, today))


def closed_periods(kind: str, today: date, count: int) -> list[str]:
    """The last ``count`` ended periods, oldest first."""
    periods = [last_closed_period(kind, today)]
    while len(periods) < count:
        periods.append(previous_period(periods[-1]))
    return list(reversed(periods))


def due_on(code: str, due_days: int) -> date:
    return period_end(code) + timedelta(days=due_days)


# --- indicators --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Norm:
    min: float | None
    max: float | None

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def text(self, unit: str) -> str:
        """The norm in words: ten hoogste 3, ten minste 70%, tussen 7 en 9, ten hoogste 42 dagen."""
        if self.min is not None and self.max is not None:
            return f"tussen {with_unit(self.min, unit)} en {with_unit(self.max, unit)}"
        if self.min is not None:
            return f"ten minste {with_unit(self.min, unit)}"
        return f"ten hoogste {with_unit(self.max, unit)}"


def with_unit(value: float, unit: str) -> str:
    return f"{fmt(value, unit)} dagen" if unit == "dagen" else fmt(value, unit)


def fmt(value: float | None, unit: str = "") -> str:
    """A figure in Dutch notation: 7,5 / 12 / 1.250,50 (no unit unless asked)."""
    if value is None:
        return "–"
    if float(value).is_integer():
        text = f"{int(value):,}".replace(",", ".")
    else:
        text = f"{value:,.2f}".rstrip("0").replace(",", "_").replace(".", ",").replace("_", ".")
    if unit == "procent":
        return f"{text}%"
    if unit == "euro":
        return f"€ {text}"
    return text


def norm_of(indicator: QualityIndicator) -> Norm | None:
    if indicator.norm_min is None and indicator.norm_max is None:
        return None
    return Norm(indicator.norm_min, indicator.norm_max)


def _values(spec, position: int) -> dict:
    return {
        "name": spec.name,
        "description": spec.description,
        "unit": spec.unit,
        "period": spec.period,
        "norm_min": spec.norm.min if spec.norm else None,
        "norm_max": spec.norm.max if spec.norm else None,
        "due_days": spec.due_days,
        "remind_days_before": spec.remind_days_before,
        "signal_out_of_norm": spec.signal_out_of_norm,
        "signal_missing": spec.signal_missing,
        "derived_from": spec.derived_from or "",
        "position": position,
        "active": True,
    }


async def sync_indicators(scope: RegionScope, specs: dict) -> None:
    """Make the region's indicator rows match its file (called by ``trede tenants sync``, in its transaction).

    An indicator that left the file is kept inactive: its figures stay readable and exportable."""
    existing = {row.key: row for row in await scope.objects(QualityIndicator)}
    for position, (key, spec) in enumerate(specs.items()):
        values = _values(spec, position)
        if key in existing:
            await scope.update(QualityIndicator, {getattr(QualityIndicator, k): v for k, v in values.items()}).where(
                QualityIndicator.id == existing[key].id
            )
        else:
            await scope.new(QualityIndicator, key=key, **values).save()
    gone = [row.id for key, row in existing.items() if key not in specs]
    if gone:
        await scope.update(QualityIndicator, {QualityIndicator.active: False}).where(QualityIndicator.id.is_in(gone))


async def active_indicators(scope: RegionScope) -> list[QualityIndicator]:
    return (
        await scope.objects(QualityIndicator)
        .where(QualityIndicator.active == True)  # noqa: E712
        .order_by(QualityIndicator.position)
    )


async def indicator_by_key(scope: RegionScope, key: str) -> QualityIndicator | None:
    return await scope.objects(QualityIndicator).where(QualityIndicator.key == key).first()
