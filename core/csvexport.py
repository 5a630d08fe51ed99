"""One CSV dialect for every export, as Dutch Excel opens it with a double click, and safe to open.

- ``DutchExcel``: ``;`` between cells (Dutch Excel's list separator; ``,`` is its decimal sign), ``"`` quotes,
  CRLF line ends.
- The stream starts with one UTF-8 byte order mark, so Excel reads UTF-8 (é, ë, –) instead of Windows-1252.
- Cells: numbers with a decimal comma and no thousands separator (``1250,5``), dates as dd-mm-jjjj, timestamps as
  dd-mm-jjjj uu:mm:ss in Dutch time, ``True``/``False`` as ja/nee, nothing as an empty cell.
- Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP "CSV injection"): a cell whose
  first non-blank character is ``=``, ``+``, ``-`` or ``@`` (also their full-width forms), or that starts with a
  tab or carriage return. ``" =1+1"`` becomes ``"' =1+1"``. Numbers the export formats itself (a negative figure)
  stay numbers.

``CsvSheet`` writes rows and hands out what it has written so far, so a streamed export yields chunk by chunk
(the BOM leads the first chunk only); ``csv_response`` makes the download: ``text/csv; charset=utf-8`` (Litestar
adds the charset to a ``text/`` type: it is named once) and ``Content-Disposition: attachment`` with the file name.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from litestar.response import Response, Stream

from core.formatting import numeric_date, numeric_datetime

__all__ = ["BOM", "MEDIA_TYPE", "CsvSheet", "DutchExcel", "attachment", "cell", "csv_response", "neutralise", "number"]

BOM = "\ufeff"
MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8" itself
# What a spreadsheet starts a formula with (and the full-width forms some of them also accept).
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
CONTROL_STARTS = ("\t", "\r")


class DutchExcel(csv.Dialect):
    """The dialect of every Trede export."""

    delimiter = ";"
    quotechar = '"'
    doublequote = True
    escapechar = None
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    strict = False


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as text: an apostrophe before what would start a formula."""
    if text.startswith(CONTROL_STARTS) or text.lstrip()[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def number(value: float | Decimal) -> str:
    """``1250.5`` -> ``"1250,5"``; a whole float without decimals; no exponent; not a number -> ``""``."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        value = Decimal(repr(value))
    if not value.is_finite():
        return ""
    return format(value, "f").replace(".", ",")


def cell(value: Any) -> str:
    """One value as the export writes it (see the module's docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return number(value)
    if isinstance(value, datetime):
        return numeric_datetime(value)
    if isinstance(value, date):
        return numeric_date(value)
    return neutralise(str(value))


class CsvSheet:
    """Rows in the dialect, taken out in chunks: ``take()`` answers what was written since the last one.

    The byte order mark is written once, before the first row, so it leads the first chunk only."""

    def __init__(self, header: Iterable[Any] | None = None) -> None:
        self._buffer = io.StringIO()
        self._buffer.write(BOM)
        self._writer = csv.writer(self._buffer, dialect=DutchExcel)
        if header is not None:
            self.row(header)

    def row(self, values: Iterable[Any]) -> None:
        self._writer.writerow([cell(v) for v in values])

    def rows(self, many: Iterable[Iterable[Any]]) -> None:
        for values in many:
            self.row(values)

    def take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


def attachment(filename: str) -> str:
    """``attachment; filename="…"``; a name beyond ASCII also as RFC 5987 ``filename*``."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_response(content: str | AsyncIterable[str], filename: str) -> Response | Stream:
    """The download: a whole sheet (``CsvSheet.take()``) as a response, an async iterator of chunks as a stream."""
    headers = {"Content-Disposition": attachment(filename)}
    if isinstance(content, str):
        return Response(content, media_type=MEDIA_TYPE, headers=headers)
    return Stream(content, media_type=MEDIA_TYPE, headers=headers)
