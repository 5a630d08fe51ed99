"""Working days and due dates under the Algemene termijnenwet (Atw, BWBR0002448).

The Atw, not a generic public-holiday list, decides which days count:

- art. 3 lid 1: Nieuwjaarsdag, Tweede Paasdag, Tweede Pinksterdag, Eerste en Tweede Kerstdag,
  Hemelvaartsdag, the day the King's birthday is celebrated (Koningsdag) and 5 mei (every year);
- art. 3 lid 2: Goede Vrijdag is equated with those days *by the law itself*, so it is not a working
  day here, although many employers do not give it off;
- art. 3 lid 3: further days equated by decree ("gelijkgestelde dagen", atw_decreed_days.toml);
- art. 1: a term that ends on a Saturday, Sunday or such a day runs on to the next day that is none
  of these;
- art. 2: a term of at least three days is extended so that it contains at least two such days;
- art. 4 sub a: the Atw does not apply to terms in hours, of more than 90 days, more than twelve
  weeks, more than three months, or of one or more years. `add_term` follows this by default
  (`apply_art4=False` extends those terms as well, for contracts that say so).

On top of that a region may close on extra days (`extra_closed_days`); they count like holidays.

The holiday rules are those in force today (e.g. Koningsdag on 27 April, as since 2014); earlier
years are computed with the same rules, which is fine for deadlines but not for legal history.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

from apps.ladders.terms import Term
from core.formatting import format_date_nl

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DECREED_DAYS_FILE = Path(__file__).with_name("atw_decreed_days.toml")

ART2_REASON = "verlengd: ten minste twee werkdagen (Atw art. 2)"

# Atw art. 4 sub a: longest terms (per unit) the Atw still applies to.
_ART4_MAX_AMOUNT = {"days": 90, "weeks": 12, "months": 3, "years": 0}
# Terms that can end on a closed day and so are moved by art. 1 (working days and hours never are).
_CALENDAR_KINDS = frozenset({"days", "weeks", "months", "years", "fixed_date", "month_start"})
_WEEKEND = {5: "zaterdag", 6: "zondag"}


@lru_cache(maxsize=1024)
def _atw_holidays(year: int) -> tuple[tuple[date, str], ...]:
    """Atw art. 3 lid 1 and 2 for one year, in date order (cached: asked once per day counted)."""
    easter_sunday = easter(year)
    king = date(year, 4, 27)
    if king.weekday() == 6:
        # Koningsdag falls on Saturday 26 April when 27 April is a Sunday.
        king = date(year, 4, 26)
    days = {
        date(year, 1, 1): "Nieuwjaarsdag",
        easter_sunday - timedelta(days=2): "Goede Vrijdag",  # art. 3 lid 2
        easter_sunday + timedelta(days=1): "Tweede Paasdag",
        king: "Koningsdag",
        date(year, 5, 5): "Bevrijdingsdag",  # "de vijfde mei": every year, not only lustrum years
        easter_sunday + timedelta(days=39): "Hemelvaartsdag",
        easter_sunday + timedelta(days=50): "Tweede Pinksterdag",
        date(year, 12, 25): "Eerste Kerstdag",
        date(year, 12, 26): "Tweede Kerstdag",
    }
    return tuple(sorted(days.items()))


def load_decreed_days(path: Path = DECREED_DAYS_FILE) -> dict[date, str]:
    """Read the days equated with holidays by decree (Atw art. 3 lid 3) from a TOML file."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    days: dict[date, str] = {}
    for entry in data.get("days", []):
        day, label = entry.get("date"), entry.get("label")
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"{path}: 'date' must be a TOML local date, got {day!r}")
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{path}: {day} needs a non-empty 'label'")
        if day in days:
            raise ValueError(f"{path}: {day} is listed twice")
        days[day] = label.strip()
    return days


@lru_cache(maxsize=1)
def _default_decreed_days() -> Mapping[date, str]:
    return load_decreed_days()


def _require_date(d: object) -> date:
    # datetime is a subclass of date but never equals one, so it would silently miss every holiday.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")
    return d


