"""The one access path to rows that belong to a region.

Every table with a ``region`` column is region-owned. Services read and write such rows only through a
``RegionScope``, which adds the region filter to every query and stamps the region on every insert, so a
forgotten ``where`` cannot leak another region's data. ``tests/test_tenant_scope.py`` checks that no code
outside this module queries region-owned tables directly.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from piccolo.query import Count, Delete, Exists, Objects, Select, Update
from piccolo.table import Table


def is_region_owned(table: type[Table]) -> bool:
    return any(column._meta.name == "region" for column in table._meta.columns)


class ScopeError(Exception):
    pass


class RegionScope:
    def __init__(self, region_id: UUID | str):
        self.region_id = UUID(str(region_id))

    def __repr__(self) -> str:
        return f"RegionScope({self.region_id})"

    def _check(self, table: type[Table]) -> None:
        if not is_region_owned(table):
            raise ScopeError(f"{table.__name__} has no region column; it is not region-owned")

    def _where(self, table: type[Table]):
        self._check(table)
        return table.region == self.region_id  # type: ignore[attr-defined]

    # JSON columns come back decoded (Piccolo returns them as text otherwise, on SQLite and PostgreSQL).
    def select(self, table: type[Table], *columns: Any) -> Select:
        return table.select(*columns).where(self._where(table)).output(load_json=True)

    def objects(self, table: type[Table], *prefetch: Any) -> Objects:
        return table.objects(*prefetch).where(self._where(table)).output(load_json=True)

    def count(self, table: type[Table]) -> Count:
        return table.count().where(self._where(table))

    def exists(self, table: type[Table]) -> Exists:
        return table.exists().where(self._where(table))

    def update(self, table: type[Table], values: dict) -> Update:
        return table.update(values).where(self._where(table))

    def delete(self, table: type[Table]) -> Delete:
        return table.delete().where(self._where(table))

    async def get(self, table: type[Table], row_id: UUID | str) -> Table | None:
        """One row by id, or None when it does not exist *or belongs to another region* (same answer)."""
        try:
            row_uuid = UUID(str(row_id))
        except ValueError:
            return None
        return await self.objects(table).where(table._meta.primary_key == row_uuid).first()

    def new(self, table: type[Table], **values: Any) -> Table:
        """A row of this region, not yet saved (``await row.save()``)."""
        self._check(table)
        if "region" in values and UUID(str(values["region"])) != self.region_id:
            raise ScopeError("a row cannot be created for another region")
        return table(**{**values, "region": self.region_id})
