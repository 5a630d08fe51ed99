"""The region's workspace (issue 5): signals and their triage, the escalations overview, the escalation page with
its ladder, deadlines, measures, actions and timeline, and the register of intake stops.

Thin controllers: the rules are in ``services`` / ``transitions`` / ``signals``; this module reads rows through
``RegionScope`` and renders Dutch pages. Every form works without JavaScript (POST, then redirect: PRG); with htmx
the same form posts in the background and only the changed part of the page is swapped (``HTMXBlockTemplate``).
Validation errors are shown next to the field with what was typed; htmx requests get them as 200 with
``HX-Retarget`` (htmx 2 swaps no 4xx), other requests as 422 with the full page.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect, Response, Stream, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from markupsafe import Markup
from piccolo.engine import engine_finder
from piccolo.query.functions.aggregate import Count
from piccolo.querystring import QueryString

from apps.accounts.guards import PERSON, region_role
from apps.accounts.roles import DECIDES, IMPOSES_MEASURES, Role
from apps.documents.tables import Document
from apps.escalations import services, signals
from apps.escalations.context import MEASURE_LABELS, MOTIVATION_REQUIRED, EscalationError, imposes_measures
from apps.escalations.deadlines import STATUS_NL as DEADLINE_STATUS_NL
from apps.escalations.letters import letter_title, letters_of, pdf_of, previews
from apps.escalations.tables import Deadline, Escalation, Measure, Signal, TimelineEvent
from apps.ladders.calendar import AMSTERDAM, format_date_nl
from apps.ladders.schema import EndMeasure, LadderSpec, StartMeasure
from apps.ladders.services import spec_of
from apps.ladders.tables import LadderVersion
from apps.providers.tables import Provider
from apps.quality.services import signal_links as quality_signal_links
from apps.tenancy.services import municipalities_on, region_by_slug
from apps.tenancy.tables import Municipality, Region
from core.actor import Actor
from core.clock import Clock, system_clock
from core.tenancy import RegionScope

R = Role
TEAM = (R.INKOOP_MEDEWERKER, R.INKOOP_LEAD)
READERS = (*TEAM, R.WAARNEMER)  # the escalation pages (the observer reads, never decides)
FILERS = (*TEAM, R.GEMEENTE_MEDEWERKER)  # may file a signal
MEMBERS = (*READERS, R.GEMEENTE_MEDEWERKER)  # every member of the region: the register of intake stops

PAGE_SIZE = 25
TIMELINE_PAGE = 20
CSV_BATCH = 1000
REFERRAL_STOPS = ("instroomstop", "clientenstop")
STATUS_NL = {"open": "Lopend", "paused": "Gepauzeerd", "closed": "Afgesloten"}
DOCUMENT_NL = {
    "plan_van_aanpak": "plan van aanpak",
    "verbeterplan": "verbeterplan",
    "bewijsstuk": "bewijsstuk",
    "reactie": "reactie",
    "arrangement": "arrangement",
    "gezinsplan": "gezinsplan",
    "jaarverslag": "jaarverslag",
    "kwartaalrapportage": "kwartaalrapportage",
    "financiele_verantwoording": "financiële verantwoording",
    "brief": "brief",
}
# Outcomes for closing an escalation outside the ladder's final steps (the ladder's own outcomes come with them).
DEADLINE_ACTIONS = {"opschorten": "opgeschort", "hervatten": "hervat", "verlengen": "verlengd"}  # -> notice
CLOSE_OUTCOMES = {
    "hersteld": "Hersteld: de tekortkoming is opgelost",
    "ingetrokken": "Ingetrokken: het signaal bleek onterecht",
    "overgedragen": "Overgedragen aan een andere regio of instantie",
    "samengevoegd": "Samengevoegd met een andere escalatie",
}


# --- shared helpers ------------------------------------------------------------------------------------------


@dataclass
class Here:
    """The region of the path, the person and their actor in it."""

    region: Region
    scope: RegionScope
    person: Any
    actor: Actor
    clock: Clock = system_clock  # the app's clock (``app.state.clock``): tests move time instead of sleeping

    @property
    def can_decide(self) -> bool:
        return self.actor.has_any(DECIDES)

    @property
    def is_lead(self) -> bool:
        return self.actor.has_any(IMPOSES_MEASURES)

    @property
    def reads_escalations(self) -> bool:
        return bool(self.actor.roles & set(READERS))

    def base(self) -> str:
        return f"/regio/{self.region.slug}"

    def context(self, section: str, **extra: Any) -> dict[str, Any]:
        return {
            "region": self.region,
            "section": section,
            "base": self.base(),
            "can_decide": self.can_decide,
            "is_lead": self.is_lead,
            "reads_escalations": self.reads_escalations,
            "can_file": bool(self.actor.roles & set(FILERS)),
            **extra,
        }


async def here(request: Request, region_slug: str) -> Here:
    region = await region_by_slug(region_slug)
    person = request.scope["state"].get(PERSON)
    actor = person.region_actor(region.id) if region is not None and person is not None else None
    if region is None or actor is None:  # the guard already said so; never answer more than 404
        raise NotFoundException()
    clock = getattr(request.app.state, "clock", None) or system_clock
    return Here(region=region, scope=RegionScope(region.id), person=person, actor=actor, clock=clock)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def as_datetime(value: Any) -> datetime | None:
    """A timestamp as the database returned it (datetime on PostgreSQL, ISO text from raw SQL on SQLite)."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        moment = datetime.fromisoformat(str(value).replace(" ", "T"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_day(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    moment = as_datetime(value)
    return moment.astimezone(AMSTERDAM).date() if moment else None


def nl_date(value: Any) -> str:
    day = local_day(value)
    return format_date_nl(day) if day else ""


def nl_datetime(value: Any) -> str:
    moment = as_datetime(value)
    if moment is None:
        return ""
    local = moment.astimezone(AMSTERDAM)
    return f"{format_date_nl(local.date())}, {local:%H:%M}"


