import calendar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ladders.terms import MONTH_NAMES, Term, TermError, parse_term


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 weken", Term("weeks", amount=2)),
        ("1 week", Term("weeks", amount=1)),
        ("2 wkn", Term("weeks", amount=2)),
        ("2 wk", Term("weeks", amount=2)),
        ("2 wk.", Term("weeks", amount=2)),
        ("10 werkdagen", Term("working_days", amount=10)),
        ("1 werkdag", Term("working_days", amount=1)),
        ("3 maanden", Term("months", amount=3)),
        ("1 maand", Term("months", amount=1)),
        ("3 mnd", Term("months", amount=3)),
        ("13 maanden", Term("months", amount=13)),
        ("24 uur", Term("hours", amount=24)),
        ("1 jaar", Term("years", amount=1)),
        ("2 jaar", Term("years", amount=2)),
        ("5 dagen", Term("days", amount=5)),
        ("1 dag", Term("days", amount=1)),
        ("een week", Term("weeks", amount=1)),
        ("één maand", Term("months", amount=1)),
        ("e\u0301e\u0301n dag", Term("days", amount=1)),  # decomposed accents
        ("twee weken", Term("weeks", amount=2)),
        ("drie maanden", Term("months", amount=3)),
        ("vier dagen", Term("days", amount=4)),
        ("vijf werkdagen", Term("working_days", amount=5)),
        ("zes weken", Term("weeks", amount=6)),
        ("zeven dagen", Term("days", amount=7)),
        ("acht weken", Term("weeks", amount=8)),
        ("negen maanden", Term("months", amount=9)),
        ("tien werkdagen", Term("working_days", amount=10)),
        ("elf dagen", Term("days", amount=11)),
        ("twaalf maanden", Term("months", amount=12)),
        ("1 april", Term("fixed_date", month=4, day=1)),
        ("1 april 2021", Term("fixed_date", month=4, day=1, year=2021)),
        ("31 december", Term("fixed_date", month=12, day=31)),
        ("29 februari", Term("fixed_date", month=2, day=29)),
        ("29 februari 2028", Term("fixed_date", month=2, day=29, year=2028)),
        ("1 okt", Term("fixed_date", month=10, day=1)),
        ("oktober", Term("month_start", month=10)),
        ("mei", Term("month_start", month=5)),
        # case-insensitive, extra whitespace tolerated
        ("  2   WEKEN ", Term("weeks", amount=2)),
        ("Twee\tWeken", Term("weeks", amount=2)),
        ("1\u00a0April", Term("fixed_date", month=4, day=1)),
        ("Oktober", Term("month_start", month=10)),
    ],
)
def test_parse_accepts(text: str, expected: Term) -> None:
    assert parse_term(text) == expected


def test_text_is_normalised_and_not_part_of_equality() -> None:
    term = parse_term("  2   WKN ")
    assert term.text == "2 wkn"
    assert term == parse_term("2 weken")
    assert hash(term) == hash(parse_term("2 weken"))


