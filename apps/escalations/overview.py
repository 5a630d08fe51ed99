"""The lists of the workspace: the region's ladders (titles for steps and categories), the escalations overview
with its filters, counts per step and CSV export, and the register of intake stops in force.

Every query goes through ``RegionScope``; a page reads ``PAGE_SIZE`` rows by keyset (``core.keyset``: "na"/"voor"
cursors in an indexed order, the next deadline from the maintained ``escalation.next_due_at``), counts stop
at ``COUNT_CAP`` and the export streams in keyset batches of ``CSV_BATCH``: the cost follows what is shown.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from piccolo.columns.combination import WhereRaw

from apps.escalations import signals
from apps.escalations.context import MEASURE_LABELS
from apps.escalations.deadlines import OPEN
from apps.escalations.tables import Deadline, Escalation, Measure
from apps.escalations.tally import region_tally
from apps.escalations.timeline import STATUS_NL
from apps.escalations.workspace import Here
from apps.ladders.schema import LadderSpec
from apps.ladders.services import cached_spec
from apps.ladders.tables import LadderVersion
from apps.tenancy.tables import Municipality, Region
from core import keyset
from core.csvexport import CsvSheet
from core.db import contains_ignoring_case
from core.formatting import as_datetime, local_day, nl_date
from core.tenancy import ProviderScope, RegionScope

PAGE_SIZE = 25
CSV_BATCH = 1000
REFERRAL_STOPS = ("instroomstop", "clientenstop")


# --- ladders of the region -----------------------------------------------------------------------------------


@dataclass
class Ladders:
    """The region's ladder versions: the latest spec per ladder (filters, triage) and every version by id."""

    latest: dict[str, LadderSpec] = field(default_factory=dict)  # ladder key -> latest spec
    by_version: dict[Any, LadderSpec] = field(default_factory=dict)  # version id -> spec

    def step_title(self, version_id: Any, step: str) -> str:
        spec = self.by_version.get(version_id)
        try:
            return spec.step(step).title if spec else step
        except KeyError:
            return step

    def category_title(self, version_id: Any, category: str, subcategory: str = "") -> str:
        spec = self.by_version.get(version_id)
        if spec is None:
            return category
        for item in spec.categories:
            if item.key == category:
                sub = item.subcategories.get(subcategory, subcategory)
                return f"{sub}" if subcategory else item.title
        return category

    def step_options(self) -> list[dict]:
        return [
            {"ladder": spec.name, "options": [(f"{key}/{s.key}", s.title) for s in spec.steps]}
            for key, spec in sorted(self.latest.items())
        ]

    def category_options(self) -> list[dict]:
        groups = []
        for key, spec in sorted(self.latest.items()):
            options = []
            for category in spec.categories:
                options.append((f"{key}/{category.key}", category.title))
                for sub, title in category.subcategories.items():
                    options.append((f"{key}/{category.key}/{sub}", f"– {title}"))
            groups.append({"ladder": spec.name, "options": options})
        return groups


async def region_ladders(scope: RegionScope) -> Ladders:
    rows = await scope.select(
        LadderVersion,
        LadderVersion.id,
        LadderVersion.version,
        LadderVersion.definition,
        LadderVersion.sha256,
        LadderVersion.ladder.key.as_alias("ladder_key"),
    ).order_by(LadderVersion.version)
    ladders = Ladders()
    for row in rows:
        spec = cached_spec(row["id"], row["sha256"], row["definition"])  # validated once per process
        ladders.by_version[row["id"]] = spec
        ladders.latest[row["ladder_key"]] = spec  # ordered by version: the last one wins
    return ladders


# --- escalations overview --------------------------------------------------------------------------------------


