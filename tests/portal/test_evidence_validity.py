"""Validity of evidence counts from the date on it (hand-checked dates), never from the upload; BIG numbers stay
strings with their leading zeros."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from apps.evidence import services as evidence
from core.clock import FrozenClock


@pytest.mark.parametrize(
    ("kind", "issued", "today", "status", "text"),
    [
        # VOG: not older than 3 years. Issued 1 Dec 2023: valid through 1 Dec 2026.
        ("vog_medewerker", date(2023, 12, 1), date(2026, 11, 24), "verloopt_binnenkort",
         "Verloopt binnen 7 dagen (1 december 2026)"),
        ("vog_medewerker", date(2023, 12, 1), date(2026, 12, 1), "verloopt_binnenkort",
         "Vandaag voor het laatst geldig (1 december 2026)"),
        ("vog_vrijwilliger", date(2023, 12, 1), date(2026, 12, 2), "verlopen", "Verlopen sinds 2 december 2026"),
        ("vog_medewerker", date(2025, 3, 15), date(2026, 11, 24), "geldig", "Geldig tot en met 15 maart 2028"),
        # A leap day: three years later there is no 29 February; the last valid day is 28 February.
        ("vog_medewerker", date(2024, 2, 29), date(2027, 2, 28), "verloopt_binnenkort",
         "Vandaag voor het laatst geldig (28 februari 2027)"),
        ("vog_medewerker", date(2024, 2, 29), date(2027, 3, 1), "verlopen", "Verlopen sinds 1 maart 2027"),
        # 60 days is the warning window: 26 Jan 2027 is 61 days before 28 March 2027... still plainly valid.
        ("vog_medewerker", date(2024, 3, 28), date(2027, 1, 26), "geldig", "Geldig tot en met 28 maart 2027"),
        ("vog_medewerker", date(2024, 3, 28), date(2027, 1, 27), "verloopt_binnenkort",
         "Verloopt binnen 60 dagen (28 maart 2027)"),
        # SKJ / BIG: re-registration 5 years after the registration date.
        ("skj", date(2021, 11, 30), date(2026, 11, 24), "verloopt_binnenkort",
         "Verloopt binnen 6 dagen (30 november 2026)"),
        ("big", date(2020, 6, 1), date(2026, 11, 24), "verlopen", "Verlopen sinds 2 juni 2025"),
        ("big", date(2024, 6, 1), date(2026, 11, 24), "geldig", "Geldig tot en met 1 juni 2029"),
    ],
)  # fmt: skip
def test_validity_from_the_issue_date(kind, issued, today, status, text):
    state = evidence.validity(kind, issued, today)
    assert (state.status, state.text) == (status, text)


def test_the_upload_date_does_not_matter():
    """Registered today or a year ago: the same VOG expires on the same day."""
    clock = FrozenClock(datetime(2026, 11, 24, 10, tzinfo=UTC))
    data = evidence.check_input({"soort": "vog_medewerker", "persoon": "P. de Vries", "datum": "2023-12-01"},
                                clock.today())  # fmt: skip
    assert evidence.valid_until(data.kind, data.issued_on) == date(2026, 12, 1)
    later = evidence.check_input({"soort": "vog_medewerker", "persoon": "P. de Vries", "datum": "1-12-2023"},
                                 date(2026, 11, 30))  # fmt: skip
    assert later.issued_on == data.issued_on


def test_big_numbers_are_eleven_character_strings_with_leading_zeros():
    data = evidence.check_input(
        {"soort": "big", "persoon": "Dr. A. Arts", "nummer": "09012345601", "datum": "2024-06-01"}, date(2026, 11, 24)
    )
    assert data.number == "09012345601" and isinstance(data.number, str)
    for wrong in ("9012345601", "090123456011", "0901234560x", ""):
        with pytest.raises(evidence.EvidenceError) as refused:
            evidence.check_input({"soort": "big", "persoon": "A", "nummer": wrong, "datum": "2024-06-01"},
                                 date(2026, 11, 24))  # fmt: skip
        assert refused.value.field == "nummer"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"soort": "x", "persoon": "A", "datum": "2024-01-01"}, "soort", "Kies wat voor bewijs dit is."),
        ({"soort": "vog_medewerker", "persoon": " ", "datum": "2024-01-01"}, "persoon", "Vul de naam"),
        ({"soort": "vog_medewerker", "persoon": "A", "datum": ""}, "datum", "Vul de datum in"),
        ({"soort": "vog_medewerker", "persoon": "A", "datum": "31-02-2024"}, "datum", "'31-02-2024' is geen geldige"),
        ({"soort": "vog_medewerker", "persoon": "A", "datum": "2026-11-25"}, "datum", "De datum ligt in de toekomst."),
        ({"soort": "skj", "persoon": "A", "datum": "2024-01-01", "nummer": "abc"}, "nummer", "Vul het SKJ"),
    ],
)
def test_refused_input_names_the_field(fields, field, message):
    with pytest.raises(evidence.EvidenceError) as refused:
        evidence.check_input(fields, date(2026, 11, 24))
    assert refused.value.field == field and refused.value.message.startswith(message)
