"""Reading a CSV download as Dutch Excel would, asserting on the way what every export owes it (core.csvexport):
the UTF-8 byte order mark once at the start, ``;`` between cells, CRLF line ends, the charset named once and an
attachment with a file name."""

from __future__ import annotations

import csv
import io

import httpx

EVIL_NAME = '=HYPERLINK("https://example.org/inloggen","Klik hier")'  # a provider name set up to run in Excel


def sheet_rows(response: httpx.Response, filename: str | None = None) -> list[list[str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert len(response.headers.get_list("content-type")) == 1
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.count("filename=") == 1
    if filename is not None:
        assert f'filename="{filename}"' in disposition
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf") and body.count(b"\xef\xbb\xbf") == 1
    text = body.decode("utf-8").removeprefix("\ufeff")
    assert text.endswith("\r\n") and ";" in text.split("\r\n", 1)[0]
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def sheet_dicts(response: httpx.Response, filename: str | None = None) -> list[dict[str, str]]:
    header, *rows = sheet_rows(response, filename)
    return [dict(zip(header, row, strict=True)) for row in rows]