def _checked_days(days: Mapping[date, str], name: str) -> dict[date, str]:
    checked: dict[date, str] = {}
    for day, label in days.items():
        _require_date(day)
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{name}: {day} needs a non-empty label")
        checked[day] = label.strip()
    return checked


class DutchCalendar:
    """Which days are working days under the Atw, plus a region's own closing days."""

    def __init__(
        self,
        extra_closed_days: Mapping[date, str] | None = None,
        decreed_days: Mapping[date, str] | None = None,
    ) -> None:
        # decreed_days=None means "the published decrees" (atw_decreed_days.toml); pass {} for none.
        self.extra_closed_days = _checked_days(extra_closed_days or {}, "extra_closed_days")
        self.decreed_days = _checked_days(
            _default_decreed_days() if decreed_days is None else decreed_days, "decreed_days"
        )

    def __repr__(self) -> str:
        return (
            f"DutchCalendar(extra_closed_days={len(self.extra_closed_days)} days, "
            f"decreed_days={len(self.decreed_days)} days)"
        )

    def closed_reason(self, d: date) -> str | None:
        """Why `d` is not a working day (Dutch label), or None for a working day.

        A holiday that falls in a weekend is named by the holiday ("Tweede Kerstdag", not "zaterdag").
        """
        _require_date(d)
        for day, label in _atw_holidays(d.year):
            if day == d:
                return label
        if d in self.decreed_days:
            return self.decreed_days[d]
        if d in self.extra_closed_days:
            return self.extra_closed_days[d]
        return _WEEKEND.get(d.weekday())

    def is_working_day(self, d: date) -> bool:
        return self.closed_reason(d) is None

    def holidays(self, year: int) -> dict[date, str]:
        """Atw holidays of `year` plus decreed and extra closed days, in date order (no weekends)."""
        days: dict[date, str] = {}
        for source in (self.extra_closed_days, self.decreed_days, dict(_atw_holidays(year))):
            # Later sources win, so a day that is both an Atw holiday and an extra day keeps its Atw name.
            days.update({day: label for day, label in source.items() if day.year == year})
        return dict(sorted(days.items()))

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after `d` (n >= 1; `d` itself is not counted)."""
        _require_date(d)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a whole number >= 1, got {n!r}")
        remaining = n
        while remaining:
            d += timedelta(days=1)
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in (start, end]: `start` excluded, `end` included; 0 if end <= start."""
        _require_date(start)
        _require_date(end)
        count = 0
        d = start
        while d < end:
            d += timedelta(days=1)
            if self.is_working_day(d):
                count += 1
        return count

    def next_working_day(self, d: date) -> tuple[date, tuple[str, ...]]:
        """Atw art. 1: `d` itself if it is a working day, else the first working day after it.

        Also returns one reason per skipped day, in date order: "verschoven: zaterdag (4 april 2026)".
        """
        _require_date(d)
        reasons: list[str] = []
        while (reason := self.closed_reason(d)) is not None:
            reasons.append(f"verschoven: {reason} ({format_date_nl(d)})")
            d += timedelta(days=1)
        return d, tuple(reasons)


@dataclass(frozen=True)
class DueDate:
    due_date: date  # last day of the term, local Dutch date
    due_at: datetime  # tz-aware UTC: end of due_date in Amsterdam, or the exact moment for hours
    reasons: tuple[str, ...] = ()  # Dutch, why due_date moved; empty if it did not


def _start_moment(start: datetime | date) -> tuple[date, datetime]:
    """Local Dutch start date and the aware start moment (local midnight for a plain date)."""
    if isinstance(start, datetime):
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be a timezone-aware datetime or a date, not a naive datetime")
        return start.astimezone(AMSTERDAM).date(), start
    if isinstance(start, date):
        return start, datetime.combine(start, time(0), AMSTERDAM)
    raise TypeError(f"start must be a date or datetime, got {type(start).__name__}")


def _end_of_day_utc(d: date) -> datetime:
    return datetime.combine(d, time.max, AMSTERDAM).astimezone(UTC)


