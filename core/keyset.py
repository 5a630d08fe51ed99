"""Keyset pagination: a page is "the next N rows after this row" in an indexed order, never ``OFFSET``, so page
1,000 costs what page 1 costs. The position travels in the link as an opaque cursor (``na`` / ``voor``), and the
links work without JavaScript.

An order is a list of (column, ascending) ending in a unique column (the id). A list whose sort column can be
NULL (the next deadline) is read as segments: the rows with a value first, then those without, each in its own
indexed order.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Column, Timestamptz

Order = list[tuple[Column, bool]]  # (column, ascending), the last one unique


@dataclass(frozen=True)
class Segment:
    name: str  # short, goes into the cursor
    condition: Any  # the Piccolo condition of this segment's rows (None: all)
    order: Order


def encode(segment: str, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, UUID) else v for v in values]
    raw = json.dumps([segment, *plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, segments: list[Segment]) -> tuple[int, list[Any]] | None:
    """(segment index, typed values), or None for a cursor that is not ours (then the first page is shown)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        index = [s.name for s in segments].index(data[0])
        order = segments[index].order
        if len(data) != len(order) + 1:
            return None
        values = []
        for (column, _), value in zip(order, data[1:], strict=True):
            if isinstance(column, Timestamptz):
                values.append(datetime.fromisoformat(value))
            elif isinstance(column, UUIDColumn):
                values.append(UUID(value))
            elif isinstance(value, str | int):
                values.append(value)
            else:
                return None
        return index, values
    except (ValueError, TypeError, IndexError, json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return None


def beyond(order: Order, values: list[Any], *, forward: bool):
    """Rows strictly after (forward) or before the position ``values`` in ``order``: (a > x) OR (a = x AND b > y)…,
    led by the bound a >= x. The OR alone is a filter that the database applies to every row before the position
    (page 400 read 20,000 index entries); the bound makes it a range of the index, so a page after a cursor costs
    what the first page costs."""
    condition = None
    for i, (column, ascending) in enumerate(order):
        later = ascending == forward
        term = column > values[i] if later else column < values[i]
        for previous, value in zip(order[:i], values[:i], strict=True):
            term = (previous[0] == value) & term
        condition = term if condition is None else condition | term
    if len(order) > 1:
        first, ascending = order[0]
        condition = (first >= values[0] if ascending == forward else first <= values[0]) & condition
    return condition


def _key(row: dict, order: Order) -> list[Any]:
    return [row[column._meta.name] for column, _ in order]


@dataclass
class Page:
    rows: list[dict]
    next: str | None  # cursor for "volgende" (na=…)
    previous: str | None  # cursor for "vorige" (voor=…)


Fetch = Callable[[Any, Order, bool, int], Awaitable[list[dict]]]  # (condition, order, forward, limit) -> rows


async def page(fetch: Fetch, segments: list[Segment], size: int, *, after: str = "", before: str = "") -> Page:
    """One page of ``size`` rows. ``fetch(condition, order, forward, limit)`` runs the list's query with the extra
    condition, ordered by ``order`` (reversed when not ``forward``); rows must carry the order's columns."""
    forward = not before
    position = decode(after or before, segments) if (after or before) else None
    if position is None:
        forward, start, values = True, 0, None
    else:
        start, values = position
    found: list[tuple[int, dict]] = []
    indexes = range(start, len(segments)) if forward else range(start, -1, -1)
    for index in indexes:
        segment = segments[index]
        conditions = [c for c in (segment.condition,) if c is not None]
        if index == start and values is not None:
            conditions.append(beyond(segment.order, values, forward=forward))
        condition = None
        for item in conditions:
            condition = item if condition is None else condition & item
        rows = await fetch(condition, segment.order, forward, size + 1 - len(found))
        found.extend((index, row) for row in rows)
        if len(found) > size:
            break
    more = len(found) > size
    found = found[:size]
    if not forward:
        found.reverse()
    if not found:
        return Page([], None, None)
    first, last = found[0], found[-1]
    cursor_first = encode(segments[first[0]].name, _key(first[1], segments[first[0]].order))
    cursor_last = encode(segments[last[0]].name, _key(last[1], segments[last[0]].order))
    if forward:
        has_next, has_previous = more, position is not None
    else:
        has_next, has_previous = True, more
    return Page([row for _, row in found], cursor_last if has_next else None, cursor_first if has_previous else None)


async def capped_count(count_rows: Callable[[int], Awaitable[int]], cap: int = 1000) -> tuple[int, bool]:
    """(count, capped): reads at most ``cap + 1`` ids, so a count never walks the whole region."""
    found = await count_rows(cap + 1)
    return (cap, True) if found > cap else (found, False)


async def capped_rows(reader: Any, table: Any, where: Any = None, cap: int = 1000) -> tuple[int, bool]:
    """``capped_count`` of the rows of ``table`` that ``where`` finds through ``reader`` (a scope of core.tenancy):
    their ids, at most ``cap + 1`` of them."""

    async def count_rows(limit: int) -> int:
        query = reader.select(table, table._meta.primary_key)
        return len(await (query.where(where) if where is not None else query).limit(limit))

    return await capped_count(count_rows, cap)


def count_nl(count: int, capped: bool) -> str:
    text = f"{count:,}".replace(",", ".")
    return f"meer dan {text}" if capped else text


def select_fetch(make_query: Callable[[], Any]) -> Fetch:
    """The usual ``fetch``: ``make_query()`` builds the list's filtered select (a new one per call: Piccolo's
    queries change in place), and the page's condition, order and limit are added to it."""

    async def fetch(extra: Any, order: Order, forward: bool, limit: int) -> list[dict]:
        query = make_query()
        if extra is not None:
            query = query.where(extra)
        for column, ascending in order:
            query = query.order_by(column, ascending=ascending == forward)
        return await query.limit(limit)

    return fetch


def merged_fetch(*fetches: Fetch) -> Fetch:
    """One list read from several sources in the same order (e.g. the regions' rows and the platform's): each
    source reads at most ``limit`` rows after the position, and the first ``limit`` of them together are the
    page, so the cost follows the page and the number of sources, never the number of rows."""

    async def fetch(extra: Any, order: Order, forward: bool, limit: int) -> list[dict]:
        rows = [row for source in fetches for row in await source(extra, order, forward, limit)]
        for column, ascending in reversed(order):  # stable sorts, last key first
            rows.sort(key=lambda row, name=column._meta.name: row[name], reverse=ascending != forward)
        return rows[:limit]

    return fetch


async def first_page_if_stale(fetch: Fetch, segments: list[Segment], size: int, *, after: str = "",
                              before: str = "") -> Page:  # fmt: skip
    """``page``, and the first page instead when a cursor finds nothing (a stale or foreign link)."""
    found = await page(fetch, segments, size, after=after, before=before)
    if not found.rows and (after or before):
        found = await page(fetch, segments, size)
    return found


def cursors(query: Any) -> tuple[str, str]:
    """(after, before) from a page's query string: ``na`` and ``voor`` ("na" wins when both are given)."""
    after = (query.get("na") or "").strip()[:300]
    before = "" if after else (query.get("voor") or "").strip()[:300]
    return after, before
