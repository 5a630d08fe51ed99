"""Counting the SQL statements a piece of code runs (through Piccolo's query log hook), for tests that fail when a
page's number of statements grows with the data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from piccolo.engine import engine_finder


@dataclass
class Statements:
    queries: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.queries)


@contextmanager
def counting_statements() -> Iterator[Statements]:
    engine = engine_finder()
    kind = type(engine)  # engines have __slots__: the hook is patched on the class, for this block only
    seen = Statements()
    logging, hook = engine.log_queries, kind.print_query
    engine.log_queries = True
    kind.print_query = lambda self, query_id, query: seen.queries.append(query)  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        engine.log_queries = logging
        kind.print_query = hook  # type: ignore[method-assign]
