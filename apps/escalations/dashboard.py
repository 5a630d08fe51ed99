"""The region's dashboard on its home page (``/regio/<slug>``): open escalations by step and by category, the
deadlines due this week and those overdue, the intake stops in force, and escalations opened and closed per month
over the last 12 months (an SVG bar chart with the same numbers in a table beside it).

Every query goes through ``RegionScope`` and counts in SQL (grouped counts, one ``SUM(CASE …)`` row for the 12
months), so the page costs the same handful of queries with ten or ten thousand escalations. Months and weeks are
Dutch (Europe/Amsterdam) calendar months and weeks, from the app's clock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from apps.escalations.overview import Ladders, intake_stop_count, intake_stop_page, region_ladders
from apps.escalations.tables import Deadline, Escalation
from apps.escalations.tally import Tally, region_tally
from apps.escalations.timeline import DOCUMENT_NL
from apps.escalations.workspace import Here
from apps.ladders.schema import LadderSpec
from core.formatting import AMSTERDAM, MONTH_NAMES, nl_date
from core.tenancy import RegionScope

MONTHS = 12
DEADLINE_LIST = 15  # deadlines listed by name; the counts are complete, the overview has the rest
MONTH_ABBR = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


def deadline_label(spec: LadderSpec | None, step: str, key: str) -> str:
    """What a deadline is about, in a few Dutch words: the document it asks for ("Plan van aanpak"), else the
    term's title as the ladder writes it (without its question mark), else its key."""
    term = None
    if spec is not None:
        try:
            term = next((t for t in spec.step(step).terms if t.key == key), None)
        except KeyError:
            term = None
    if term is not None and term.met_by.startswith("document:"):
        document = term.met_by.split(":", 1)[1]
        return DOCUMENT_NL.get(document, document.replace("_", " ")).capitalize()
    if term is not None and term.title:
        return term.title.rstrip(" ?")
    return key.replace("_", " ").capitalize()


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), AMSTERDAM)


# --- the monthly chart -------------------------------------------------------------------------------------------


@dataclass
class Month:
    start: date
    opened: int
    closed: int

    @property
    def label(self) -> str:
        return f"{MONTH_ABBR[self.start.month - 1]} {self.start.year % 100:02d}"

    @property
    def name(self) -> str:
        return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"


async def opened_and_closed_per_month(h: Here, today: date) -> list[Month]:
    """Escalations opened and closed in each of the last 12 Dutch calendar months (this month last): one row of
    ``SUM(CASE …)`` per column, each over one index range (``escalation_region_opened``,
    ``escalation_region_closed``: region, then the moment), never the region's other escalations."""
    starts = [month_start(today, back) for back in range(MONTHS - 1, -1, -1)]
    bounds = [local_midnight(day) for day in [*starts, month_start(today, -1)]]
    row: dict = {}
    for column in ("opened_at", "closed_at"):
        row |= await month_sums_query(h.scope, column, bounds).first() or {}

    def in_month(name: str, i: int) -> int:
        return int(row.get(f"{name}_{i}") or 0) - (int(row.get(f"{name}_{i - 1}") or 0) if i else 0)

    return [Month(start, in_month("opened", i), in_month("closed", i)) for i, start in enumerate(starts)]


def month_sums_query(scope: RegionScope, column: str, bounds: list[datetime]) -> Any:
    """One row of cumulative sums over one index range of ``column`` (``opened_at``, ``closed_at``): month i is the
    difference of two sums."""
    sums = [
        QueryString(f"SUM(CASE WHEN {column} < {{}} THEN 1 ELSE 0 END) AS {column[:-3]}_{i}", bounds[i + 1])
        for i in range(len(bounds) - 1)
    ]
    in_range = (getattr(Escalation, column) >= bounds[0]) & (getattr(Escalation, column) < bounds[-1])
    return scope.select(Escalation, *sums).where(in_range)


@dataclass
class Bar:
    x: float
    y: float
    height: float
    value: int


