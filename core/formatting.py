"""Dutch formatting shared by pages, templates (Jinja filters, see ``core.app``) and exports: dates and times in
Europe/Amsterdam (long, "6 april 2026", and numeric, "06-04-2026", as exports write them) and sizes. The CSV
dialect and its safe cells are in ``core.csvexport``.

Timestamps may come as ``datetime`` (PostgreSQL, Piccolo objects) or as ISO text (raw SQL on SQLite), so every
helper accepts both and answers ``""`` for nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from core.clock import AMSTERDAM

__all__ = [
    "AMSTERDAM",
    "JINJA_FILTERS",
    "aantal",
    "first_upper",
    "days_until_nl",
    "readable_key",
    "source_title",
    "MONTH_NAMES",
    "as_datetime",
    "format_date_nl",
    "iso",
    "machine_time",
    "local_day",
    "nl_date",
    "nl_datetime",
    "numeric_date",
    "numeric_datetime",
    "size_nl",
]

# The Dutch month names: dates are written with them, and the term grammar (apps.ladders.terms) parses them.
MONTH_NAMES: tuple[str, ...] = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def format_date_nl(d: date) -> str:
    """Dutch long date without the locale module: date(2026, 4, 6) -> "6 april 2026"."""
    return f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}"


def as_datetime(value: Any) -> datetime | None:
    """A timestamp as the database returned it (datetime on PostgreSQL, ISO text from raw SQL on SQLite)."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        moment = datetime.fromisoformat(str(value).replace(" ", "T"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_day(value: Any) -> date | None:
    """The Dutch calendar day of a timestamp (a date stays itself)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    moment = as_datetime(value)
    return moment.astimezone(AMSTERDAM).date() if moment else None


def nl_date(value: Any) -> str:
    """"6 april 2026" for a date or a timestamp (its Dutch day)."""
    day = local_day(value)
    return format_date_nl(day) if day else ""


def nl_datetime(value: Any) -> str:
    """"6 april 2026, 14:05" in Dutch time."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    local = moment.astimezone(AMSTERDAM)
    return f"{format_date_nl(local.date())}, {local:%H:%M}"


def numeric_date(value: Any) -> str:
    """"06-04-2026" (dd-mm-jjjj) for a date or a timestamp (its Dutch day): how Dutch Excel reads a date."""
    day = local_day(value)
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}" if day else ""


def numeric_datetime(value: Any) -> str:
    """"06-04-2026 14:05:09" in Dutch time."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    local = moment.astimezone(AMSTERDAM)
    return f"{numeric_date(local.date())} {local:%H:%M:%S}"


def iso(value: Any) -> str:
    moment = as_datetime(value)
    return moment.isoformat() if moment else ""


def machine_time(value: Any) -> str:
    """A moment for ``<time datetime>``: UTC to the second ("2026-04-06T12:05:09Z"); HTML allows at most three
    decimals of a second, and a reader's machine needs no more. A date stays a date ("2026-04-06")."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    moment = as_datetime(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def size_nl(size: int) -> str:
    """A file size as a Dutch reader writes it: "512 bytes", "1,5 kB", "2,0 MB"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB".replace(".", ",")
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


def aantal(count: int, singular: str, plural: str) -> str:
    """A count with its Dutch noun: aantal(1, "aanbieder", "aanbieders") -> "1 aanbieder", 2 -> "2 aanbieders"."""
    return f"{count} {singular if count == 1 else plural}"


def days_until_nl(day: date | None, today: date) -> str:
    """How far a due day is from today, in words: "vandaag", "morgen", "over 14 dagen", "1 dag geleden"."""
    if day is None:
        return ""
    delta = (day - today).days
    if delta == 0:
        return "vandaag"
    if delta == 1:
        return "morgen"
    return f"over {aantal(delta, 'dag', 'dagen')}" if delta > 0 else f"{aantal(-delta, 'dag', 'dagen')} geleden"


SOURCE_PREFIX = re.compile(r"^\s*seed\s+\d+\s*:\s*", re.I)


def first_upper(value: Any) -> str:
    """The text with a capital first letter and the rest as it is (Jinja's ``capitalize`` lowers the rest:
    "jeugdzorg de vlinder b.v.")."""
    text = str(value or "")
    return text[:1].upper() + text[1:]


def readable_key(value: Any) -> str:
    """A key from data (an outcome such as "niet_verlengd") as words: "niet verlengd"."""
    return str(value or "").replace("_", " ").strip()


def source_title(source: str) -> str:
    """The title of the document a ladder follows, without the internal reference: "seed 000: Bijlage 5.1 ..." ->
    "Bijlage 5.1 ..."."""
    return SOURCE_PREFIX.sub("", source or "").strip()


JINJA_FILTERS = {"nl_date": nl_date, "nl_datetime": nl_datetime, "iso": iso, "machine_time": machine_time,
                 "size_nl": size_nl, "aantal": aantal, "hoofdletter": first_upper, "leesbaar": readable_key,
                 "brontitel": source_title}  # fmt: skip