@pytest.mark.parametrize(
    "text",
    [
        "2 wekn",
        "",
        "   ",
        "0 weken",
        "00 dagen",
        "-1 dag",
        "30 februari",
        "31 april",
        "29 februari 2027",
        "weken",
        "twee",
        "2",
        "2 weken extra",
        "1,5 week",
        "dertien weken",
        "32 januari",
        "1 april 21",
        "0 april",
        "binnen twee weken",
        "asdf",
        "\u00b2 weken",
        "\u0663 weken",
        "1 april \u0662\u0660\u0662\u0661",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(TermError) as info:
        parse_term(text)
    assert str(info.value).startswith(f"'{text}' is not a term")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2 wekn",
            """'2 wekn' is not a term (expected e.g. "2 weken", "10 werkdagen", "3 maanden", """
            '"24 uur", "1 april", "oktober")',
        ),
        ("0 weken", "'0 weken' is not a term: the amount must be at least 1"),
        ("1234567890 dagen", "'1234567890 dagen' is not a term: the amount is too large"),
        ("1 april 0999", "'1 april 0999' is not a term: year must have four digits, got 999"),
        ("30 februari", "'30 februari' is not a term: februari has no day 30"),
        ("31 april", "'31 april' is not a term: april has no day 31"),
        ("29 februari 2027", "'29 februari 2027' is not a term: 29 februari 2027 does not exist"),
    ],
)
def test_error_messages(text: str, message: str) -> None:
    with pytest.raises(TermError) as info:
        parse_term(text)
    assert str(info.value) == message


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_term(2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("term", "text"),
    [
        (Term("weeks", amount=2), "2 weken"),
        (Term("weeks", amount=1), "1 week"),
        (Term("working_days", amount=10), "10 werkdagen"),
        (Term("working_days", amount=1), "1 werkdag"),
        (Term("months", amount=3), "3 maanden"),
        (Term("months", amount=1), "1 maand"),
        (Term("hours", amount=24), "24 uur"),
        (Term("hours", amount=1), "1 uur"),
        (Term("years", amount=2), "2 jaar"),
        (Term("days", amount=1), "1 dag"),
        (Term("days", amount=5), "5 dagen"),
        (Term("fixed_date", month=4, day=1), "1 april"),
        (Term("fixed_date", month=4, day=1, year=2021), "1 april 2021"),
        (Term("month_start", month=10), "oktober"),
    ],
)
def test_describe(term: Term, text: str) -> None:
    assert term.describe() == text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "weeks"},
        {"kind": "weeks", "amount": 0},
        {"kind": "weeks", "amount": True},
        {"kind": "weeks", "amount": 2, "month": 1},
        {"kind": "fortnights", "amount": 2},
        {"kind": "month_start"},
        {"kind": "month_start", "month": 13},
        {"kind": "month_start", "month": 10, "day": 1},
        {"kind": "fixed_date", "month": 4},
        {"kind": "fixed_date", "month": 4, "day": 31},
        {"kind": "fixed_date", "month": 4, "day": 1, "amount": 1},
        {"kind": "fixed_date", "month": 4, "day": 1, "year": 21},
    ],
)
def test_inconsistent_terms_are_rejected(kwargs: dict) -> None:
    with pytest.raises(TermError):
        Term(**kwargs)


# --- properties ---------------------------------------------------------------------------------

relative_terms = st.builds(
    Term,
    kind=st.sampled_from(["hours", "days", "weeks", "months", "years", "working_days"]),
    amount=st.integers(min_value=1, max_value=100_000),
)


@st.composite
def fixed_dates(draw: st.DrawFn) -> Term:
    month = draw(st.integers(1, 12))
    year = draw(st.none() | st.integers(1000, 9999))
    last_day = calendar.monthrange(2000 if year is None else year, month)[1]
    return Term("fixed_date", month=month, day=draw(st.integers(1, last_day)), year=year)


terms = relative_terms | fixed_dates() | st.builds(Term, kind=st.just("month_start"), month=st.integers(1, 12))


@settings(max_examples=200, deadline=None)
@given(terms)
def test_describe_round_trips(term: Term) -> None:
    parsed = parse_term(term.describe())
    assert parsed == term
    assert parsed.describe() == term.describe()
    assert parsed.text == term.describe()


@settings(max_examples=200, deadline=None)
@given(terms, st.data())
def test_case_and_whitespace_do_not_matter(term: Term, data: st.DataObject) -> None:
    words = term.describe().split(" ")
    cased = [data.draw(st.sampled_from([w.upper(), w.lower(), w.title()])) for w in words]
    gaps = [data.draw(st.sampled_from([" ", "  ", "\t", " \u00a0"])) for _ in words[1:]]
    text = " " + cased[0] + "".join(gap + word for gap, word in zip(gaps, cased[1:], strict=True)) + "  "
    assert parse_term(text) == term


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_parse_only_raises_term_error(text: str) -> None:
    try:
        term = parse_term(text)
    except TermError as error:
        assert str(error).startswith(f"'{text}' is not a term")
    else:
        assert parse_term(term.describe()) == term


def test_month_names_are_dutch() -> None:
    assert MONTH_NAMES[0] == "januari" and MONTH_NAMES[9] == "oktober" and len(MONTH_NAMES) == 12
