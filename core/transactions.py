"""Write transactions that behave the same on SQLite and PostgreSQL."""

from piccolo.engine import engine_finder
from piccolo.engine.sqlite import TransactionType


def write_transaction():
    """A transaction for writing. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so two
    writers queue instead of failing halfway with 'database is locked'."""
    engine = engine_finder()
    if engine.engine_type == "sqlite":
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()
