"""Terms ("termijnen") as the Dutch source documents write them.

Escalation ladders say things like "binnen 2 weken", "10 werkdagen", "3 mnd", "24 uur",
"uiterlijk 1 april" or "tekortkomingen nog aanwezig in oktober". `parse_term` turns the term part
of such a phrase into a `Term`; `Term.describe()` writes it back in canonical Dutch, so that
`parse_term(t.describe()) == t` for every valid term.

Computing the actual due date lives in `apps.ladders.calendar.add_term`.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal, get_args

from core.formatting import MONTH_NAMES  # the Dutch month names, written and parsed alike

TermKind = Literal["hours", "days", "weeks", "months", "years", "working_days", "fixed_date", "month_start"]
TERM_KINDS: tuple[str, ...] = get_args(TermKind)
RELATIVE_KINDS = frozenset({"hours", "days", "weeks", "months", "years", "working_days"})

_MONTHS: dict[str, int] = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}
# Common abbreviations in Dutch documents ("1 okt", "mrt"); `describe` always writes the full name.
_MONTHS.update(
    {
        "jan": 1,
        "feb": 2,
        "mrt": 3,
        "apr": 4,
        "jun": 6,
        "jul": 7,
        "aug": 8,
        "sep": 9,
        "sept": 9,
        "okt": 10,
        "nov": 11,
        "dec": 12,
    }
)

_UNITS: dict[str, str] = {
    "uur": "hours",
    "uren": "hours",
    "dag": "days",
    "dagen": "days",
    "week": "weeks",
    "weken": "weeks",
    "wk": "weeks",
    "wkn": "weeks",
    "maand": "months",
    "maanden": "months",
    "mnd": "months",
    "jaar": "years",
    "jaren": "years",
    "werkdag": "working_days",
    "werkdagen": "working_days",
}

# (singular, plural) as written after a number: "1 jaar" / "2 jaar", "1 uur" / "24 uur".
_UNIT_WORDS: dict[str, tuple[str, str]] = {
    "hours": ("uur", "uur"),
    "days": ("dag", "dagen"),
    "weeks": ("week", "weken"),
    "months": ("maand", "maanden"),
    "years": ("jaar", "jaar"),
    "working_days": ("werkdag", "werkdagen"),
}

_NUMBER_WORDS: dict[str, int] = {
    "een": 1,
    "één": 1,
    "eén": 1,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
    "tien": 10,
    "elf": 11,
    "twaalf": 12,
}

_HINT = '(expected e.g. "2 weken", "10 werkdagen", "3 maanden", "24 uur", "1 april", "oktober")'

# [0-9], not \d: \d also matches other scripts' digits and "²", which int() rejects or misreads.
_RELATIVE_RE = re.compile(r"^(?P<amount>[0-9]+|[^\W\d_]+) (?P<unit>[^\W\d_]+)\.?$")
_FIXED_DATE_RE = re.compile(r"^(?P<day>[0-9]{1,2}) (?P<month>[^\W\d_]+)\.?(?: (?P<year>[0-9]{4}))?$")
_MONTH_RE = re.compile(r"^(?P<month>[^\W\d_]+)\.?$")


class TermError(ValueError):
    """A text that is not a term, or a Term with inconsistent fields. The message is English."""


@dataclass(frozen=True)
class Term:
    """A parsed term.

    Relative kinds (hours, days, weeks, months, years, working_days) use `amount` (>= 1).
    "fixed_date" uses `day` + `month` (+ optional `year`); "month_start" uses `month` only.
    `text` is the normalised source text; it is not part of equality, so "2 wkn" == "2 weken".
    """

    kind: TermKind
    amount: int | None = None
    month: int | None = None
    day: int | None = None
    year: int | None = None
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # Terms are also rebuilt from stored JSON; catch inconsistent combinations early.
        if self.kind not in TERM_KINDS:
            raise TermError(f"unknown term kind {self.kind!r}")
        if self.kind in RELATIVE_KINDS:
            if not isinstance(self.amount, int) or isinstance(self.amount, bool) or self.amount < 1:
                raise TermError(f"a {self.kind} term needs a whole amount of at least 1, got {self.amount!r}")
            if (self.month, self.day, self.year) != (None, None, None):
                raise TermError(f"a {self.kind} term has no month, day or year")
            return
        if self.amount is not None:
            raise TermError(f"a {self.kind} term has no amount")
        if not isinstance(self.month, int) or not 1 <= self.month <= 12:
            raise TermError(f"month must be 1-12, got {self.month!r}")
        if self.kind == "month_start":
            if self.day is not None or self.year is not None:
                raise TermError("a month_start term has no day or year")
            return
        if not isinstance(self.day, int) or self.day < 1:
            raise TermError(f"day must be a positive whole number, got {self.day!r}")
        if self.year is not None and (not isinstance(self.year, int) or not 1000 <= self.year <= 9999):
            # Four digits, as written in documents ("1 april 2021"); keeps describe() parseable.
            raise TermError(f"year must have four digits, got {self.year!r}")
        month_name = MONTH_NAMES[self.month - 1]
        if self.year is None:
            # Without a year a date only has to exist in some year: 29 februari is fine.
            if self.day > _stdlib_calendar.monthrange(2000, self.month)[1]:
                raise TermError(f"{month_name} has no day {self.day}")
        elif self.day > _stdlib_calendar.monthrange(self.year, self.month)[1]:
            raise TermError(f"{self.day} {month_name} {self.year} does not exist")

    def describe(self) -> str:
        """Canonical Dutch text: "2 weken", "10 werkdagen", "1 april", "1 april 2021", "oktober"."""
        if self.kind in RELATIVE_KINDS:
            assert self.amount is not None
            singular, plural = _UNIT_WORDS[self.kind]
            return f"{self.amount} {singular if self.amount == 1 else plural}"
        assert self.month is not None
        month_name = MONTH_NAMES[self.month - 1]
        if self.kind == "month_start":
            return month_name
        if self.year is None:
            return f"{self.day} {month_name}"
        return f"{self.day} {month_name} {self.year}"


def _normalise(text: str) -> str:
    # NFC so that a decomposed "één" matches; split() also drops non-breaking spaces and tabs.
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def parse_term(text: str) -> Term:
    """Parse a Dutch term such as "2 weken", "twee weken", "10 werkdagen", "1 april 2021" or "oktober".

    Raises TermError (a ValueError) with an English message quoting the input.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_term expects a str, got {type(text).__name__}")
    normalised = _normalise(text)

    def fail(detail: str | None = None) -> TermError:
        if detail:
            return TermError(f"'{text}' is not a term: {detail}")
        return TermError(f"'{text}' is not a term {_HINT}")

    if match := _RELATIVE_RE.match(normalised):
        unit = match["unit"]
        kind = _UNITS.get(unit)
        if kind is not None:
            raw_amount = match["amount"]
            is_number = raw_amount.isascii() and raw_amount.isdigit()
            if is_number and len(raw_amount) > 9:
                # Also keeps int() clear of Python's limit on very long digit strings.
                raise fail("the amount is too large")
            amount = int(raw_amount) if is_number else _NUMBER_WORDS.get(raw_amount)
            if amount is None:
                raise fail()
            if amount < 1:
                raise fail("the amount must be at least 1")
            return Term(kind=kind, amount=amount, text=normalised)  # type: ignore[arg-type]

    if (match := _FIXED_DATE_RE.match(normalised)) and match["month"] in _MONTHS:
        day = int(match["day"])
        month = _MONTHS[match["month"]]
        year = int(match["year"]) if match["year"] else None
        try:
            return Term(kind="fixed_date", day=day, month=month, year=year, text=normalised)
        except TermError as error:
            raise fail(str(error)) from None

    if (match := _MONTH_RE.match(normalised)) and match["month"] in _MONTHS:
        return Term(kind="month_start", month=_MONTHS[match["month"]], text=normalised)

    raise fail()