def chart(months: list[Month]) -> dict[str, Any]:
    """Bar geometry for the SVG (the template only draws): two bars per month, value labels above the bars,
    so nothing depends on telling the two fills apart."""
    width, height, left, bottom, top = 720, 260, 36, 40, 24
    plot_height = height - bottom - top
    slot = (width - left - 8) / len(months)
    bar = slot * 0.34
    highest = max([1] + [m.opened for m in months] + [m.closed for m in months])
    step = max(1, -(-highest // 4))  # four grid lines, whole numbers
    scale_max = step * 4

    def bar_of(value: int, x: float) -> Bar:
        bar_height = plot_height * value / scale_max
        return Bar(x=round(x, 1), y=round(top + plot_height - bar_height, 1), height=round(bar_height, 1),
                   value=value)  # fmt: skip

    groups = []
    for i, month in enumerate(months):
        x0 = left + i * slot + slot * 0.12
        groups.append({
            "month": month,
            "opened": bar_of(month.opened, x0),
            "closed": bar_of(month.closed, x0 + bar + 2),
            "label_x": round(left + i * slot + slot / 2, 1),
        })  # fmt: skip
    grid = [{"value": step * k, "y": round(top + plot_height - plot_height * k / 4, 1)} for k in range(5)]
    return {"width": width, "height": height, "left": left, "bar_width": round(bar, 1), "groups": groups,
            "grid": grid, "baseline": top + plot_height, "label_y": height - bottom + 16}  # fmt: skip


# --- counts and lists ------------------------------------------------------------------------------------------------


async def open_groups(h: Here, ladders: Ladders, tally: Tally | None = None) -> list[dict]:
    """Open escalations counted per ladder version, step and category: the region's tally rows (kept by the
    database on every change of an escalation, ``apps.escalations.tally``), not its escalations. The version's
    ladder key comes from the already loaded specs."""
    tally = tally or await region_tally(h.scope)
    rows = [{**row, "aantal": row["escalations"]} for row in tally.matching(status="lopend")]
    for row in rows:
        spec = ladders.by_version.get(row["ladder_version"])
        row["ladder_key"] = spec.key if spec else str(row["ladder_version"])
    return rows


def open_by_step(groups: list[dict], ladders: Ladders) -> list[dict]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in groups:
        counts[(row["ladder_key"], row["current_step"])] += row["aantal"]
    found = []
    for (ladder_key, step), count in counts.items():
        spec = ladders.latest.get(ladder_key)
        steps = [s.key for s in spec.steps] if spec else []
        title = next((s.title for s in spec.steps if s.key == step), step) if spec else step
        found.append({"ladder": spec.name if spec else ladder_key, "title": title, "count": count,
                      "filter": f"{ladder_key}/{step}",
                      "_order": (ladder_key, steps.index(step) if step in steps else 999)})  # fmt: skip
    return sorted(found, key=lambda item: item["_order"])


def open_by_category(groups: list[dict], ladders: Ladders) -> list[dict]:
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in groups:
        counts[(row["ladder_key"], row["category"], row["subcategory"])] += row["aantal"]
    found = []
    for (ladder_key, category_key, sub_key), count in counts.items():
        spec = ladders.latest.get(ladder_key)
        category = next((c for c in spec.categories if c.key == category_key), None) if spec else None
        title = category.title if category else category_key
        sub = category.subcategories.get(sub_key, sub_key) if category else sub_key
        value = f"{ladder_key}/{category_key}" + (f"/{sub_key}" if sub_key else "")
        found.append({"ladder": spec.name if spec else ladder_key, "title": title, "subtitle": sub, "count": count,
                      "filter": value})  # fmt: skip
    return sorted(found, key=lambda item: (item["ladder"], item["title"], item["subtitle"]))


DEADLINE_COLUMNS = (Deadline.id, Deadline.step, Deadline.key, Deadline.term, Deadline.due_at, Deadline.escalation)


def due_between_queries(scope: RegionScope, start: datetime | None, end: datetime) -> tuple[Any, Any]:
    """How many open deadlines are due in [start, end), and the first ``DEADLINE_LIST`` of them by due date. The
    status as a literal: the partial index deadline_open_region_due (region, due_at) WHERE status = 'open' then
    serves every plan, also a prepared statement's generic one; the count is an index-only range."""
    condition = WhereRaw("status = 'open'") & (Deadline.due_at < end)
    if start is not None:
        condition &= Deadline.due_at >= start
    first = scope.select(Deadline, *DEADLINE_COLUMNS).where(condition).order_by(Deadline.due_at).limit(DEADLINE_LIST)
    return scope.count(Deadline).where(condition), first


async def deadlines_between(h: Here, ladders: Ladders, start: datetime | None, end: datetime) -> dict[str, Any]:
    """Open deadlines due in [start, end): how many, and the first ones by due date. The first ones are found
    without joins (the due-date index does the work), then their escalations are read in one query."""
    count, first = due_between_queries(h.scope, start, end)
    total = await count
    rows = await first
    escalations = {}
    if rows:
        found = await h.scope.select(
            Escalation, Escalation.id, Escalation.reference, Escalation.ladder_version,
            Escalation.provider.name.as_alias("provider_name"),
        ).where(Escalation.id.is_in(list({row["escalation"] for row in rows})))  # fmt: skip
        escalations = {row["id"]: row for row in found}
    items = []
    for row in rows:
        escalation = escalations.get(row["escalation"], {})
        spec = ladders.by_version.get(escalation.get("ladder_version"))
        items.append(
            {
                "title": deadline_label(spec, row["step"], row["key"]),
                "term": row["term"],
                "due": nl_date(row["due_at"]),
                "due_iso": row["due_at"].isoformat() if isinstance(row["due_at"], datetime) else str(row["due_at"]),
                "reference": escalation.get("reference", ""),
                "provider": escalation.get("provider_name", ""),
                "url": f"{h.base()}/escalaties/{row['escalation']}",
            }
        )
    return {"total": total, "rows": items, "more": max(0, total - len(items))}


async def region_dashboard(h: Here, stops: list[dict] | None = None, tally: Tally | None = None,
                           stops_total: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Everything the dashboard shows, for a person who reads the region's escalations. ``stops``: the newest
    intake stops in force and ``stops_total`` how many there are, ``tally``: the region's counts, when the page has
    read them already (the home page counts them too): read once."""
    now = h.clock.now()
    today = now.astimezone(AMSTERDAM).date()
    week_end = local_midnight(today + timedelta(days=7 - today.weekday()))  # next Monday 00:00, Dutch time
    ladders = await region_ladders(h.scope)
    months = await opened_and_closed_per_month(h, today)
    stops = (await intake_stop_page(h, size=DEADLINE_LIST)).rows if stops is None else stops
    stops_total = await intake_stop_count(h) if stops_total is None else stops_total
    groups = await open_groups(h, ladders, tally)
    return {
        "today": nl_date(today),
        "week_end": nl_date(week_end - timedelta(days=1)),
        "by_step": open_by_step(groups, ladders),
        "by_category": open_by_category(groups, ladders),
        "due_this_week": await deadlines_between(h, ladders, now, week_end),
        "overdue": await deadlines_between(h, ladders, None, now),
        "stops": stops,
        "stops_total": stops_total,
        "stops_more": max(0, stops_total - len(stops)),
        "months": months,
        "chart": chart(months),
        "first_month": months[0].name,
        "last_month": months[-1].name,
        "opened_total": sum(m.opened for m in months),
        "closed_total": sum(m.closed for m in months),
    }