@dataclass
class Filters:
    stap: str = ""  # "<ladder>/<step>"
    categorie: str = ""  # "<ladder>/<category>" or "<ladder>/<category>/<subcategory>"
    aanbieder: str = ""  # provider id
    status: str = "lopend"  # lopend, afgesloten, alle
    verlopen: bool = False
    zoek: str = ""
    sorteer: str = "termijn"  # termijn, geopend, kenmerk
    na: str = ""  # keyset cursor: the page after this row
    voor: str = ""  # keyset cursor: the page before this row

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        def text(name: str, default: str = "", limit: int = 200) -> str:
            return (query.get(name) or default).strip()[:limit]

        status = text("status", "lopend")
        sort = text("sorteer", "termijn")
        return cls(
            stap=text("stap"),
            categorie=text("categorie"),
            aanbieder=text("aanbieder"),
            status=status if status in ("lopend", "afgesloten", "alle") else "lopend",
            verlopen=query.get("verlopen") in ("1", "ja", "on"),
            zoek=text("zoek", limit=100),
            sorteer=sort if sort in ("termijn", "geopend", "kenmerk") else "termijn",
            na=text("na", limit=300),
            voor=text("voor", limit=300) if not query.get("na") else "",
        )

    def query(self, **changes: Any) -> str:
        """The filter as a query string; a change of filter starts at the first page (no cursor)."""
        values = {**self.__dict__, "na": "", "voor": "", **changes}
        params = {k: v for k, v in values.items() if v not in ("", None, False)}
        if values.get("verlopen"):
            params["verlopen"] = "1"
        if params.get("status") == "lopend":
            params.pop("status")
        if params.get("sorteer") == "termijn":
            params.pop("sorteer")
        return urlencode(params)


def overview_where(scope: RegionScope, filters: Filters, now: datetime, *, with_step: bool = True):
    """The filter as one Piccolo condition (None: no condition)."""
    conditions = []
    if filters.status == "lopend":
        conditions.append(Escalation.status != "closed")
    elif filters.status == "afgesloten":
        conditions.append(Escalation.status == "closed")
    if with_step and "/" in filters.stap:
        ladder, step = filters.stap.split("/", 1)
        conditions.append((Escalation.ladder_version.ladder.key == ladder) & (Escalation.current_step == step))
    if filters.categorie:
        parts = filters.categorie.split("/")
        if len(parts) >= 2:
            conditions.append(Escalation.ladder_version.ladder.key == parts[0])
            conditions.append(Escalation.category == parts[1])
        if len(parts) == 3:
            conditions.append(Escalation.subcategory == parts[2])
    if filters.aanbieder:
        try:
            conditions.append(Escalation.provider == UUID(filters.aanbieder))
        except ValueError:
            conditions.append(Escalation.id.is_null())  # an unknown provider: nothing
    if filters.zoek:
        term = filters.zoek
        if term.isdigit() and len(term) == 8:
            conditions.append(Escalation.provider.kvk_number == term)
        else:
            conditions.append(contains_ignoring_case(Escalation.provider.name, term)
                              | contains_ignoring_case(Escalation.reference, term))  # fmt: skip
    if filters.verlopen:
        # next_due_at is the earliest open deadline: it has passed exactly when one of them has
        conditions.append(Escalation.next_due_at < now)
    condition = None
    for item in conditions:
        condition = item if condition is None else condition & item
    return condition


OVERVIEW_COLUMNS = (
    Escalation.id,
    Escalation.reference,
    Escalation.summary,
    Escalation.status,
    Escalation.current_step,
    Escalation.category,
    Escalation.subcategory,
    Escalation.opened_at,
    Escalation.next_due_at,
    Escalation.ladder_version,
    Escalation.provider.name.as_alias("provider_name"),
    Escalation.provider.kvk_number.as_alias("kvk_number"),
)
COUNT_CAP = 1000


def overview_segments(filters: Filters) -> list[keyset.Segment]:
    """The overview's orders, each served by an index of ``escalation`` (region first):
    termijn: running deadline soonest first (region, next_due_at, id), then those without one, newest first;
    geopend: newest first (region, opened_at, id); kenmerk: by reference (the unique region + reference)."""
    if filters.sorteer == "termijn":
        return [
            keyset.Segment("t", Escalation.next_due_at.is_not_null(), [(Escalation.next_due_at, True),
                                                                        (Escalation.id, True)]),
            keyset.Segment("g", Escalation.next_due_at.is_null(), [(Escalation.opened_at, False),
                                                                    (Escalation.id, False)]),
        ]  # fmt: skip
    if filters.sorteer == "geopend":
        return [keyset.Segment("g", None, [(Escalation.opened_at, False), (Escalation.id, False)])]
    return [keyset.Segment("k", None, [(Escalation.reference, True), (Escalation.id, True)])]