def iso(value: Any) -> str:
    moment = as_datetime(value)
    return moment.isoformat() if moment else ""


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not execute as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def new_key() -> str:
    return uuid.uuid4().hex


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
        LadderVersion.ladder.key.as_alias("ladder_key"),
    ).order_by(LadderVersion.version)
    ladders = Ladders()
    for row in rows:
        spec = LadderSpec.model_validate(row["definition"])
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
    pagina: int = 1

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        def text(name: str, default: str = "", limit: int = 200) -> str:
            return (query.get(name) or default).strip()[:limit]

        try:
            page = max(1, min(int(query.get("pagina") or 1), 100_000))
        except ValueError:
            page = 1
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
            pagina=page,
        )

    def query(self, **changes: Any) -> str:
        values = {**self.__dict__, **changes}
        params = {k: v for k, v in values.items() if v not in ("", None, False, 1) or (k == "pagina" and v != 1)}
        if values.get("verlopen"):
            params["verlopen"] = "1"
        if params.get("status") == "lopend":
            params.pop("status")
        if params.get("sorteer") == "termijn":
            params.pop("sorteer")
        return urlencode(params)


NEXT_DUE_SQL = "(SELECT MIN(d.due_at) FROM deadline d WHERE d.escalation = escalation.id AND d.status = 'open')"


def _ilike(column: Any, pattern: str):
    """Case-insensitive LIKE: ILIKE on PostgreSQL; SQLite's LIKE already ignores case (for ASCII)."""
    return column.ilike(pattern) if engine_finder().engine_type == "postgres" else column.like(pattern)


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
        like = f"%{term.replace('%', '').replace('_', '')}%"
        if term.isdigit() and len(term) == 8:
            conditions.append(Escalation.provider.kvk_number == term)
        else:
            conditions.append(_ilike(Escalation.provider.name, like) | _ilike(Escalation.reference, like))
    if filters.verlopen:
        overdue = scope.select(Deadline, Deadline.escalation).where(
            (Deadline.status == "open") & (Deadline.due_at < now)
        )
        conditions.append(Escalation.id.is_in(overdue))
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
    Escalation.ladder_version,
    Escalation.provider.name.as_alias("provider_name"),
    Escalation.provider.kvk_number.as_alias("kvk_number"),
)


def overview_query(scope: RegionScope, filters: Filters, now: datetime):
    query = scope.select(Escalation, *OVERVIEW_COLUMNS, QueryString(f"{NEXT_DUE_SQL} AS next_due"))
    condition = overview_where(scope, filters, now)
    if condition is not None:
        query = query.where(condition)
    if filters.sorteer == "termijn":
        # Running escalations with the earliest open deadline first; those without one at the end.
        query = query.order_by(QueryString(f"{NEXT_DUE_SQL} IS NULL"), QueryString(NEXT_DUE_SQL))
        query = query.order_by(Escalation.opened_at, ascending=False)
    elif filters.sorteer == "geopend":
        query = query.order_by(Escalation.opened_at, ascending=False)
    else:
        query = query.order_by(Escalation.reference)
    return query.order_by(Escalation.id)


