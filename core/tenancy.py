"""The one access path to rows that belong to a region.

Every table with a ``region`` column is region-owned. Services read and write such rows only through a
``RegionScope``, which adds the region filter to every query and stamps the region on every insert, so a
forgotten ``where`` cannot leak another region's data. ``tests/test_tenant_scope.py`` checks that no code
outside this module queries region-owned tables directly.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

from piccolo.columns import JSON
from piccolo.columns.defaults.base import Default
from piccolo.query import Count, Delete, Exists, Objects, Select, Update
from piccolo.table import Table
from piccolo.utils.encoding import dump_json
from piccolo.utils.sql_values import convert_to_sql_value

from apps.providers.tables import Contract, Provider  # core knows no app; these lookups are the exception


def is_region_owned(table: type[Table]) -> bool:
    return any(column._meta.name == "region" for column in table._meta.columns)


class ScopeError(Exception):
    pass


class _Reads:
    """The reads every scope offers, each filtered by the scope's ``_where`` (which refuses a table the scope does
    not cover). JSON columns come back decoded (Piccolo returns them as text otherwise, on SQLite and PostgreSQL)."""

    def _where(self, table: type[Table]) -> Any:
        raise NotImplementedError

    def select(self, table: type[Table], *columns: Any) -> Select:
        return table.select(*columns).where(self._where(table)).output(load_json=True)

    def objects(self, table: type[Table], *prefetch: Any) -> Objects:
        return table.objects(*prefetch).where(self._where(table)).output(load_json=True)

    def count(self, table: type[Table]) -> Count:
        return table.count().where(self._where(table))

    def exists(self, table: type[Table]) -> Exists:
        return table.exists().where(self._where(table))

    async def get(self, table: type[Table], row_id: UUID | str) -> Table | None:
        """One row by id, or None when it does not exist *or lies outside this scope* (the same answer)."""
        try:
            row_uuid = UUID(str(row_id))
        except ValueError:
            return None
        return await self.objects(table).where(table._meta.primary_key == row_uuid).first()


class RegionScope(_Reads):
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

    def update(self, table: type[Table], values: dict) -> Update:
        return table.update(values).where(self._where(table))

    def delete(self, table: type[Table]) -> Delete:
        return table.delete().where(self._where(table))

    def insert(self, table: type[Table], *rows: Table):
        """Insert several rows made with ``new`` in one statement; a row of another region is refused."""
        self._check(table)
        if any(UUID(str(row.region)) != self.region_id for row in rows):  # type: ignore[attr-defined]
            raise ScopeError("a row cannot be inserted for another region")
        return table.insert(*rows)

    async def insert_values(self, table: type[Table], rows: list[dict[str, Any]]) -> None:
        """Several rows of this region in one INSERT from plain values, without a row object per row (issue 20: the
        sweep's sets spent their time building them). A column left out takes its default, as ``new`` does; a row
        of another region is refused; an unknown column is an error. Nothing is run for no rows."""
        self._check(table)
        if not rows:
            return
        columns = table._meta.columns
        unknown = {name for row in rows for name in row} - {column._meta.name for column in columns}
        if unknown:
            raise ValueError(f"{table.__name__} has no column(s) {sorted(unknown)}")
        # each column's default and whether it holds JSON, once per call (not once per value, as Piccolo's
        # convert_to_sql_value would)
        defaults = [getattr(column, "default", None) for column in columns]
        is_json = [isinstance(column, JSON) for column in columns]
        values: list[Any] = []
        for row in rows:
            if "region" in row and UUID(str(row["region"])) != self.region_id:
                raise ScopeError("a row cannot be inserted for another region")
            for column, default, json in zip(columns, defaults, is_json, strict=True):
                name = column._meta.name
                if name == "region":
                    value = self.region_id
                elif name in row:
                    value = row[name]
                else:  # evaluated per row, as Table() does: each row its own id
                    value = default.python() if isinstance(default, Default) else default
                    value = value() if callable(value) else value
                if json and value is not None and not isinstance(value, str):
                    value = dump_json(value)
                elif isinstance(value, Enum | Table):
                    value = convert_to_sql_value(value, column)
                values.append(value)
        names = ", ".join(f'"{column._meta.db_column_name}"' for column in columns)
        placeholders = "(" + ", ".join("{}" for _ in columns) + ")"
        await table.raw(f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES '
                        + ", ".join(placeholders for _ in rows), *values)  # fmt: skip

    def new(self, table: type[Table], **values: Any) -> Table:
        """A row of this region, not yet saved (``await row.save()``)."""
        self._check(table)
        if "region" in values and UUID(str(values["region"])) != self.region_id:
            raise ScopeError("a row cannot be created for another region")
        return table(**{**values, "region": self.region_id})

    def loaded(self, table: type[Table], values: dict[str, Any]) -> Table:
        """A row this scope has read as plain values (a joined select), as the row object that exists in the
        database; a row of another region is refused."""
        self._check(table)
        if UUID(str(values["region"])) != self.region_id:
            raise ScopeError("a row of another region cannot be loaded through this scope")
        return table(_exists_in_db=True, **values)


class PlatformScope(_Reads):
    """Rows of region-owned tables that belong to no region: platform-wide audit entries (logins, role changes)
    and notices. Read-only, and only for the platform admin's pages."""

    def __repr__(self) -> str:
        return "PlatformScope()"

    def _where(self, table: type[Table]):
        if not is_region_owned(table):
            raise ScopeError(f"{table.__name__} has no region column; it is not region-owned")
        return table.region.is_null()  # type: ignore[attr-defined]


class RegionsScope(_Reads):
    """Read-only: rows of several regions in one query, for the sweep's platform-wide due queries (one index range
    over every active region instead of a query per region), a person's notices and the bell across their regions,
    and the platform admin's audit log. Each row read carries its ``region``; the sweep acts on
    it through ``RegionScope(row region)``, never through this scope."""

    def __init__(self, region_ids: list[UUID | str] | frozenset):
        self.region_ids = frozenset(UUID(str(r)) for r in region_ids)

    def __repr__(self) -> str:
        return f"RegionsScope({len(self.region_ids)} regions)"

    def _where(self, table: type[Table]):
        if not is_region_owned(table):
            raise ScopeError(f"{table.__name__} has no region column; it is not region-owned")
        if not self.region_ids:
            return table._meta.primary_key.is_null()  # no region: no rows (IN () is no valid SQL)
        return table.region.is_in(sorted(self.region_ids, key=str))  # type: ignore[attr-defined]


def _has_column(table: type[Table], name: str) -> bool:
    return any(column._meta.name == name for column in table._meta.columns)


SHARED = "shared"  # the visibility of timeline events a provider may see (apps.escalations.services.SHARED)


class ProviderScope(_Reads):
    """What a provider user may read: rows where their organisation is the party, in the regions where it has a
    contract — and never internal timeline events.

    Region-owned tables qualify when they have a ``provider`` column, or an ``escalation`` column (rows of the
    provider's escalations); a ``visibility`` column restricts to shared rows. Build it with ``for_provider``.
    """

    def __init__(self, provider_id: UUID | str, region_ids: list[UUID | str] | frozenset):
        self.provider_id = UUID(str(provider_id))
        self.region_ids = frozenset(UUID(str(r)) for r in region_ids)

    def __repr__(self) -> str:
        return f"ProviderScope({self.provider_id}, regions={sorted(map(str, self.region_ids))})"

    @classmethod
    async def for_provider(cls, provider_id: UUID | str) -> ProviderScope:
        """The scope of a provider organisation: the regions come from its contracts (also ended ones: the
        escalations of an ended contract stay visible to the provider)."""
        rows = await Contract.select(Contract.region).where(Contract.provider == UUID(str(provider_id)))
        return cls(provider_id, [row["region"] for row in rows])

    def _where(self, table: type[Table]):
        if not is_region_owned(table):
            raise ScopeError(f"{table.__name__} has no region column; it is not region-owned")
        condition = (
            table.region.is_in(list(self.region_ids))  # type: ignore[attr-defined]
            if self.region_ids
            else table._meta.primary_key.is_null()  # no contract: nothing at all
        )
        if _has_column(table, "provider"):
            condition &= table.provider == self.provider_id  # type: ignore[attr-defined]
        elif _has_column(table, "escalation"):
            condition &= table.escalation.provider == self.provider_id  # type: ignore[attr-defined]
        else:
            raise ScopeError(f"{table.__name__} has no provider or escalation column; providers never read it")
        if _has_column(table, "visibility"):
            condition &= table.visibility == SHARED  # type: ignore[attr-defined]
        return condition

    def organisation_rows(self, table: type[Table], *columns: Any) -> Select:
        """The organisation's own rows that belong to no region (its memberships, its evidence register)."""
        if not (_has_column(table, "provider") and _has_column(table, "region")):
            raise ScopeError(f"{table.__name__} has no provider and region columns")
        return (
            table.select(*columns)
            .where((table.provider == self.provider_id) & table.region.is_null())  # type: ignore[attr-defined]
            .output(load_json=True)
        )

    def region_scope(self, region_id: UUID | str) -> RegionScope:
        """The region scope for writing a provider's row (an upload) in one of its contract regions."""
        if UUID(str(region_id)) not in self.region_ids:
            raise ScopeError("the provider has no contract in that region")
        return RegionScope(region_id)


class UserScope(_Reads):
    """One person's own rows across regions (their memberships): every query is filtered on the ``user`` column.

    Used to load who someone is at login and on every request; it never reads another person's rows.
    """

    def __init__(self, user_id: UUID | str):
        self.user_id = UUID(str(user_id))

    def _where(self, table: type[Table]):
        if not _has_column(table, "user"):
            raise ScopeError(f"{table.__name__} has no user column")
        return table.user == self.user_id  # type: ignore[attr-defined]

    def delete(self, table: type[Table]) -> Delete:
        return table.delete().where(self._where(table))

    @staticmethod
    def through_session(session_table: type[Table], key: str) -> Any:
        """The session ``key`` with its person and their own memberships, in one query (issue 20: three queries per
        request before): one row per membership (one row with empty membership columns for a person without
        any; no row when the key is unknown). The memberships are filtered on the ``user`` column, as ``select``
        does, through the user the session names."""
        return session_table.raw(
            "SELECT s.value, s.expires_at, s.user_id, u.id AS user_found, u.name, u.email, u.is_platform_admin, "
            'u.active, m.region, m.provider, m.role, m.municipality FROM web_session s '
            'LEFT JOIN app_user u ON u.id = s.user_id '
            'LEFT JOIN membership m ON m."user" = u.id WHERE s.key = {}',
            key,
        )

    def new(self, table: type[Table], **values: Any) -> Table:
        """A row of this person without a region (a provider membership); region rows go through RegionScope."""
        if values.get("region") is not None:
            raise ScopeError("a region row is created through RegionScope.new")
        if "user" in values and UUID(str(values["user"])) != self.user_id:
            raise ScopeError("a row cannot be created for another person")
        self._where(table)
        return table(**{**values, "user": self.user_id})


CONTINUITY_LADDER = "continuiteit"  # the key of tenants/templates/continuiteitsladder-vng.toml in every region


def largest_region(contracts: list[dict], today: date) -> UUID | None:
    """The default account-holding region (seed 004: "standaard de grootste regio"): the region with the most
    contracts running today (all contracts when none runs), ties by the region's name. ``contracts``: dicts with
    ``region``, ``region_name`` and ``valid_until``."""
    running = [c for c in contracts if c["valid_until"] is None or c["valid_until"] >= today] or contracts
    counts: dict[UUID, list] = {}
    for contract in running:
        entry = counts.setdefault(contract["region"], [0, contract["region_name"] or ""])
        entry[0] += 1
    if not counts:
        return None
    return min(counts, key=lambda region: (-counts[region][0], counts[region][1], str(region)))


async def provider_contracts(provider_ids: list[UUID]) -> dict[UUID, list[dict]]:
    """Every contract of these providers, across regions (only to find their account-holding region)."""
    if not provider_ids:
        return {}
    rows = await Contract.select(
        Contract.provider, Contract.region, Contract.region.name.as_alias("region_name"), Contract.valid_until
    ).where(Contract.provider.is_in(list(provider_ids)))
    found: dict[UUID, list[dict]] = {}
    for row in rows:
        found.setdefault(row["provider"], []).append(row)
    return found


# The providers without a chosen account-holding region whose largest region is region {0}: largest_region's rule
# in SQL (weight: the contracts running on day {1}, or all of them when none runs; ties by the region's name, then
# its id, compared by code point as Python compares: "C" collation on PostgreSQL, SQLite's own). Plain SQL that
# SQLite and PostgreSQL both run (window functions); tests/escalations/test_account_region.py holds it to
# largest_region.
LARGEST_HERE = """
WITH candidates AS (
    SELECT DISTINCT c.provider FROM contract c JOIN provider p ON p.id = c.provider
    WHERE c.region = {{}} AND p.account_region IS NULL
), per_region AS (
    SELECT c.provider, c.region, r.name, COUNT(*) AS everything,
           SUM(CASE WHEN c.valid_until IS NULL OR c.valid_until >= {{}} THEN 1 ELSE 0 END) AS running
    FROM contract c JOIN region r ON r.id = c.region
    WHERE c.provider IN (SELECT provider FROM candidates) GROUP BY c.provider, c.region, r.name
), weighed AS (
    SELECT provider, region, name,
           CASE WHEN MAX(running) OVER (PARTITION BY provider) > 0 THEN running ELSE everything END AS weight
    FROM per_region
), ranked AS (
    SELECT provider, region, ROW_NUMBER() OVER (
        PARTITION BY provider ORDER BY weight DESC, name {collate}, CAST(region AS TEXT) {collate}) AS place
    FROM weighed WHERE weight > 0
)
SELECT provider FROM ranked WHERE place = 1 AND region = {{}}
"""


class AccountRegionScope(_Reads):
    """The one sharing across regions (seed 004, issue 15): a provider's *accounthoudende regio* reads the
    escalations on the continuity ladder (``CONTINUITY_LADDER``) of the providers it holds the account of, in
    whichever region they were opened, with their deadlines and their *shared* timeline events. It holds the
    account when the platform admin set ``Provider.account_region`` to it, or, unset, when it is the provider's
    largest region (``largest_region``). Build it with ``for_region``.

    Nothing else: no other ladder, no signal, measure, document, letter or notice of the owning region, and never
    its internal notes. Read-only: the one write it allows, the mediation step, goes through the owning region's
    ``RegionScope`` (``owner_scope``), so every row written stays that region's. ``tests/test_isolation.py``
    fails when this widens.
    """

    TABLES = ("escalation", "deadline", "timeline_event")

    def __init__(self, region_id: UUID | str, provider_ids: list[UUID | str] | frozenset):
        self.region_id = UUID(str(region_id))
        self.provider_ids = frozenset(UUID(str(p)) for p in provider_ids)

    def __repr__(self) -> str:
        return f"AccountRegionScope({self.region_id}, {len(self.provider_ids)} providers)"

    @classmethod
    async def for_region(cls, region_id: UUID | str, today: date) -> AccountRegionScope:
        region_uuid = UUID(str(region_id))
        chosen = await Provider.select(Provider.id).where(Provider.account_region == region_uuid)
        # Unset: a provider with a contract here may have this region as its largest one. The database weighs the
        # contracts (in a region with 2,700 such providers: 8,000 contracts of theirs) and answers only the
        # providers this region is the largest for.
        collate = 'COLLATE "C"' if Contract._meta.db.engine_type == "postgres" else ""
        found = await Contract.raw(LARGEST_HERE.format(collate=collate), region_uuid, today, region_uuid)
        return cls(region_uuid, [row["id"] for row in chosen] + [row["provider"] for row in found])

    def _where(self, table: type[Table]):
        if table._meta.tablename not in self.TABLES:
            raise ScopeError(f"{table.__name__} is not shared with the account-holding region")
        if not self.provider_ids:
            return table._meta.primary_key.is_null()  # no provider: no rows (IN () is no valid SQL)
        escalation = table if table._meta.tablename == "escalation" else table.escalation  # type: ignore[attr-defined]
        condition = escalation.provider.is_in(sorted(self.provider_ids, key=str)) & (
            escalation.ladder_version.ladder.key == CONTINUITY_LADDER
        )
        if _has_column(table, "visibility"):
            condition &= table.visibility == SHARED  # type: ignore[attr-defined]
        return condition

    def owner_scope(self, escalation: Table) -> RegionScope:
        """The owning region's scope for the mediation step on an escalation read through this scope."""
        if escalation.provider not in self.provider_ids:  # type: ignore[attr-defined]
            raise ScopeError("this escalation is not shared with the account-holding region")
        return RegionScope(escalation.region)  # type: ignore[attr-defined]


class MunicipalityScope(_Reads):
    """A narrowing inside one region, not a sharing across tenants (issue 15 point 2): the people of a municipality
    (a region role held for it, ``Membership.municipality``: the access team / lokale aanstuurder of Roosendaal) read
    the disputes about a case of *their* municipality (``escalation.case_municipality``), with those disputes'
    deadlines, *shared* timeline events and the documents shared with the provider, and nothing else of the region
    through this scope: no other municipality's dispute, no other escalation, never the team's internal notes or its
    dossier. Build it with ``for_person``.

    Read-only: what such a person writes on a dispute (a position, a decision, an agreement, a step up) goes through
    ``region_scope(escalation)``, the region's own scope, after the escalation was read through this one.
    ``tests/test_isolation.py`` fails when this widens.
    """

    TABLES = ("escalation", "deadline", "timeline_event", "document")

    def __init__(self, region_id: UUID | str, municipality_ids: list[UUID | str] | frozenset):
        self.region_id = UUID(str(region_id))
        self.municipality_ids = frozenset(UUID(str(m)) for m in municipality_ids)

    def __repr__(self) -> str:
        return f"MunicipalityScope({self.region_id}, {len(self.municipality_ids)} municipalities)"

    @classmethod
    def for_person(cls, person: Any, region_id: UUID | str) -> MunicipalityScope:
        """The municipalities this person holds a role for in the region (none: the scope reads nothing)."""
        region_uuid = UUID(str(region_id))
        held = getattr(person, "region_municipalities", {}) or {}
        return cls(region_uuid, held.get(region_uuid, frozenset()))

    def _where(self, table: type[Table]):
        if table._meta.tablename not in self.TABLES:
            raise ScopeError(f"{table.__name__} is not read by a municipality's people")
        if not self.municipality_ids:
            return table._meta.primary_key.is_null()  # no municipality: no rows (IN () is no valid SQL)
        escalation = table if table._meta.tablename == "escalation" else table.escalation  # type: ignore[attr-defined]
        condition = (table.region == self.region_id) & escalation.case_municipality.is_in(  # type: ignore[attr-defined]
            sorted(self.municipality_ids, key=str)
        )
        if _has_column(table, "visibility"):
            condition &= table.visibility == SHARED  # type: ignore[attr-defined]
        if table._meta.tablename == "document":  # what both parties see: never the team's own dossier
            condition &= table.provider.is_not_null()  # type: ignore[attr-defined]
        return condition

    def region_scope(self, escalation: Table) -> RegionScope:
        """The region's scope for writing on an escalation read through this scope."""
        if (
            UUID(str(escalation.region)) != self.region_id  # type: ignore[attr-defined]
            or escalation.case_municipality not in self.municipality_ids  # type: ignore[attr-defined]
        ):
            raise ScopeError("this escalation is not of the person's municipality")
        return RegionScope(self.region_id)