def overview_fetch(scope: RegionScope, filters: Filters, now: datetime) -> keyset.Fetch:
    base = overview_where(scope, filters, now)

    async def fetch(extra: Any, order: keyset.Order, forward: bool, limit: int) -> list[dict]:
        query = scope.select(Escalation, *OVERVIEW_COLUMNS)
        for condition in (base, extra):
            if condition is not None:
                query = query.where(condition)
        for column, ascending in order:
            query = query.order_by(column, ascending=ascending == forward)
        return await query.limit(limit)

    return fetch


def tally_knows(filters: Filters) -> bool:
    """The filter is one of status, step and category only: the region's tally answers its counts exactly."""
    return not (filters.aanbieder or filters.zoek or filters.verlopen)


async def overview_counts(scope: RegionScope, filters: Filters, ladders: Ladders, now: datetime) -> dict[str, Any]:
    """How many escalations the filter finds and how many per step (the step filter left out), without reading
    the region's escalations: from the tally when it knows the filter; otherwise from at most ``COUNT_CAP`` + 1
    rows, and when there are more the page says "meer dan 1.000" and shows no counts per step."""
    if tally_knows(filters):
        parts = filters.categorie.split("/") if filters.categorie else []
        ladder = parts[0] if len(parts) >= 2 else ""

        def ladder_of(version_id: Any) -> str:
            spec = ladders.by_version.get(version_id)
            return spec.key if spec else ""

        step_ladder, step = filters.stap.split("/", 1) if "/" in filters.stap else ("", "")
        rows = (await region_tally(scope)).matching(
            status=filters.status, ladder_of=ladder_of, ladder=ladder, category=parts[1] if len(parts) >= 2 else "",
            subcategory=parts[2] if len(parts) == 3 else "",
        )  # fmt: skip
        per_step: dict[tuple[str, str], int] = {}
        for row in rows:
            key = (ladder_of(row["ladder_version"]), row["current_step"])
            per_step[key] = per_step.get(key, 0) + row["escalations"]
        total = per_step.get((step_ladder, step), 0) if step else sum(per_step.values())
        return {"total": total, "capped": False, "per_step": per_step}
    step_condition = overview_where(scope, filters, now, with_step=False)
    query = scope.select(Escalation, Escalation.ladder_version.ladder.key.as_alias("ladder_key"),
                         Escalation.current_step)  # fmt: skip
    found = await (query.where(step_condition) if step_condition is not None else query).limit(COUNT_CAP + 1)
    per_step = {}
    if len(found) <= COUNT_CAP:
        for row in found:
            key = (row["ladder_key"], row["current_step"])
            per_step[key] = per_step.get(key, 0) + 1
    if "/" in filters.stap:
        total, capped = await keyset.capped_rows(scope, Escalation, overview_where(scope, filters, now), COUNT_CAP)
    else:
        total, capped = (COUNT_CAP, True) if len(found) > COUNT_CAP else (len(found), False)
    return {"total": total, "capped": capped, "per_step": per_step}


async def overview(scope: RegionScope, filters: Filters, ladders: Ladders, now: datetime) -> dict[str, Any]:
    counted = await overview_counts(scope, filters, ladders, now)
    total, capped = counted["total"], counted["capped"]
    fetch, segments = overview_fetch(scope, filters, now), overview_segments(filters)
    found = await keyset.page(fetch, segments, PAGE_SIZE, after=filters.na, before=filters.voor)
    if not found.rows and (filters.na or filters.voor):  # a stale or foreign cursor: the first page
        found = await keyset.page(fetch, segments, PAGE_SIZE)
    titles = {f"{key}/{s.key}": (spec.name, s.title) for key, spec in ladders.latest.items() for s in spec.steps}
    order = {name: i for i, name in enumerate(titles)}
    step_counts = sorted(
        (
            {
                "value": f"{ladder_key}/{step}",
                "ladder": titles.get(f"{ladder_key}/{step}", (ladder_key, ""))[0],
                "title": titles.get(f"{ladder_key}/{step}", ("", step))[1],
                "count": count,
            }
            for (ladder_key, step), count in counted["per_step"].items()
            if count
        ),
        key=lambda item: order.get(item["value"], 10_000),
    )
    return {"rows": [describe_row(row, ladders, now) for row in found.rows], "total": total, "capped": capped,
            "total_nl": keyset.count_nl(total, capped), "next": found.next, "previous": found.previous,
            "step_counts": step_counts}  # fmt: skip


