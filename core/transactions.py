"""Write transactions that behave the same on SQLite and PostgreSQL, and work handed on once they commit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

from piccolo.engine import engine_finder
from piccolo.engine.sqlite import TransactionType

log = logging.getLogger("trede.transactions")

# The callbacks of the outermost write transaction in progress (None: none in progress).
_AFTER_COMMIT: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_commit", default=None)


def _begin():
    engine = engine_finder()
    if engine.engine_type == "sqlite":
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


@asynccontextmanager
async def write_transaction() -> AsyncIterator[object]:
    """A transaction for writing. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so two
    writers queue instead of failing halfway with 'database is locked'. A nested one joins the outer one.

    What ``after_commit`` registered inside runs once the outermost one has committed, never on a rollback."""
    if _AFTER_COMMIT.get() is not None:  # nested: the outer transaction commits, and runs the callbacks
        async with _begin() as transaction:
            yield transaction
        return
    callbacks: list[Callable[[], None]] = []
    token = _AFTER_COMMIT.set(callbacks)
    try:
        async with _begin() as transaction:
            yield transaction
    finally:
        _AFTER_COMMIT.reset(token)
    for callback in callbacks:  # committed (an error above has left already)
        try:
            callback()
        except Exception:  # the broker is away: the row is committed and the sweep hands it on
            log.exception("after-commit callback failed")


def after_commit(callback: Callable[[], None]) -> bool:
    """Run ``callback`` once the write transaction in progress commits. Outside one, nothing is registered
    (False): the caller's row is found by the next sweep."""
    callbacks = _AFTER_COMMIT.get()
    if callbacks is None:
        return False
    callbacks.append(callback)
    return True
