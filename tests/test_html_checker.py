"""The W3C Nu HTML Checker the browser tests run over every page they visit (``tests.browser_support.NU``) finds
what makes HTML invalid, and passes a page written as Trede writes its pages; ``machine_time`` writes the
``<time datetime>`` values it accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.formatting import machine_time
from tests.browser_support import NuChecker

PAGE = """<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Proef</title>
<link rel="icon" href="/static/trede/favicon.svg" type="image/svg+xml"></head><body>
<main {attributes}><p>Termijn tot <time datetime="{moment}">6 april 2026</time>.</p>
<figure>{figure}</figure></main></body></html>"""


def test_the_checker_finds_invalid_html_and_passes_valid_html():
    checker = NuChecker()
    moment = datetime(2026, 4, 6, 12, 5, 9, 497431, tzinfo=UTC)
    checker.add(PAGE.format(attributes='data-hx-get="/x" data-hx-trigger="every 5s"', moment=machine_time(moment),
                            figure="<p>Ladder</p><figcaption>Uitleg</figcaption>"), "goed")  # fmt: skip
    checker.add(PAGE.format(attributes='hx-get="/x"', moment=moment.isoformat(),
                            figure="<figcaption>Uitleg</figcaption><p>a</p><details><summary>b</summary></details>"
                                   "<figcaption>twee</figcaption>"), "fout")  # fmt: skip
    errors = checker.errors()
    assert errors and all(error.startswith("fout:") for error in errors), errors
    text = "\n".join(errors)
    assert "hx-get" in text and "fraction of a second" in text and "figcaption" in text
    assert checker.errors() == []  # each run checks what was added since the last one


def test_machine_time_is_utc_to_the_second():
    assert machine_time(datetime(2026, 4, 6, 12, 5, 9, 497431, tzinfo=UTC)) == "2026-04-06T12:05:09Z"
    assert machine_time("2026-04-06 14:05:09.123456+02:00") == "2026-04-06T12:05:09Z"
    assert machine_time(date(2026, 4, 6)) == "2026-04-06"
    assert machine_time(None) == ""