async def overview(scope: RegionScope, filters: Filters, ladders: Ladders, now: datetime) -> dict[str, Any]:
    condition = overview_where(scope, filters, now)
    count = scope.count(Escalation)
    total = await (count.where(condition) if condition is not None else count)
    pages = max(1, -(-total // PAGE_SIZE))
    filters.pagina = min(filters.pagina, pages)
    rows = await overview_query(scope, filters, now).limit(PAGE_SIZE).offset((filters.pagina - 1) * PAGE_SIZE)
    step_condition = overview_where(scope, filters, now, with_step=False)
    per_step = scope.select(
        Escalation,
        Escalation.ladder_version.ladder.key.as_alias("ladder_key"),
        Escalation.current_step,
        Count(alias="aantal"),
    ).group_by(Escalation.ladder_version.ladder.key, Escalation.current_step)
    counts = await (per_step.where(step_condition) if step_condition is not None else per_step)
    titles = {f"{key}/{s.key}": (spec.name, s.title) for key, spec in ladders.latest.items() for s in spec.steps}
    order = {name: i for i, name in enumerate(titles)}
    step_counts = sorted(
        (
            {
                "value": f"{row['ladder_key']}/{row['current_step']}",
                "ladder": titles.get(f"{row['ladder_key']}/{row['current_step']}", (row["ladder_key"], ""))[0],
                "title": titles.get(f"{row['ladder_key']}/{row['current_step']}", ("", row["current_step"]))[1],
                "count": row["aantal"],
            }
            for row in counts
        ),
        key=lambda item: order.get(item["value"], 10_000),
    )
    return {"rows": [describe_row(row, ladders, now) for row in rows], "total": total, "pages": pages,
            "step_counts": step_counts}  # fmt: skip


def describe_row(row: dict, ladders: Ladders, now: datetime) -> dict:
    next_due = as_datetime(row.get("next_due"))
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


async def providers_for_filter(scope: RegionScope) -> list[signals.ProviderChoice]:
    return await signals.providers_of_region(scope)


# --- the escalation page -----------------------------------------------------------------------------------------

EVENT_TITLES = {
    "escalatie_geopend": "Escalatie geopend",
    "stap_gewijzigd": "Stap gezet",
    "escalatie_gesloten": "Escalatie afgesloten",
    "maatregel_gestart": "Maatregel gestart",
    "maatregel_beeindigd": "Maatregel opgeheven",
    "melding_verstuurd": "Melding verstuurd",
    "document_gevraagd": "Document gevraagd",
    "brief_verstuurd": "Brief verstuurd",
    "notitie": "Interne notitie",
    "bericht": "Bericht",
    "volgende_stap_voorgesteld": "Volgende stap voorgesteld",
    "signaal_gekoppeld": "Signaal gekoppeld",
    "termijn_gehaald": "Termijn gehaald",
    "termijn_verlopen": "Termijn verlopen",
    "termijn_opgeschort": "Termijn opgeschort",
    "termijn_hervat": "Termijn hervat",
    "termijn_verlengd": "Termijn verlengd",
    "herinnering_verstuurd": "Herinnering verstuurd",
}


async def deliveries(scope: RegionScope, events: list[TimelineEvent]) -> dict[Any, str]:
    """For each notice event: how many of its mails were delivered, when the last one went, and what failed."""
    from apps.notifications.tables import Notification

    found = {}
    for event in events:
        if event.kind != "melding_verstuurd":
            continue
        rows = await scope.select(Notification, Notification.status, Notification.sent_at).where(
            Notification.idempotency_key.like(f"{event.id}:%") & (Notification.channel == "email")
        )
        if not rows:
            continue
        sent = [row["sent_at"] for row in rows if row["status"] == "sent" and row["sent_at"]]
        failed = sum(1 for row in rows if row["status"] == "failed")
        text = f"Bezorgd: {len(sent)} van {len(rows)}"
        if sent:
            text += f" (laatste {nl_datetime(max(sent))})"
        if failed:
            text += f"; {failed} mislukt"
        found[event.id] = text + "."
    return found


def describe_event(event: TimelineEvent, delivery: str = "") -> dict[str, Any]:
    """One timeline event as the page shows it: a title, a line of detail, the text, who and when."""
    p = event.payload or {}
    kind = event.kind
    detail = ""
    text = ""
    link = None  # {"href", "text"}: a download that belongs to the event
    if kind == "escalatie_geopend":
        detail = f"In stap ‘{p.get('stap_titel', p.get('stap', ''))}’ (ladder versie {p.get('versie', '')})."
    elif kind == "stap_gewijzigd":
        detail = f"Van ‘{p.get('van_titel', '')}’ naar ‘{p.get('naar_titel', '')}’."
        if p.get("automatisch"):
            detail += " Automatisch volgens de ladder."
    elif kind == "escalatie_gesloten":
        detail = f"Uitkomst: {p.get('uitkomst', '')}."
    elif kind in ("maatregel_gestart", "maatregel_beeindigd"):
        label = str(p.get("maatregel_titel") or p.get("maatregel", "")).capitalize()
        count = p.get("aantal_gemeenten") or len(p.get("gemeenten") or [])
        verb = "geldt voor" if kind == "maatregel_gestart" else "opgeheven voor"
        detail = f"{label} {verb} {count} gemeenten."
    elif kind == "melding_verstuurd":
        detail = f"Aan {p.get('aantal', 0)} ontvanger(s)." + (f" {delivery}" if delivery else "")
        text = p.get("bericht", "")
    elif kind == "document_gevraagd":
        document = DOCUMENT_NL.get(p.get("document", ""), p.get("document", ""))
        due = p.get("vervaldatum_tekst")
        detail = f"De aanbieder levert een {document}" + (f" uiterlijk {due}." if due else ".")
    elif kind == "brief_verstuurd":
        title = p.get("titel") or str(p.get("brief", "")).replace("_", " ")
        if p.get("document_id"):
            detail = f"Brief ‘{title}’ als PDF aan de aanbieder verstuurd."
            # relative to the escalation page (/regio/<slug>/escalaties/<id>): the region's authorised download
            link = {"href": f"../documenten/{p['document_id']}", "text": f"{p.get('bestandsnaam') or 'brief'} (PDF)"}
        else:  # recorded before letters were rendered
            detail = f"Brief ‘{title}’ aangevraagd."
    elif kind in ("notitie", "bericht"):
        text = p.get("tekst", "")
        if kind == "bericht":
            detail = "Van de aanbieder." if p.get("van") == "aanbieder" else "Van het team inkoop aan de aanbieder."
    elif kind == "volgende_stap_voorgesteld":
        detail = f"Voorstel: ‘{p.get('stap_titel', '')}’. {p.get('aanleiding', '')}"
    elif kind == "signaal_gekoppeld":
        detail = f"Gemeld door {p.get('gemeld_door', '')}."
        text = p.get("tekst", "")
    elif kind.startswith("termijn_"):
        detail = str(p.get("titel") or p.get("termijn") or "")
        if p.get("vervaldatum"):
            with contextlib.suppress(ValueError):
                detail += f" (vervaldatum {format_date_nl(date.fromisoformat(p['vervaldatum']))})"
    return {
        "id": str(event.id),
        "sequence": event.sequence,
        "kind": kind,
        "title": EVENT_TITLES.get(kind, kind.replace("_", " ").capitalize()),
        "detail": detail,
        "text": text,
        "motivation": event.motivation,
        "internal": event.visibility == services.INTERNAL,
        "actor": event.actor_label or "Systeem",
        "when": nl_datetime(event.occurred_at),
        "iso": iso(event.occurred_at),
        "link": link,
    }


@dataclass
class Loaded:
    escalation: Escalation
    spec: LadderSpec
    version: LadderVersion
    provider: Provider | None


async def load_escalation(scope: RegionScope, escalation_id: Any) -> Loaded:
    escalation = await scope.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFoundException()
    version = await scope.get(LadderVersion, escalation.ladder_version)
    provider = await Provider.objects().where(Provider.id == escalation.provider).first()
    return Loaded(escalation, spec_of(version), version, provider)


def measures_of(step) -> tuple[list[str], list[str]]:
    starts = [a.measure for a in step.on_enter if isinstance(a, StartMeasure)]
    ends = [a.measure for a in step.on_enter if isinstance(a, EndMeasure)]
    return starts, ends


def action_options(loaded: Loaded, hereabouts: Here) -> list[dict]:
    """The steps the escalation's own ladder version allows from here, as forms."""
    escalation, spec = loaded.escalation, loaded.spec
    if escalation.status == "closed" or not hereabouts.can_decide:
        return []
    options = []
    for key in spec.allowed_next(escalation.current_step):
        step = spec.step(key)
        starts, ends = measures_of(step)
        options.append(
            {
                "key": key,
                "title": step.title,
                "description": step.description,
                "final": step.final,
                "starts": [MEASURE_LABELS.get(m, m) for m in starts],
                "ends": [MEASURE_LABELS.get(m, m) for m in ends],
                "lead_only": imposes_measures(step),
                "allowed": hereabouts.is_lead or not imposes_measures(step),
                "letters": [{"key": k, "title": letter_title(k)} for k in letters_of(step)],
            }
        )
    return options


async def escalation_context(
    hereabouts: Here, escalation_id: Any, *, before: int | None = None, forms: dict | None = None,
    notice: str = "",
) -> dict[str, Any]:  # fmt: skip
    scope = hereabouts.scope
    loaded = await load_escalation(scope, escalation_id)
    escalation, spec = loaded.escalation, loaded.spec
    now = hereabouts.clock.now()
    visited_rows = await scope.select(TimelineEvent, TimelineEvent.kind, TimelineEvent.payload).where(
        (TimelineEvent.escalation == escalation.id) & TimelineEvent.kind.is_in(["escalatie_geopend", "stap_gewijzigd"])
    )
    visited = {r["payload"].get("stap") or r["payload"].get("naar") for r in visited_rows} | {
        r["payload"].get("van") for r in visited_rows
    }
    steps = [
        {"key": s.key, "title": s.title, "current": s.key == escalation.current_step, "visited": s.key in visited,
         "final": s.final}
        for s in spec.steps
    ]  # fmt: skip
    deadline_rows = await scope.objects(Deadline).where(Deadline.escalation == escalation.id).order_by(Deadline.due_at)
    deadlines = []
    for d in deadline_rows:
        term = None
        with contextlib.suppress(KeyError):
            term = next((t for t in spec.step(d.step).terms if t.key == d.key), None)
        deadlines.append(
            {
                "id": str(d.id),
                "due_at": iso(d.due_at),  # the forms send it back: a stale or second submit is refused
                "changeable": d.status in ("open", "suspended") and escalation.status != "closed",
                "title": (term.title if term and term.title else d.key),
                "step_title": loaded_step_title(spec, d.step),
                "term": d.term,
                "due": nl_date(d.due_at),
                "due_iso": iso(d.due_at),
                "status": d.status,
                "status_nl": DEADLINE_STATUS_NL.get(d.status, d.status),
                "overdue": d.status == "open" and d.due_at < now,
                "reasons": list(d.reasons or []),
                "responsible": term.responsible if term else "",
            }
        )
    names = {
        m["cbs_code"]: m["name"] for m in await scope.select(Municipality, Municipality.cbs_code, Municipality.name)
    }
    measures = []
    for m in await scope.objects(Measure).where(Measure.escalation == escalation.id).order_by(Measure.started_at):
        measures.append(
            {
                "kind": m.kind,
                "label": MEASURE_LABELS.get(m.kind, m.kind),
                "active": m.ended_at is None,
                "since": nl_date(m.started_at),
                "until": nl_date(m.ended_at) if m.ended_at else "",
                "municipalities": [names.get(code, code) for code in (m.scope or [])],
                "start_motivation": m.start_motivation,
                "end_motivation": m.end_motivation,
            }
        )
    events = await services.timeline(scope, escalation.id, include_internal=True, before_sequence=before,
                                     limit=TIMELINE_PAGE + 1)  # fmt: skip
    more = len(events) > TIMELINE_PAGE
    events = events[:TIMELINE_PAGE]
    delivered = await deliveries(scope, events)
    newest = (
        await scope.select(TimelineEvent, TimelineEvent.sequence)
        .where(TimelineEvent.escalation == escalation.id)
        .order_by(TimelineEvent.sequence, ascending=False)
        .first()
    )
    linked_signals = await scope.select(Signal, Signal.id, Signal.reported_by, Signal.received_at).where(
        Signal.escalation == escalation.id
    )
    category = next((c for c in spec.categories if c.key == escalation.category), None)
    documents = [
        {"id": str(doc.id), "kind": DOCUMENT_NL.get(doc.kind, doc.kind), "filename": doc.original_filename,
         "size": doc.size, "sha256": doc.sha256, "when": nl_datetime(doc.uploaded_at)}
        for doc in await scope.objects(Document).where(Document.escalation == escalation.id)
        .order_by(Document.uploaded_at, ascending=False)
    ]  # fmt: skip
    return hereabouts.context(
        "escalaties",
        esc=escalation,
        spec=spec,
        version=loaded.version,
        provider=loaded.provider,
        status_nl=STATUS_NL.get(escalation.status, escalation.status),
        category_title=category.title if category else escalation.category,
        subcategory_title=(category.subcategories.get(escalation.subcategory, escalation.subcategory)
                           if category else escalation.subcategory),
        current_title=loaded_step_title(spec, escalation.current_step),
        opened_nl=nl_date(escalation.opened_at),
        steps=steps,
        deadlines=deadlines,
        measures=measures,
        active_measures=[m for m in measures if m["active"]],
        actions=action_options(loaded, hereabouts),
        events=[describe_event(e, delivered.get(e.id, "")) for e in events],
        more_before=events[-1].sequence if more and events else None,
        before=before,
        newest=newest["sequence"] if newest else 0,
        signals=[{**s, "received_nl": nl_date(s["received_at"])} for s in linked_signals],
        documents=documents,
        outcomes=CLOSE_OUTCOMES,
        forms=forms or {},
        notice=notice,
        new_key=new_key,
        url=f"{hereabouts.base()}/escalaties/{escalation.id}",
    )  # fmt: skip


def loaded_step_title(spec: LadderSpec, key: str) -> str:
    try:
        return spec.step(key).title
    except KeyError:
        return key


NOTICES = {
    "stap": "De stap is gezet en op de tijdlijn vastgelegd.",
    "opgeheven": "De maatregel is opgeheven en op de tijdlijn vastgelegd.",
    "bericht": "Uw bericht aan de aanbieder staat op de tijdlijn.",
    "notitie": "Uw interne notitie staat op de tijdlijn.",
    "geopend": "De escalatie is geopend.",
    "gekoppeld": "Het signaal is aan deze escalatie gekoppeld.",
    "afgesloten": "De escalatie is afgesloten en op de tijdlijn vastgelegd.",
    "opgeschort": "De termijn is opgeschort en op de tijdlijn vastgelegd.",
    "hervat": "De termijn loopt weer; de nieuwe vervaldatum staat bij de termijnen.",
    "verlengd": "De termijn is verlengd en op de tijdlijn vastgelegd.",
}


# --- controllers ---------------------------------------------------------------------------------------------------


class SignalPages(Controller):
    path = "/regio/{region_slug:str}/signalen"
    include_in_schema = False

    @get("/", guards=[region_role(*READERS)])
    async def list_signals(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        show = request.query_params.get("toon", "nieuw")
        query = h.scope.select(
            Signal, Signal.id, Signal.reported_by, Signal.description, Signal.received_at, Signal.status,
            Signal.provider.name.as_alias("provider_name"), Signal.municipality.name.as_alias("municipality_name"),
            Signal.escalation.reference.as_alias("reference"), Signal.escalation,
        ).order_by(Signal.received_at, ascending=False).limit(200)  # fmt: skip
        if show != "alle":
            query = query.where(Signal.status == signals.NEW)
        rows = await query
        for row in rows:
            row["received_nl"] = nl_datetime(row["received_at"])
            row["status_nl"] = signals.STATUS_NL.get(row["status"], row["status"])
        return Template("regio/signalen.html", context=h.context("signalen", signals=rows, show=show))

    async def _form_context(self, h: Here, *, values: dict, errors: dict, filed: bool = False) -> dict:
        return h.context(
            "signalen",
            providers=await signals.providers_of_region(h.scope),
            municipalities=await municipalities_on(h.scope, h.clock.today()),
            values=values,
            errors=errors,
            filed=filed,
        )

    @get("/nieuw", guards=[region_role(*FILERS)])
    async def new_signal(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        values = {"gemeld_door": h.person.label}
        filed = request.query_params.get("ingediend") == "1"
        return Template("regio/signaal_nieuw.html", context=await self._form_context(h, values=values, errors={},
                                                                                       filed=filed))  # fmt: skip

    @post("/", guards=[region_role(*FILERS)], status_code=HTTP_303_SEE_OTHER)
    async def file_signal(self, request: Request, region_slug: FromPath[str]) -> Response:
        h = await here(request, region_slug)
        form = await request.form()
        values = {name: form_value(form, name) for name in ("gemeld_door", "omschrijving", "aanbieder", "gemeente")}
        try:
            signal = await signals.file_signal(
                h.scope,
                actor=h.actor,
                reported_by=values["gemeld_door"],
                description=values["omschrijving"],
                provider_id=values["aanbieder"] or None,
                municipality_id=values["gemeente"] or None,
                clock=h.clock,
            )
        except signals.SignalError as error:
            context = await self._form_context(h, values=values, errors={error.field or "algemeen": str(error)})
            return Template("regio/signaal_nieuw.html", context=context, status_code=422)
        if h.can_decide:
            return Redirect(f"{h.base()}/signalen/{signal.id}", status_code=HTTP_303_SEE_OTHER)
        return Redirect(f"{h.base()}/signalen/nieuw?ingediend=1", status_code=HTTP_303_SEE_OTHER)

    async def _triage_context(self, h: Here, signal: Signal, *, values: dict, errors: dict) -> dict:
        provider = await Provider.objects().where(Provider.id == signal.provider).first() if signal.provider else None
        municipality = await h.scope.get(Municipality, signal.municipality) if signal.municipality else None
        ladders = await region_ladders(h.scope)
        choices = []
        for key, spec in sorted(ladders.latest.items()):
            options = []
            for category in spec.categories:
                if category.subcategories:
                    for sub, title in category.subcategories.items():
                        options.append({"value": f"{key}/{category.key}/{sub}", "title": title,
                                        "group": category.title})  # fmt: skip
                else:
                    options.append({"value": f"{key}/{category.key}", "title": category.title, "group": ""})
            choices.append({"key": key, "name": spec.name, "options": options})
        escalation = await h.scope.get(Escalation, signal.escalation) if signal.escalation else None
        return h.context(
            "signalen",
            signal=signal,
            status_nl=signals.STATUS_NL.get(signal.status, signal.status),
            received_nl=nl_datetime(signal.received_at),
            provider=provider,
            municipality=municipality,
            choices=choices,
            open_escalations=await signals.open_escalations_of(h.scope, signal.provider),
            escalation=escalation,
            quality_links=await quality_signal_links(h.scope, signal.id) if signal.source == "indicator" else [],
            values=values,
            errors=errors,
        )

    @get("/{signal_id:uuid}", guards=[region_role(*READERS)])
    async def triage_page(self, request: Request, region_slug: FromPath[str], signal_id: FromPath[UUID]) -> Template:
        h = await here(request, region_slug)
        signal = await h.scope.get(Signal, signal_id)
        if signal is None:
            raise NotFoundException()
        values = {"samenvatting": signal.description[:300]}
        return Template("regio/signaal.html", context=await self._triage_context(h, signal, values=values, errors={}))

    @post("/{signal_id:uuid}", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def triage(self, request: Request, region_slug: FromPath[str], signal_id: FromPath[UUID]) -> Response:
        h = await here(request, region_slug)
        signal = await h.scope.get(Signal, signal_id)
        if signal is None:
            raise NotFoundException()
        form = await request.form()
        values = {n: form_value(form, n) for n in ("raakt_dvo", "besluit", "categorie", "samenvatting", "escalatie",
                                                  "motivering")}  # fmt: skip
        try:
            if values["raakt_dvo"] == "nee":
                await signals.hand_back(h.scope, signal.id, actor=h.actor, motivation=values["motivering"])
                return Redirect(f"{h.base()}/signalen?teruggelegd=1", status_code=HTTP_303_SEE_OTHER)
            if values["raakt_dvo"] != "ja":
                raise signals.SignalError("Kies of het signaal de DVO raakt.", "raakt_dvo")
            if values["besluit"] == "koppelen":
                _, escalation = await signals.attach_signal(
                    h.scope,
                    signal.id,
                    values["escalatie"] or None,
                    actor=h.actor,
                    motivation=values["motivering"],
                    clock=h.clock,
                )
                notice = "gekoppeld"
            elif values["besluit"] == "nieuw":
                parts = values["categorie"].split("/")
                if len(parts) not in (2, 3):
                    raise signals.SignalError("Kies de categorie van de tekortkoming.", "categorie")
                _, escalation = await signals.escalate_signal(
                    h.scope, signal.id, actor=h.actor, ladder_key=parts[0], category=parts[1],
                    subcategory=parts[2] if len(parts) == 3 else "", summary=values["samenvatting"],
                    motivation=values["motivering"], clock=h.clock,
                )  # fmt: skip
                notice = "geopend"
            else:
                raise signals.SignalError("Kies of u een escalatie opent of het signaal koppelt.", "besluit")
        except EscalationError as error:
            field_name = getattr(error, "field", "") or ("motivering" if str(error) == MOTIVATION_REQUIRED else "")
            context = await self._triage_context(h, signal, values=values,
                                                 errors={field_name or "algemeen": str(error)})  # fmt: skip
            return Template("regio/signaal.html", context=context, status_code=422)
        return Redirect(f"{h.base()}/escalaties/{escalation.id}?melding={notice}", status_code=HTTP_303_SEE_OTHER)


class EscalationPages(Controller):
    path = "/regio/{region_slug:str}/escalaties"
    include_in_schema = False

    @get("/", guards=[region_role(*READERS)])
    async def overview_page(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        filters = Filters.from_query(request.query_params)
        ladders = await region_ladders(h.scope)
        now = h.clock.now()
        result = await overview(h.scope, filters, ladders, now)
        context = h.context(
            "escalaties",
            filters=filters,
            providers=await providers_for_filter(h.scope),
            step_options=ladders.step_options(),
            category_options=ladders.category_options(),
            **result,
        )
        if is_htmx(request) and request.headers.get("hx-target") == "resultaten":
            return HTMXBlockTemplate(template_name="regio/escalaties.html", block_name="resultaten", context=context,
                                     push_url=f"{h.base()}/escalaties?{filters.query()}")  # fmt: skip
        return Template("regio/escalaties.html", context=context)

    @get("/export.csv", guards=[region_role(*READERS)])
    async def export_csv(self, request: Request, region_slug: FromPath[str]) -> Stream:
        h = await here(request, region_slug)
        filters = Filters.from_query(request.query_params)
        ladders = await region_ladders(h.scope)
        now = h.clock.now()

        async def rows() -> AsyncIterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["kenmerk", "aanbieder", "kvk_nummer", "ladder", "categorie", "stap", "status",
                             "geopend_op", "volgende_termijn", "termijn_verlopen", "samenvatting"])  # fmt: skip
            offset = 0
            while True:
                batch = await overview_query(h.scope, filters, now).limit(CSV_BATCH).offset(offset)
                for raw in batch:
                    row = describe_row(raw, ladders, now)
                    spec = ladders.by_version.get(row["ladder_version"])
                    writer.writerow([safe_cell(v) for v in (
                        row["reference"], row["provider_name"], row["kvk_number"], spec.name if spec else "",
                        row["category_title"], row["step_title"], row["status_nl"],
                        local_day(row["opened_at"]) or "", local_day(row["next_due"]) or "",
                        "ja" if row["overdue"] else "nee", row["summary"],
                    )])  # fmt: skip
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                if len(batch) < CSV_BATCH:
                    break
                offset += CSV_BATCH

        return Stream(
            rows(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="escalaties-{h.region.slug}.csv"'},
        )

    @get("/{escalation_id:uuid}", guards=[region_role(*READERS)])
    async def escalation_page(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Template:
        h = await here(request, region_slug)
        before = request.query_params.get("voor")
        before_seq = int(before) if before and before.isdigit() else None
        notice = NOTICES.get(request.query_params.get("melding", ""), "")
        context = await escalation_context(h, escalation_id, before=before_seq, notice=notice)
        return Template("regio/escalatie.html", context=context)

    @get("/{escalation_id:uuid}/tijdlijn", guards=[region_role(*READERS)])
    async def timeline_part(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """htmx: ``na=N`` the events after N (polling; 204 when none), ``voor=N`` the page before N (meer laden)."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        base_url = f"{h.base()}/escalaties/{loaded.escalation.id}"
        after, before = request.query_params.get("na", ""), request.query_params.get("voor", "")
        if after.isdigit():
            rows = (
                await h.scope.objects(TimelineEvent)
                .where((TimelineEvent.escalation == loaded.escalation.id) & (TimelineEvent.sequence > int(after)))
                .order_by(TimelineEvent.sequence, ascending=False)
                .limit(200)
            )
            if not rows:
                return Response(content="", status_code=204)
            delivered = await deliveries(h.scope, rows)
            context = {"events": [describe_event(e, delivered.get(e.id, "")) for e in rows], "url": base_url,
                       "newest": rows[0].sequence,
                       "poll": True, "more_before": None}  # fmt: skip
            return Template("regio/_tijdlijn_items.html", context=context)
        if not before.isdigit():
            raise NotFoundException()
        events = await services.timeline(h.scope, loaded.escalation.id, include_internal=True,
                                         before_sequence=int(before), limit=TIMELINE_PAGE + 1)  # fmt: skip
        more = len(events) > TIMELINE_PAGE
        events = events[:TIMELINE_PAGE]
        delivered = await deliveries(h.scope, events)
        context = {"events": [describe_event(e, delivered.get(e.id, "")) for e in events], "url": base_url,
                   "poll": False,
                   "more_before": events[-1].sequence if more and events else None}  # fmt: skip
        return Template("regio/_tijdlijn_items.html", context=context)

    async def _answer(
        self, request: Request, h: Here, escalation_id: UUID, *, notice: str = "", forms: dict | None = None,
        part: str = "", form_id: str = "", status_code: int = 200,
    ) -> Response:  # fmt: skip
        """Success: PRG without htmx; with htmx the refreshed ``#inhoud`` and the notice (out of band).
        An error or the confirm step: with htmx only that form (``HX-Retarget``); without, the whole page."""
        url = f"{h.base()}/escalaties/{escalation_id}"
        if not forms and not is_htmx(request):
            return Redirect(f"{url}?melding={notice}#melding", status_code=HTTP_303_SEE_OTHER)
        context = await escalation_context(h, escalation_id, forms=forms, notice=NOTICES.get(notice, ""))
        if not is_htmx(request):
            return Template("regio/escalatie.html", context=context, status_code=status_code)
        if not forms:
            return HTMXBlockTemplate(template_name="regio/escalatie.html", block_names=["inhoud", "melding_oob"],
                                     context={**context, "oob_melding": True})  # fmt: skip
        action = next((a for a in context["actions"] if f"stap-{a['key']}" == form_id), None)
        measure = next((m for m in context["active_measures"] if f"opheffen-{m['kind']}" == form_id), None)
        deadline = next((d for d in context["deadlines"] if form_id.startswith(f"termijn-{d['id']}-")), None)
        if (part == "stap" and action is None) or (part == "opheffen" and measure is None):
            part, form_id = "acties", "acties"
        if part == "termijn" and (deadline is None or not deadline["changeable"]):
            part, form_id = "acties", "acties"  # the deadline ended meanwhile: the page's actions as they are now
        return HTMXTemplate(
            template_name="regio/formulier.html",
            context={
                **context,
                "part": part,
                "form_id": form_id,
                "action": action,
                "measure": measure,
                "deadline": deadline,
            },
            re_target=f"#{form_id}",
            re_swap="outerHTML",
        )

    @post("/{escalation_id:uuid}/stap", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def take_step(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        form = await request.form()
        to_step = form_value(form, "naar")
        motivation = form_value(form, "motivering")
        key = form_value(form, "sleutel")[:64] or None
        values = {"motivering": motivation, "sleutel": key or new_key()}
        form_id = f"stap-{to_step}"
        spec = loaded.spec
        try:
            target = spec.step(to_step)
        except KeyError:
            target = None
        error: dict[str, str] = {}
        if target is not None and to_step in spec.allowed_next(loaded.escalation.current_step):
            starts, _ = measures_of(target)
            if not motivation and spec.motivation_required:
                error = {"motivering": MOTIVATION_REQUIRED}
            elif (starts or letters_of(target)) and form_value(form, "bevestigd") != "ja":
                if starts and not h.is_lead:
                    error = {"algemeen": f"Alleen een teamleider inkoop mag deze stap zetten: de stap "
                                         f"‘{target.title}’ legt een maatregel op."}  # fmt: skip
                else:  # the confirm step: which municipalities a measure reaches, the letters as they will go
                    municipalities = await municipalities_on(h.scope, h.clock.today()) if starts else []
                    letters = await previews(h.scope, escalation_id, to_step, motivation, h.clock)
                    forms = {form_id: {"values": values, "errors": {}, "confirm": True,
                                       "municipalities": [m.name for m in municipalities],
                                       "measures": [MEASURE_LABELS.get(m, m) for m in starts],
                                       "letters": [{"key": x.key, "title": x.title, "body": Markup(x.body_html)}
                                                   for x in letters]}}  # fmt: skip
                    return await self._answer(request, h, escalation_id, forms=forms, part="stap", form_id=form_id)
        if not error:
            try:
                await services.transition(h.scope, escalation_id, to_step, actor=h.actor, motivation=motivation,
                                          idempotency_key=key, clock=h.clock)  # fmt: skip
                return await self._answer(request, h, escalation_id, notice="stap")
            except EscalationError as exc:
                error = {"motivering" if str(exc) == MOTIVATION_REQUIRED else "algemeen": str(exc)}
        if not error:
            error = {"algemeen": "Deze stap is vanuit de huidige stap niet mogelijk; de pagina is bijgewerkt."}
        if target is None or to_step not in [a["key"] for a in action_options(loaded, h)]:
            forms = {"stap-algemeen": {"values": values, "errors": error}}
            return await self._answer(request, h, escalation_id, forms=forms, part="acties", form_id="acties",
                                      status_code=422)  # fmt: skip
        forms = {form_id: {"values": values, "errors": error}}
        return await self._answer(request, h, escalation_id, forms=forms, part="stap", form_id=form_id,
                                  status_code=422)  # fmt: skip

    @post("/{escalation_id:uuid}/opheffen", guards=[region_role(R.INKOOP_LEAD)], status_code=HTTP_303_SEE_OTHER)
    async def lift_measure(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        h = await here(request, region_slug)
        await load_escalation(h.scope, escalation_id)
        form = await request.form()
        kind = form_value(form, "maatregel")
        motivation = form_value(form, "motivering")
        form_id = f"opheffen-{kind}" if kind.isidentifier() else "opheffen"
        try:
            if not motivation:
                raise EscalationError(MOTIVATION_REQUIRED)
            await services.end_measure(
                h.scope, escalation_id, kind, actor=h.actor, motivation=motivation, clock=h.clock
            )
        except EscalationError as exc:
            field_name = "motivering" if str(exc) == MOTIVATION_REQUIRED else "algemeen"
            forms = {form_id: {"values": {"motivering": motivation}, "errors": {field_name: str(exc)}}}
            return await self._answer(request, h, escalation_id, forms=forms, part="opheffen", form_id=form_id,
                                      status_code=422)  # fmt: skip
        return await self._answer(request, h, escalation_id, notice="opgeheven")

    @post("/{escalation_id:uuid}/brief-voorbeeld", guards=[region_role(*TEAM)], status_code=200)
    async def letter_preview(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """The letter a step would send, as a PDF shown in the browser; nothing is stored or sent."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        form = await request.form()
        to_step, key = form_value(form, "naar"), form_value(form, "brief")
        if to_step not in loaded.spec.allowed_next(loaded.escalation.current_step):
            raise NotFoundException()
        found = await previews(h.scope, escalation_id, to_step, form_value(form, "motivering"), h.clock, pdf_key=key)
        if not found:
            raise NotFoundException()
        pdf = await pdf_of(found[0])
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="voorbeeld-{found[0].filename}"',
            "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})  # fmt: skip

    @post("/{escalation_id:uuid}/afsluiten", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def close(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        """Close outside the ladder's final steps, with an outcome and a motivation. A second submit finds the
        escalation closed and is refused: one close event."""
        h = await here(request, region_slug)
        await load_escalation(h.scope, escalation_id)
        form = await request.form()
        values = {"uitkomst": form_value(form, "uitkomst"), "motivering": form_value(form, "motivering")}
        errors: dict[str, str] = {}
        if values["uitkomst"] not in CLOSE_OUTCOMES:
            errors["uitkomst"] = "Kies de uitkomst van de escalatie."
        if not values["motivering"]:
            errors["motivering"] = MOTIVATION_REQUIRED
        if not errors:
            try:
                await services.close_escalation(h.scope, escalation_id, actor=h.actor, outcome=values["uitkomst"],
                                                motivation=values["motivering"], clock=h.clock)  # fmt: skip
                return await self._answer(request, h, escalation_id, notice="afgesloten")
            except EscalationError as exc:
                errors["motivering" if str(exc) == MOTIVATION_REQUIRED else "algemeen"] = str(exc)
        forms = {"afsluiten": {"values": values, "errors": errors}}
        return await self._answer(request, h, escalation_id, forms=forms, part="afsluiten", form_id="afsluiten",
                                  status_code=422)  # fmt: skip

    @post("/{escalation_id:uuid}/termijn", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def change_deadline(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> Response:
        """Suspend, resume or extend one deadline of this escalation (``handeling``), with a reason. The form
        carries the due date it showed: when the deadline changed since (a second submit), it is refused."""
        h = await here(request, region_slug)
        loaded = await load_escalation(h.scope, escalation_id)
        form = await request.form()
        action = form_value(form, "handeling")
        values = {n: form_value(form, n) for n in ("termijn", "reden", "nieuwe_termijn", "dagen", "vervaldatum")}
        try:
            deadline = await h.scope.get(Deadline, values["termijn"]) if values["termijn"] else None
        except ValueError:
            deadline = None
        if deadline is None or deadline.escalation != loaded.escalation.id or action not in DEADLINE_ACTIONS:
            raise NotFoundException()
        form_id = f"termijn-{deadline.id}-{action}"
        errors: dict[str, str] = {}
        if values["vervaldatum"] != iso(deadline.due_at):
            errors["algemeen"] = "Deze termijn is intussen al aangepast; bekijk de nieuwe vervaldatum."
        elif action in ("opschorten", "verlengen") and not values["reden"]:
            errors["reden"] = "Geef een reden: die komt op de tijdlijn."
        days = None
        if not errors and action == "verlengen":
            if bool(values["nieuwe_termijn"]) == bool(values["dagen"]):
                errors["nieuwe_termijn"] = "Vul óf een nieuwe termijn óf een aantal dagen in."
            elif values["dagen"]:
                if not values["dagen"].isdigit() or not 1 <= int(values["dagen"]) <= 365:
                    errors["dagen"] = "Vul een aantal dagen in van 1 tot en met 365."
                else:
                    days = int(values["dagen"])
        if not errors:
            try:
                if action == "opschorten":
                    await services.suspend_deadline(h.scope, deadline.id, actor=h.actor, reason=values["reden"],
                                                    clock=h.clock)  # fmt: skip
                elif action == "hervatten":
                    await services.resume_deadline(h.scope, deadline.id, actor=h.actor, motivation=values["reden"],
                                                   clock=h.clock)  # fmt: skip
                else:
                    await services.extend_deadline(h.scope, deadline.id, actor=h.actor, reason=values["reden"],
                                                   new_term=values["nieuwe_termijn"] or None, days=days,
                                                   clock=h.clock)  # fmt: skip
                return await self._answer(request, h, escalation_id, notice=DEADLINE_ACTIONS[action])
            except EscalationError as exc:
                target = "nieuwe_termijn" if action == "verlengen" and "termijn" in str(exc).lower() else "algemeen"
                errors[target] = str(exc)
        forms = {form_id: {"values": values, "errors": errors}}
        return await self._answer(request, h, escalation_id, forms=forms, part="termijn", form_id=form_id,
                                  status_code=422)  # fmt: skip

    async def _text(self, request: Request, region_slug: str, escalation_id: UUID, kind: str) -> Response:
        h = await here(request, region_slug)
        await load_escalation(h.scope, escalation_id)
        form = await request.form()
        text = form_value(form, "tekst")
        try:
            if kind == "bericht":
                await services.post_message(h.scope, escalation_id, actor=h.actor, text=text, clock=h.clock)
            else:
                await services.add_note(h.scope, escalation_id, actor=h.actor, text=text, clock=h.clock)
        except EscalationError as exc:
            forms = {kind: {"values": {"tekst": text}, "errors": {"tekst": str(exc)}}}
            return await self._answer(request, h, escalation_id, forms=forms, part=kind, form_id=kind,
                                      status_code=422)  # fmt: skip
        return await self._answer(request, h, escalation_id, notice=kind)

    @post("/{escalation_id:uuid}/bericht", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def message(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        return await self._text(request, region_slug, escalation_id, "bericht")

    @post("/{escalation_id:uuid}/notitie", guards=[region_role(*TEAM)], status_code=HTTP_303_SEE_OTHER)
    async def note(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> Response:
        return await self._text(request, region_slug, escalation_id, "notitie")


# --- the register of intake stops ---------------------------------------------------------------------------------


async def intake_stops(h: Here) -> list[dict]:
    """Referral stops in force in the region, newest first, with the municipalities that must follow them."""
    names = {m["cbs_code"]: m["name"] for m in await h.scope.select(Municipality, Municipality.cbs_code,
                                                                   Municipality.name)}  # fmt: skip
    rows = await h.scope.select(
        Measure, Measure.id, Measure.kind, Measure.started_at, Measure.scope, Measure.escalation,
        Measure.provider.name.as_alias("provider_name"), Measure.provider.kvk_number.as_alias("kvk_number"),
        Measure.escalation.reference.as_alias("reference"),
    ).where(Measure.kind.is_in(list(REFERRAL_STOPS)) & Measure.ended_at.is_null()).order_by(
        Measure.started_at, ascending=False
    )  # fmt: skip
    return [
        {
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


class RegionPages(Controller):
    path = "/regio/{region_slug:str}"
    include_in_schema = False

    @get("/", guards=[region_role(*MEMBERS)])
    async def region_home(self, request: Request, region_slug: FromPath[str]) -> Template:
        """The region's workspace: what needs attention, and the way to each part."""
        h = await here(request, region_slug)
        now = h.clock.now()
        counts = {"instroomstops": len(await intake_stops(h))}
        if h.reads_escalations:
            counts["nieuwe_signalen"] = await h.scope.count(Signal).where(Signal.status == signals.NEW)
            counts["lopend"] = await h.scope.count(Escalation).where(Escalation.status != "closed")
            counts["verlopen"] = await h.scope.count(Escalation).where(
                overview_where(h.scope, Filters(verlopen=True), now)
            )
        dashboard = None
        if h.reads_escalations:
            from apps.escalations.dashboard import region_dashboard  # the dashboard builds on this module

            dashboard = await region_dashboard(h)
        return Template("regio/index.html", context=h.context("regio", counts=counts, dashboard=dashboard))

    @get("/instroomstops", guards=[region_role(*MEMBERS)])
    async def register_page(self, request: Request, region_slug: FromPath[str]) -> Template:
        h = await here(request, region_slug)
        stops = await intake_stops(h)
        return Template("regio/instroomstops.html", context=h.context("instroomstops", stops=stops))

    @get("/instroomstops.csv", guards=[region_role(*MEMBERS)])
    async def register_csv(self, request: Request, region_slug: FromPath[str]) -> Response:
        h = await here(request, region_slug)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["aanbieder", "kvk_nummer", "maatregel", "sinds", "escalatie", "aantal_gemeenten",
                         "gemeenten"])  # fmt: skip
        for stop in await intake_stops(h):
            writer.writerow([safe_cell(v) for v in (
                stop["provider"], stop["kvk_number"], stop["measure"], stop["since_iso"], stop["reference"],
                len(stop["municipalities"]), "; ".join(m["name"] for m in stop["municipalities"]),
            )])  # fmt: skip
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="instroomstops-{h.region.slug}.csv"'},
        )

    @get("/instroomstops.json", guards=[region_role(*MEMBERS)])
    async def register_json(self, request: Request, region_slug: FromPath[str]) -> Response:
        h = await here(request, region_slug)
        body = {
            "regio": {"slug": h.region.slug, "naam": h.region.name},
            "peildatum": h.clock.today().isoformat(),
            "instroomstops": [
                {"aanbieder": s["provider"], "kvk_nummer": s["kvk_number"], "maatregel": s["kind"],
                 "sinds": s["since_iso"], "escalatie": s["reference"], "gemeenten": s["municipalities"]}
                for s in await intake_stops(h)
            ],
        }  # fmt: skip
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


def workspace_controllers() -> list:
    """The region workspace's pages (registered in ``core.app.create_app``)."""
    from apps.escalations.dossier import DossierPages
    from apps.tenancy.pages import AccessibilityStatement

    return [RegionPages, SignalPages, EscalationPages, DossierPages, AccessibilityStatement]
