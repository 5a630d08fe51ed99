from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

from core.migration_helpers import NullableOnSQLiteManager, drop_not_null_on_sqlite

ID = "2026-12-03T08:34:50:068918"
VERSION = "1.38.0"
DESCRIPTION = "terms that start at an event: deadline.starts, no due date while waiting"


async def forwards():
    manager = NullableOnSQLiteManager(
        migration_id=ID, app_name="escalations", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Deadline",
        tablename="deadline",
        column_name="starts",
        db_column_name="starts",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 80,
            "default": "step",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    # A term waiting on its event ("wacht op ...") has no start or due moment yet. The manager records the
    # change for later migrations; on SQLite the columns are changed by editing the stored schema.
    drop_not_null_on_sqlite(manager, "deadline", ["starts_at", "due_at"])
    manager.alter_column(
        table_class_name="Deadline",
        tablename="deadline",
        column_name="starts_at",
        db_column_name="starts_at",
        params={"default": None, "null": True},
        old_params={"default": TimestamptzNow(), "null": False},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Deadline",
        tablename="deadline",
        column_name="due_at",
        db_column_name="due_at",
        params={"default": None, "null": True},
        old_params={"default": TimestamptzNow(), "null": False},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    return manager
