"""Due dates for ladder terms: the Atw calendar with a region's own closed days.

Policy: a term never ends earlier than the law allows. Trede moves every day-based term that ends on a
non-working day to the next working day (Atw art. 1), also the long terms that Atw art. 4 leaves out,
because contracts adopt the Atw by analogy and a later end never harms the party that must act.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

from apps.ladders.calendar import DueDate, DutchCalendar, add_term
from apps.ladders.terms import parse_term


def region_calendar(settings: dict) -> DutchCalendar:
    """The calendar of a region from its stored settings (``Region.settings``)."""
    days = (settings.get("calendar") or {}).get("extra_closed_days") or []
    return DutchCalendar(extra_closed_days={date.fromisoformat(str(d["date"])): d["label"] for d in days})


def calendar_for_region_file(folder: Path | None, slug: str | None) -> DutchCalendar:
    if folder is None or slug is None:
        return DutchCalendar()
    path = folder / f"{slug}.toml"
    if not path.is_file():
        raise LookupError(f"no region file {path}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    days = (data.get("calendar") or {}).get("extra_closed_days") or []
    return DutchCalendar(extra_closed_days={d["date"]: d["label"] for d in days})


def due_date_for(start: date | datetime, term_text: str, calendar: DutchCalendar) -> DueDate:
    return add_term(start, parse_term(term_text), calendar, apply_art4=False)
