"""The one CSV dialect of every export (core.csvexport): what Dutch Excel needs to open the file in columns with
the right characters, numbers and dates, and what keeps a spreadsheet from running a cell as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.csvexport import BOM, CsvSheet, DutchExcel, attachment, cell, csv_response, neutralise, number


def test_the_dialect_is_what_dutch_excel_reads():
    sheet = CsvSheet(["naam", "toelichting"])
    sheet.row(["Jeugdzorg De Vlinder B.V.", 'zegt "nee"; daarna\nja'])
    text = sheet.take()
    assert text.startswith(BOM + "naam;toelichting\r\n")
    assert text.endswith('ja"\r\n') and text.count("\r\n") == 2  # rows end in CRLF; a cell keeps its own break
    assert '"zegt ""nee""; daarna\nja"' in text  # a ';', a quote or a line break inside a cell is quoted
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM)), dialect=DutchExcel))
    assert rows == [["naam", "toelichting"], ["Jeugdzorg De Vlinder B.V.", 'zegt "nee"; daarna\nja']]
    assert (DutchExcel.delimiter, DutchExcel.lineterminator) == (";", "\r\n")


def test_the_byte_order_mark_is_written_once_at_the_start_of_a_streamed_export():
    sheet = CsvSheet(["kenmerk"])
    chunks = [sheet.take()]
    for batch in (["ZL-1", "ZL-2"], ["ZL-3"]):
        for reference in batch:
            sheet.row([reference])
        chunks.append(sheet.take())
    body = "".join(chunks)
    assert chunks[0].startswith(BOM) and not any(BOM in chunk for chunk in chunks[1:])
    assert body.count(BOM) == 1 and body == BOM + "kenmerk\r\nZL-1\r\nZL-2\r\nZL-3\r\n"
    assert body.encode("utf-8").startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(
    "value",
    ["=HYPERLINK(\"https://example.org\",\"klik\")", "+31 6 1234", "-2+3", "@SUM(A1)", " =1+1", "  \t=1+1", "\n=1",
     "\tverborgen", "\rregel", "\uff1d1+1"],
)  # fmt: skip
def test_a_cell_that_would_start_a_formula_is_kept_as_text(value):
    assert neutralise(value) == "'" + value
    assert cell(value) == "'" + value
    written = CsvSheet()
    written.row([value])
    assert next(csv.reader(io.StringIO(written.take().removeprefix(BOM)), dialect=DutchExcel)) == ["'" + value]


@pytest.mark.parametrize("value", ["Jeugdzorg De Vlinder B.V.", "ZL-2026-00001", "a=b", "e-mail", "", "'al tekst"])
def test_ordinary_text_is_left_alone(value):
    assert cell(value) == value


def test_numbers_have_a_decimal_comma_and_stay_numbers():
    assert cell(Decimal("1250.50")) == "1250,50"
    assert cell(7.5) == "7,5"
    assert cell(9.0) == "9" and cell(12) == "12"
    assert cell(-2.25) == "-2,25" and cell(Decimal("-3")) == "-3"  # a negative figure is a number, not a formula
    assert number(0.1) == "0,1" and number(1e-7) == "0,0000001" and number(1e20) == "100000000000000000000"
    assert cell(float("nan")) == "" and cell(Decimal("Infinity")) == ""


def test_dates_and_times_in_dutch_notation_and_the_rest():
    assert cell(date(2026, 4, 6)) == "06-04-2026"
    # 22:30 UTC on 31 December is already New Year's Day in Amsterdam
    assert cell(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "01-01-2027 00:30:00"
    assert cell(datetime(2026, 7, 1, 12, 5, 9, tzinfo=UTC)) == "01-07-2026 14:05:09"
    assert (cell(True), cell(False), cell(None)) == ("ja", "nee", "")


def test_the_download_names_its_charset_once_and_is_an_attachment():
    response = csv_response(BOM + "a;b\r\n", "escalaties-zuid-limburg.csv")
    asgi = response.to_asgi_response(app=None, request=None)  # type: ignore[arg-type]
    content_type = asgi.headers["content-type"]
    assert content_type == "text/csv; charset=utf-8"
    assert asgi.headers["content-disposition"] == 'attachment; filename="escalaties-zuid-limburg.csv"'
    assert attachment("kwaliteit-wachttijd-2026-K3-súdwest.csv") == (
        'attachment; filename="kwaliteit-wachttijd-2026-K3-s_dwest.csv"; '
        "filename*=UTF-8''kwaliteit-wachttijd-2026-K3-s%C3%BAdwest.csv"
    )