def describe_row(row: dict, ladders: Ladders, now: datetime) -> dict:
    next_due = as_datetime(row.get("next_due_at"))
    return {
        **row,
        "step_title": ladders.step_title(row["ladder_version"], row["current_step"]),
        "category_title": ladders.category_title(row["ladder_version"], row["category"], row["subcategory"]),
        "status_nl": STATUS_NL.get(row["status"], row["status"]),
        "next_due": next_due,
        "next_due_nl": nl_date(next_due) if next_due else "",
        "overdue": bool(next_due and next_due < now),
        "opened_nl": nl_date(row["opened_at"]),
    }


async def providers_for_filter(scope: RegionScope, chosen: str = "") -> tuple[list[signals.ProviderChoice], bool]:
    """The providers to choose from in the filter, by name, and whether that is all of them: a region with more
    than ``signals.PROVIDER_CHOICES`` (thousands, nationally) gets only the chosen one; the search finds the others
    (the signal form's lists, ``signals.provider_choices``)."""
    choices = await signals.provider_choices(scope)
    if choices is not None:
        return choices, True
    one = await signals.provider_of_region(scope, chosen) if chosen else None
    return ([one] if one else []), False



OVERVIEW_CSV_HEADER = ["kenmerk", "aanbieder", "kvk_nummer", "ladder", "categorie", "stap", "status", "geopend_op",
                       "volgende_termijn", "termijn_verlopen", "samenvatting"]  # fmt: skip


async def overview_csv(scope: RegionScope, filters: Filters, ladders: Ladders, now: datetime) -> AsyncIterator[str]:
    """The filtered overview as CSV, every row (not one page), read and sent in batches of ``CSV_BATCH``."""
    sheet = CsvSheet(OVERVIEW_CSV_HEADER)  # the dialect of every export: core.csvexport
    fetch, segments = overview_fetch(scope, filters, now), overview_segments(filters)
    cursor = ""
    while True:
        batch = await keyset.page(fetch, segments, CSV_BATCH, after=cursor)
        for raw in batch.rows:
            row = describe_row(raw, ladders, now)
            spec = ladders.by_version.get(row["ladder_version"])
            sheet.row((
                row["reference"], row["provider_name"], row["kvk_number"], spec.name if spec else "",
                row["category_title"], row["step_title"], row["status_nl"],
                local_day(row["opened_at"]), local_day(row["next_due"]), row["overdue"], row["summary"],
            ))  # fmt: skip
        yield sheet.take()
        if batch.next is None:
            break
        cursor = batch.next


# --- the API lists: by next deadline, by keyset ---------------------------------------------------------------


def deadline_segments(now: datetime, *, overdue_only: bool) -> list[keyset.Segment]:
    """The API lists' order: running deadline soonest first (index region, next_due_at, id), then, unless only the
    overdue ones are asked for, those without one, newest first (region, opened_at, id)."""
    with_due = Escalation.next_due_at.is_not_null()
    if overdue_only:
        with_due &= Escalation.next_due_at <= now
    segments = [keyset.Segment("t", with_due, [(Escalation.next_due_at, True), (Escalation.id, True)])]
    if not overdue_only:
        segments.append(keyset.Segment("g", Escalation.next_due_at.is_null(), [(Escalation.opened_at, False),
                                                                               (Escalation.id, False)]))  # fmt: skip
    return segments


def scoped_fetch(reader: RegionScope | ProviderScope, columns: tuple, condition: Any) -> keyset.Fetch:
    """The keyset fetch of a filtered list of escalations through one scope."""

    def query():
        found = reader.select(Escalation, *columns)
        return found.where(condition) if condition is not None else found

    return keyset.select_fetch(query)


async def next_deadlines(reader: RegionScope | ProviderScope, rows: list[dict]) -> dict[UUID, Any]:
    """The next running deadline of each row (id, step, key, due_at; no row objects): one query for the page."""
    if not rows:
        return {}
    found: dict[UUID, Any] = {}
    deadlines = await reader.select(Deadline, Deadline.id, Deadline.escalation, Deadline.step, Deadline.key,
                                    Deadline.due_at).where(
        Deadline.escalation.is_in([row["id"] for row in rows]) & (Deadline.status == OPEN)
    ).order_by(Deadline.due_at)  # fmt: skip
    for deadline in deadlines:
        found.setdefault(deadline["escalation"], SimpleNamespace(**deadline))
    return found


