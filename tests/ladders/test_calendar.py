"""Expected dates below were worked out by hand against printed month calendars
(python -m calendar), not by calling the code under test."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ladders.calendar import (
    AMSTERDAM,
    ART2_REASON,
    DECREED_DAYS_FILE,
    DueDate,
    DutchCalendar,
    add_term,
    format_date_nl,
    load_decreed_days,
)
from apps.ladders.terms import Term, parse_term

DECREED = "met feestdag gelijkgestelde dag"
CAL = DutchCalendar()  # Atw holidays + the published decrees (atw_decreed_days.toml)
PLAIN = DutchCalendar(decreed_days={})  # Atw art. 3 lid 1 and 2 only

# --- which days are closed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        # Easter 2026 is Sunday 5 April.
        (date(2026, 4, 2), None),  # Thursday before Easter
        (date(2026, 4, 3), "Goede Vrijdag"),  # Atw art. 3 lid 2 equates it with a holiday
        (date(2026, 4, 4), "zaterdag"),
        (date(2026, 4, 5), "zondag"),  # Eerste Paasdag: a Sunday anyway
        (date(2026, 4, 6), "Tweede Paasdag"),
        (date(2026, 4, 7), None),
        (date(2026, 5, 14), "Hemelvaartsdag"),
        (date(2026, 5, 15), DECREED),  # Friday after Ascension, by decree (Stcrt. 2025, 24713)
        (date(2026, 5, 24), "zondag"),  # Eerste Pinksterdag
        (date(2026, 5, 25), "Tweede Pinksterdag"),
        (date(2026, 5, 26), None),
        # King's Day: 27 April 2025 is a Sunday, so it is Saturday 26 April; 2026 is Monday 27 April.
        (date(2025, 4, 26), "Koningsdag"),
        (date(2025, 4, 27), "zondag"),
        (date(2025, 4, 28), None),
        (date(2026, 4, 26), "zondag"),
        (date(2026, 4, 27), "Koningsdag"),
        # 5 May is a holiday every year, not only in lustrum years.
        (date(2026, 5, 4), None),
        (date(2026, 5, 5), "Bevrijdingsdag"),  # Tuesday
        (date(2027, 5, 5), "Bevrijdingsdag"),  # Wednesday
        (date(2026, 1, 1), "Nieuwjaarsdag"),
        (date(2026, 1, 2), DECREED),
        (date(2026, 12, 24), None),
        (date(2026, 12, 25), "Eerste Kerstdag"),
        (date(2026, 12, 26), "Tweede Kerstdag"),  # a Saturday: the holiday name wins
        (date(2026, 12, 31), None),
        (date(2027, 1, 1), "Nieuwjaarsdag"),
        (date(2027, 1, 2), "zaterdag"),
        # Easter 2025 is 20 April.
        (date(2025, 4, 18), "Goede Vrijdag"),
        (date(2025, 4, 21), "Tweede Paasdag"),
        (date(2025, 5, 29), "Hemelvaartsdag"),
        (date(2025, 5, 30), DECREED),
        (date(2025, 6, 9), "Tweede Pinksterdag"),
        (date(2026, 3, 2), None),
        (date(2026, 11, 11), None),
    ],
)
def test_closed_reason(day: date, reason: str | None) -> None:
    assert CAL.closed_reason(day) == reason
    assert CAL.is_working_day(day) == (reason is None)


def test_holidays_2026() -> None:
    atw = {
        date(2026, 1, 1): "Nieuwjaarsdag",
        date(2026, 4, 3): "Goede Vrijdag",
        date(2026, 4, 6): "Tweede Paasdag",
        date(2026, 4, 27): "Koningsdag",
        date(2026, 5, 5): "Bevrijdingsdag",
        date(2026, 5, 14): "Hemelvaartsdag",
        date(2026, 5, 25): "Tweede Pinksterdag",
        date(2026, 12, 25): "Eerste Kerstdag",
        date(2026, 12, 26): "Tweede Kerstdag",
    }
    assert PLAIN.holidays(2026) == atw
    assert CAL.holidays(2026) == {**atw, date(2026, 1, 2): DECREED, date(2026, 5, 15): DECREED}
    assert list(CAL.holidays(2026)) == sorted(CAL.holidays(2026))


def test_holidays_2025_king_on_saturday() -> None:
    assert PLAIN.holidays(2025)[date(2025, 4, 26)] == "Koningsdag"
    assert date(2025, 4, 27) not in PLAIN.holidays(2025)


def test_extra_closed_days_are_skipped_and_named() -> None:
    region = DutchCalendar(extra_closed_days={date(2026, 3, 16): "regionale sluitingsdag"})
    assert region.closed_reason(date(2026, 3, 16)) == "regionale sluitingsdag"
    assert region.holidays(2026)[date(2026, 3, 16)] == "regionale sluitingsdag"
    assert date(2026, 3, 16) not in region.holidays(2027)
    assert add_term(date(2026, 3, 2), parse_term("2 weken"), region) == due(
        date(2026, 3, 17), "verschoven: regionale sluitingsdag (16 maart 2026)"
    )
    assert region.add_working_days(date(2026, 3, 2), 10) == date(2026, 3, 17)
    # Without the extra day: Monday 16 March.
    assert CAL.add_working_days(date(2026, 3, 2), 10) == date(2026, 3, 16)


def test_atw_name_wins_over_an_extra_label() -> None:
    region = DutchCalendar(extra_closed_days={date(2026, 4, 27): "sluiting"}, decreed_days={})
    assert region.closed_reason(date(2026, 4, 27)) == "Koningsdag"
    assert region.holidays(2026)[date(2026, 4, 27)] == "Koningsdag"


# --- working days -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 3, 2), 10, date(2026, 3, 16)),  # seed example
        (date(2026, 3, 2), 1, date(2026, 3, 3)),
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday -> Monday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # from a Saturday
        (date(2026, 12, 18), 10, date(2027, 1, 5)),  # across Christmas and New Year
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # Goede Vrijdag .. Tweede Paasdag
        (date(2026, 5, 13), 1, date(2026, 5, 18)),  # Hemelvaartsdag + decreed Friday
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(start, n) == expected


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 3, 2), date(2026, 3, 16)) == 10
    assert CAL.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert CAL.working_days_between(date(2026, 3, 16), date(2026, 3, 2)) == 0
    # (2 April, 8 April] around Easter 2026: only Tuesday 7 and Wednesday 8 April.
    assert CAL.working_days_between(date(2026, 4, 2), date(2026, 4, 8)) == 2


@pytest.mark.parametrize("n", [0, -1, True, 1.0])
def test_add_working_days_needs_positive_int(n: object) -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 3, 2), n)  # type: ignore[arg-type]


def test_datetimes_are_not_dates() -> None:
    # datetime(...) != date(...), so a datetime would silently miss every holiday.
    with pytest.raises(TypeError):
        CAL.closed_reason(datetime(2026, 4, 6, tzinfo=UTC))
    with pytest.raises(TypeError):
        DutchCalendar(extra_closed_days={datetime(2026, 4, 6): "x"})  # type: ignore[dict-item]


# --- due dates ----------------------------------------------------------------------------------


def end_of_day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 23, 59, 59, 999999, tzinfo=AMSTERDAM).astimezone(UTC)


def due(d: date, *reasons: str) -> DueDate:
    return DueDate(due_date=d, due_at=end_of_day(d), reasons=reasons)


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (date(2026, 3, 2), "10 werkdagen", due(date(2026, 3, 16))),
        (date(2026, 12, 18), "10 werkdagen", due(date(2027, 1, 5))),
        (date(2026, 3, 2), "2 weken", due(date(2026, 3, 16))),
        (date(2026, 3, 2), "1 dag", due(date(2026, 3, 3))),
        # Ends on Saturday 7 March -> Monday 9 March.
        (
            date(2026, 3, 2),
            "5 dagen",
            due(date(2026, 3, 9), "verschoven: zaterdag (7 maart 2026)", "verschoven: zondag (8 maart 2026)"),
        ),
        # 31 Jan 2027 + 1 month = Sunday 28 Feb 2027 -> Monday 1 March 2027.
        (date(2027, 1, 31), "1 maand", due(date(2027, 3, 1), "verschoven: zondag (28 februari 2027)")),
        # Leap year: 31 Jan 2028 + 1 month = Tuesday 29 Feb 2028.
        (date(2028, 1, 31), "1 maand", due(date(2028, 2, 29))),
        # Saturday 4 April 2026 -> over Easter -> Tuesday 7 April.
        (
            date(2026, 1, 4),
            "3 maanden",
            due(
                date(2026, 4, 7),
                "verschoven: zaterdag (4 april 2026)",
                "verschoven: zondag (5 april 2026)",
                "verschoven: Tweede Paasdag (6 april 2026)",
            ),
        ),
        # Ends on Goede Vrijdag 3 April 2026.
        (
            date(2026, 3, 27),
            "1 week",
            due(
                date(2026, 4, 7),
                "verschoven: Goede Vrijdag (3 april 2026)",
                "verschoven: zaterdag (4 april 2026)",
                "verschoven: zondag (5 april 2026)",
                "verschoven: Tweede Paasdag (6 april 2026)",
            ),
        ),
        # Art. 2: (2 April, 7 April] holds one working day, so the term runs to Wednesday 8 April.
        (
            date(2026, 4, 2),
            "3 dagen",
            due(
                date(2026, 4, 8),
                "verschoven: zondag (5 april 2026)",
                "verschoven: Tweede Paasdag (6 april 2026)",
                ART2_REASON,
            ),
        ),
        # Art. 2 alone: Monday 4 Jan 2027 is a working day but the only one in (31 Dec, 4 Jan].
        (date(2026, 12, 31), "4 dagen", due(date(2027, 1, 5), ART2_REASON)),
        # Hemelvaartsdag and the decreed Friday after it.
        (
            date(2026, 5, 7),
            "1 week",
            due(
                date(2026, 5, 18),
                "verschoven: Hemelvaartsdag (14 mei 2026)",
                f"verschoven: {DECREED} (15 mei 2026)",
                "verschoven: zaterdag (16 mei 2026)",
                "verschoven: zondag (17 mei 2026)",
            ),
        ),
        # Koningsdag 2025 on Saturday 26 April.
        (
            date(2025, 4, 19),
            "1 week",
            due(
                date(2025, 4, 28),
                "verschoven: Koningsdag (26 april 2025)",
                "verschoven: zondag (27 april 2025)",
            ),
        ),
        # Tuesday 5 May 2026.
        (date(2026, 4, 28), "1 week", due(date(2026, 5, 6), "verschoven: Bevrijdingsdag (5 mei 2026)")),
        (
            date(2026, 12, 11),
            "2 weken",
            due(
                date(2026, 12, 28),
                "verschoven: Eerste Kerstdag (25 december 2026)",
                "verschoven: Tweede Kerstdag (26 december 2026)",
                "verschoven: zondag (27 december 2026)",
            ),
        ),
        # Month start: the next 1 October on or after the start -> Friday 1 October 2027.
        (date(2026, 11, 24), "oktober", due(date(2027, 10, 1))),
        (date(2026, 10, 1), "oktober", due(date(2026, 10, 1))),  # on the day itself
        # Entered within October: this October's check, due now (Saturday 3 October -> Monday 5 October).
        (
            date(2026, 10, 3),
            "oktober",
            due(date(2026, 10, 5), "verschoven: zaterdag (3 oktober 2026)", "verschoven: zondag (4 oktober 2026)"),
        ),
        (date(2026, 10, 30), "oktober", due(date(2026, 10, 30))),
        (date(2026, 9, 30), "oktober", due(date(2026, 10, 1))),
        # Fixed dates.
        (date(2026, 3, 2), "1 april", due(date(2026, 4, 1))),
        (date(2026, 4, 2), "1 april", due(date(2027, 4, 1))),  # Thursday 1 April 2027
        (
            date(2028, 1, 10),
            "1 april",
            due(date(2028, 4, 3), "verschoven: zaterdag (1 april 2028)", "verschoven: zondag (2 april 2028)"),
        ),
        (date(2026, 3, 2), "1 april 2021", due(date(2021, 4, 1))),  # Thursday; already past
        (date(2026, 3, 2), "29 februari", due(date(2028, 2, 29))),
        # Atw art. 4: 90 days is still moved; longer terms (all ending Saturday 4 July 2026) are not.
        (
            date(2026, 4, 5),
            "90 dagen",
            due(date(2026, 7, 6), "verschoven: zaterdag (4 juli 2026)", "verschoven: zondag (5 juli 2026)"),
        ),
        (date(2026, 4, 4), "91 dagen", due(date(2026, 7, 4))),
        (date(2026, 4, 4), "13 weken", due(date(2026, 7, 4))),
        (date(2026, 1, 4), "6 maanden", due(date(2026, 7, 4))),
        (date(2025, 7, 4), "1 jaar", due(date(2026, 7, 4))),
    ],
)
def test_add_term(start: date, text: str, expected: DueDate) -> None:
    assert add_term(start, parse_term(text), CAL) == expected


WEEKEND_4_JULY = ("verschoven: zaterdag (4 juli 2026)", "verschoven: zondag (5 juli 2026)")


@pytest.mark.parametrize(
    ("start", "text"),
    [
        (date(2026, 4, 5), "90 dagen"),
        (date(2026, 4, 11), "12 weken"),
        (date(2026, 4, 4), "91 dagen"),
        (date(2026, 4, 4), "13 weken"),
        (date(2026, 1, 4), "6 maanden"),
        (date(2025, 7, 4), "1 jaar"),
    ],
)
def test_art4_can_be_switched_off(start: date, text: str) -> None:
    # Every one of these ends on Saturday 4 July 2026; without art. 4 all move to Monday 6 July.
    assert add_term(start, parse_term(text), CAL, apply_art4=False) == due(date(2026, 7, 6), *WEEKEND_4_JULY)


def test_art4_limits_are_inclusive() -> None:
    assert add_term(date(2026, 4, 5), parse_term("90 dagen"), CAL).reasons == WEEKEND_4_JULY
    assert add_term(date(2026, 4, 11), parse_term("12 weken"), CAL).reasons == WEEKEND_4_JULY
    assert add_term(date(2026, 4, 4), parse_term("91 dagen"), CAL).reasons == ()


def test_decreed_days_can_be_left_out() -> None:
    result = add_term(date(2026, 5, 7), parse_term("1 week"), PLAIN)
    assert result == due(date(2026, 5, 15), "verschoven: Hemelvaartsdag (14 mei 2026)")


def test_due_at_is_end_of_local_day_in_utc() -> None:
    winter = add_term(date(2026, 3, 2), parse_term("2 weken"), CAL)
    assert winter.due_at == datetime(2026, 3, 16, 22, 59, 59, 999999, tzinfo=UTC)  # CET, UTC+1
    summer = add_term(date(2026, 3, 27), parse_term("1 week"), CAL)
    assert summer.due_at == datetime(2026, 4, 7, 21, 59, 59, 999999, tzinfo=UTC)  # CEST, UTC+2
    assert summer.due_at.tzinfo == UTC


def test_hours_are_exact_and_never_moved() -> None:
    # Friday 6 March 2026 15:00 -> Saturday 7 March 15:00, not moved to Monday.
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=AMSTERDAM)
    assert add_term(friday, parse_term("24 uur"), CAL) == DueDate(
        due_date=date(2026, 3, 7), due_at=datetime(2026, 3, 7, 14, 0, tzinfo=UTC), reasons=()
    )
    # Clocks go forward on Sunday 29 March 2026: 24 hours after Saturday 12:00 CET is Sunday 13:00 CEST.
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=AMSTERDAM)
    result = add_term(saturday, parse_term("24 uur"), CAL)
    assert result.due_at == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert result.due_at.astimezone(AMSTERDAM).hour == 13
    assert result.due_date == date(2026, 3, 29)
    # A date start means local midnight.
    midnight = add_term(date(2026, 3, 6), parse_term("24 uur"), CAL)
    assert midnight.due_at == datetime(2026, 3, 6, 23, 0, tzinfo=UTC)
    assert midnight.due_date == date(2026, 3, 7)


def test_aware_datetime_uses_the_local_date() -> None:
    # 23:30 UTC on 1 March is 00:30 on Monday 2 March in Amsterdam.
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert add_term(late, parse_term("2 weken"), CAL).due_date == date(2026, 3, 16)
    assert add_term(late, parse_term("10 werkdagen"), CAL).due_date == date(2026, 3, 16)


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_term(datetime(2026, 3, 2, 9, 0), parse_term("2 weken"), CAL)


def test_out_of_range() -> None:
    with pytest.raises(ValueError):
        add_term(date(9999, 12, 1), parse_term("2 maanden"), CAL)
    with pytest.raises(ValueError):
        add_term(date(9999, 12, 30), parse_term("5 dagen"), CAL)


def test_format_date_nl() -> None:
    assert format_date_nl(date(2026, 4, 6)) == "6 april 2026"
    assert format_date_nl(date(2027, 2, 28)) == "28 februari 2027"
    assert format_date_nl(date(2026, 10, 1)) == "1 oktober 2026"


# --- decreed days file --------------------------------------------------------------------------


def test_decreed_days_file() -> None:
    days = load_decreed_days()
    assert days == {
        d: DECREED
        for d in [
            date(2023, 4, 28),
            date(2023, 5, 19),
            date(2024, 5, 10),
            date(2024, 12, 27),
            date(2025, 5, 30),
            date(2026, 1, 2),
            date(2026, 5, 15),
            date(2027, 5, 7),
            date(2028, 4, 28),
            date(2028, 5, 26),
        ]
    }
    # Each is a Friday after a Thursday holiday; a decreed weekend day would be a typo.
    for day in days:
        assert day.weekday() == 4
        assert PLAIN.closed_reason(day - timedelta(days=1)) is not None
    assert DECREED_DAYS_FILE.name == "atw_decreed_days.toml"


def test_decreed_days_file_is_validated(tmp_path: Path) -> None:
    twice = tmp_path / "twice.toml"
    twice.write_text('[[days]]\ndate = 2026-01-02\nlabel = "x"\n[[days]]\ndate = 2026-01-02\nlabel = "y"\n')
    with pytest.raises(ValueError, match="twice"):
        load_decreed_days(twice)
    unlabelled = tmp_path / "unlabelled.toml"
    unlabelled.write_text("[[days]]\ndate = 2026-01-02\n")
    with pytest.raises(ValueError, match="label"):
        load_decreed_days(unlabelled)
    stamp = tmp_path / "stamp.toml"
    stamp.write_text('[[days]]\ndate = 2026-01-02T10:00:00\nlabel = "x"\n')
    with pytest.raises(ValueError, match="local date"):
        load_decreed_days(stamp)
    empty = tmp_path / "empty.toml"
    empty.write_text("days = []\n")
    assert load_decreed_days(empty) == {}


# --- properties ---------------------------------------------------------------------------------

dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31))
regions = st.dictionaries(dates, st.just("regionale sluitingsdag"), max_size=20).map(
    lambda days: DutchCalendar(extra_closed_days=days)
)


def raw_end(start: date, term: Term) -> date:
    """Independent oracle for the un-shifted end of a relative calendar term."""
    assert term.amount is not None
    return {
        "days": lambda: start + timedelta(days=term.amount),
        "weeks": lambda: start + timedelta(days=7 * term.amount),
        "months": lambda: start + relativedelta(months=term.amount),
        "years": lambda: start + relativedelta(years=term.amount),
    }[term.kind]()


in_atw_scope = st.one_of(
    st.builds(Term, kind=st.just("days"), amount=st.integers(1, 90)),
    st.builds(Term, kind=st.just("weeks"), amount=st.integers(1, 12)),
    st.builds(Term, kind=st.just("months"), amount=st.integers(1, 3)),
)
any_calendar_term = st.one_of(
    st.builds(Term, kind=st.just("days"), amount=st.integers(1, 2000)),
    st.builds(Term, kind=st.just("weeks"), amount=st.integers(1, 300)),
    st.builds(Term, kind=st.just("months"), amount=st.integers(1, 600)),
    st.builds(Term, kind=st.just("years"), amount=st.integers(1, 50)),
)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(1, 300), regions)
def test_add_working_days_lands_on_a_working_day(start: date, n: int, calendar: DutchCalendar) -> None:
    result = calendar.add_working_days(start, n)
    assert result > start
    assert calendar.is_working_day(result)
    assert calendar.working_days_between(start, result) == n
    assert calendar.working_days_between(start, result - timedelta(days=1)) == n - 1


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(0, 200), st.integers(0, 200))
def test_working_days_between_adds_up(start: date, gap1: int, gap2: int) -> None:
    middle = start + timedelta(days=gap1)
    end = middle + timedelta(days=gap2)
    assert CAL.working_days_between(start, end) == (
        CAL.working_days_between(start, middle) + CAL.working_days_between(middle, end)
    )


def check_moved_term(start: date, term: Term, result: DueDate, calendar: DutchCalendar) -> None:
    raw = raw_end(start, term)
    assert result.due_date >= raw
    assert calendar.is_working_day(result.due_date)
    assert result.due_date - raw <= timedelta(days=10)
    assert (result.due_date == raw) == (result.reasons == ())
    if term.kind != "days" or term.amount >= 3:  # type: ignore[operator]
        # Atw art. 2 (capped: beyond 60 days there are always two working days, even with 20 extra).
        capped_end = min(result.due_date, start + timedelta(days=60))
        assert calendar.working_days_between(start, capped_end) >= 2
    assert result.due_at == end_of_day(result.due_date)


@settings(max_examples=200, deadline=None)
@given(dates, in_atw_scope)
def test_term_in_atw_scope_ends_on_a_working_day(start: date, term: Term) -> None:
    check_moved_term(start, term, add_term(start, term, CAL), CAL)


@settings(max_examples=200, deadline=None)
@given(dates, any_calendar_term, regions)
def test_any_term_without_art4_ends_on_a_working_day(start: date, term: Term, calendar: DutchCalendar) -> None:
    check_moved_term(start, term, add_term(start, term, calendar, apply_art4=False), calendar)


@settings(max_examples=200, deadline=None)
@given(dates, any_calendar_term)
def test_art4_terms_are_not_moved(start: date, term: Term) -> None:
    assert term.amount is not None
    limit = {"days": 90, "weeks": 12, "months": 3, "years": 0}[term.kind]
    result = add_term(start, term, CAL)
    if term.amount > limit:
        assert result == due(raw_end(start, term))
    else:
        check_moved_term(start, term, result, CAL)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(1, 12), st.integers(1, 31))
def test_fixed_date_and_month_start(start: date, month: int, day: int) -> None:
    first = add_term(start, Term("month_start", month=month), CAL)
    assert first.due_date >= start
    assert CAL.is_working_day(first.due_date)
    raw_first = first.due_date - timedelta(days=len(first.reasons))
    if start.month == month:  # within the month itself: due now, this year
        assert raw_first == start
    else:
        assert (raw_first.month, raw_first.day) == (month, 1)
        assert raw_first - start < timedelta(days=366)
    try:
        fixed = Term("fixed_date", month=month, day=day)
    except ValueError:
        return
    result = add_term(start, fixed, CAL)
    raw = result.due_date - timedelta(days=len(result.reasons))
    assert (raw.month, raw.day) == (month, day)
    assert start <= raw
    assert CAL.is_working_day(result.due_date)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(1, 1200))
def test_months_never_raise(start: date, months: int) -> None:
    result = add_term(start, Term("months", amount=months), CAL)
    assert result.due_date >= start + relativedelta(months=months)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1950, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(AMSTERDAM),
        allow_imaginary=False,
    ),
    st.integers(1, 10_000),
)
def test_hours_are_elapsed_time(start: datetime, hours: int) -> None:
    result = add_term(start, Term("hours", amount=hours), CAL)
    assert result.due_at - start == timedelta(hours=hours)
    assert result.due_at.utcoffset() == timedelta(0)
    assert result.due_date == result.due_at.astimezone(AMSTERDAM).date()
    assert result.reasons == ()