def _raw_end(start: date, term: Term) -> date:
    """Plain calendar arithmetic, before any Atw extension. Terms count from the start date."""
    if term.kind in ("days", "weeks", "months", "years"):
        assert term.amount is not None
        if term.kind == "days":
            return start + timedelta(days=term.amount)
        if term.kind == "weeks":
            return start + timedelta(weeks=term.amount)
        # relativedelta clips to the month's last day: 31 januari + 1 maand = 28/29 februari.
        if term.kind == "months":
            return start + relativedelta(months=term.amount)
        return start + relativedelta(years=term.amount)
    assert term.month is not None
    if term.kind == "month_start":
        # "in oktober": due when that month comes; started within the month itself, it is due now
        # (entered on 3 October 2026, the October check is this October's, not next year's).
        if start.month == term.month:
            return start
        first = date(start.year, term.month, 1)
        return first if first >= start else date(start.year + 1, term.month, 1)
    assert term.day is not None
    if term.year is not None:
        return date(term.year, term.month, term.day)  # may lie before start: the deadline has passed
    # The next occurrence on or after start; 29 februari can be up to 8 years away (1896 -> 1904).
    for year in range(start.year, start.year + 9):
        try:
            candidate = date(year, term.month, term.day)
        except ValueError:
            continue
        if candidate >= start:
            return candidate
    raise AssertionError("unreachable: every valid day/month occurs within 9 years")


def _atw_applies(term: Term, apply_art4: bool) -> bool:
    if term.kind not in _CALENDAR_KINDS:
        return False
    if not apply_art4 or term.kind in ("fixed_date", "month_start"):
        return True
    assert term.amount is not None
    return term.amount <= _ART4_MAX_AMOUNT[term.kind]


def add_term(start: datetime | date, term: Term, calendar: DutchCalendar, *, apply_art4: bool = True) -> DueDate:
    """When `term` starting at `start` ends, with Atw art. 1, 2 (and 4) applied.

    - "N uur": start + N hours of elapsed time (across DST too), never moved (Atw art. 4).
    - "N werkdagen": the N-th working day after the start day; never moved.
    - days/weeks/months/years: counted from the start date ("2 weken" from 2 maart ends 16 maart),
      then moved to a working day (art. 1) and extended to contain two working days (art. 2,
      terms of 3 days or more), unless art. 4 excludes the term and `apply_art4` is true.
    - "1 april": the next 1 April on or after the start date (or the given year); "oktober": the next
      1 October, or the start date itself when it lies in October; both moved to a working day (art. 1).
    A date start is that local day; an aware datetime is converted to Europe/Amsterdam first.
    """
    local_start, start_moment = _start_moment(start)
    try:
        if term.kind == "hours":
            assert term.amount is not None
            due_at = start_moment.astimezone(UTC) + timedelta(hours=term.amount)
            return DueDate(due_date=due_at.astimezone(AMSTERDAM).date(), due_at=due_at, reasons=())

        if term.kind == "working_days":
            assert term.amount is not None
            due_date = calendar.add_working_days(local_start, term.amount)
            return DueDate(due_date=due_date, due_at=_end_of_day_utc(due_date), reasons=())

        due_date = _raw_end(local_start, term)
        reasons: tuple[str, ...] = ()
        if _atw_applies(term, apply_art4):
            due_date, reasons = calendar.next_working_day(due_date)  # art. 1
            is_art2_term = term.kind in ("weeks", "months", "years") or (
                term.kind == "days" and term.amount is not None and term.amount >= 3
            )
            if is_art2_term and (second := calendar.add_working_days(local_start, 2)) > due_date:
                # Art. 2: the term (start, end] must contain at least two working days.
                due_date = second
                reasons += (ART2_REASON,)
        return DueDate(due_date=due_date, due_at=_end_of_day_utc(due_date), reasons=reasons)
    except OverflowError as error:
        raise ValueError(f"'{term.describe()}' from {local_start} ends outside the supported dates") from error