# --- the register of intake stops ---------------------------------------------------------------------------------


STOPS_PAGE = 50
# The referral stops in force, the kinds as literals: the partial index measure_stop_in_force (region, started_at,
# id) WHERE ended_at IS NULL AND kind IN ('instroomstop', 'clientenstop') then serves every plan of these queries.
IN_FORCE = WhereRaw(f"ended_at IS NULL AND kind IN ({', '.join(repr(kind) for kind in REFERRAL_STOPS)})")
STOP_ORDER = [keyset.Segment("s", None, [(Measure.started_at, False), (Measure.id, False)])]


def stops_query(scope: RegionScope) -> Any:
    """The stops in force with what the register shows of them (``test_list_query_plans`` reads its plan)."""
    return scope.select(
        Measure, Measure.id, Measure.kind, Measure.started_at, Measure.scope, Measure.escalation,
        Measure.provider.name.as_alias("provider_name"), Measure.provider.kvk_number.as_alias("kvk_number"),
        Measure.escalation.reference.as_alias("reference"),
    ).where(IN_FORCE)  # fmt: skip


async def intake_stops(h: Here) -> list[dict]:
    """Every referral stop in force in the region, newest first, with the municipalities that must follow them:
    for the register's CSV and JSON (a download of the whole register); pages read ``intake_stop_page``."""
    newest_first = stops_query(h.scope).order_by(Measure.started_at, ascending=False)
    rows = await newest_first.order_by(Measure.id, ascending=False)
    return await _describe_stops(h, rows)


async def intake_stop_page(h: Here, *, size: int = STOPS_PAGE, after: str = "", before: str = "") -> keyset.Page:
    """One page of the stops in force, newest first, by keyset on the partial index measure_stop_in_force."""
    found = await keyset.first_page_if_stale(keyset.select_fetch(lambda: stops_query(h.scope)), STOP_ORDER, size,
                                             after=after, before=before)  # fmt: skip
    return keyset.Page(await _describe_stops(h, found.rows), found.next, found.previous)


async def intake_stop_count(h: Here) -> int:
    """How many stops are in force: one range of the partial index, however many the region has."""
    return await h.scope.count(Measure).where(IN_FORCE)


async def _describe_stops(h: Here, rows: list[dict]) -> list[dict]:
    names = {}
    if rows:
        names = {m["cbs_code"]: m["name"] for m in await h.scope.select(Municipality, Municipality.cbs_code,
                                                                       Municipality.name)}  # fmt: skip
    return [
        {
            "id": str(row["id"]),
            "provider": row["provider_name"],
            "kvk_number": row["kvk_number"],
            "measure": MEASURE_LABELS.get(row["kind"], row["kind"]),
            "kind": row["kind"],
            "since": nl_date(row["started_at"]),
            "since_iso": str(local_day(row["started_at"]) or ""),
            "municipalities": [{"cbs_code": code, "name": names.get(code, code)} for code in row["scope"] or []],
            "reference": row["reference"],
            "escalation_id": str(row["escalation"]),
        }
        for row in rows
    ]


def intake_stops_csv(stops: list[dict]) -> str:
    sheet = CsvSheet(["aanbieder", "kvk_nummer", "maatregel", "sinds", "escalatie", "aantal_gemeenten",
                      "gemeenten"])  # fmt: skip
    for stop in stops:
        since = date.fromisoformat(stop["since_iso"]) if stop["since_iso"] else None
        sheet.row((
            stop["provider"], stop["kvk_number"], stop["measure"], since, stop["reference"],
            len(stop["municipalities"]), "; ".join(m["name"] for m in stop["municipalities"]),
        ))  # fmt: skip
    return sheet.take()


def intake_stops_json(region: Region, today: date, stops: list[dict]) -> str:
    body = {
        "regio": {"slug": region.slug, "naam": region.name},
        "peildatum": today.isoformat(),
        "instroomstops": [
            {"aanbieder": s["provider"], "kvk_nummer": s["kvk_number"], "maatregel": s["kind"],
             "sinds": s["since_iso"], "escalatie": s["reference"], "gemeenten": s["municipalities"]}
            for s in stops
        ],
    }  # fmt: skip
    return json.dumps(body, ensure_ascii=False)
