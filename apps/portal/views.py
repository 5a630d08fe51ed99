"""What the provider portal shows, read through ``ProviderScope`` only: escalations, deadlines, requests, measures,
documents, the shared timeline and the evidence register. Plain dicts for the templates."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from apps.accounts.roles import LABELS
from apps.accounts.services import Person
from apps.documents.services import KIND_LABELS, PROVIDER_KINDS, escalation_documents
from apps.documents.uploads import human_size
from apps.escalations import services as escalations
from apps.escalations.account_region import account_region_of
from apps.escalations.context import MEASURE_LABELS
from apps.escalations.deadlines import STATUS_NL, local_date, waiting_for
from apps.escalations.letter_receipts import RECEIVED_NL, letters_of_escalation
from apps.escalations.now import current_step, find_term, who_acts
from apps.escalations.tables import Deadline, Escalation, Measure
from apps.escalations.timeline import evidence_verdict_effect, outcome_nl
from apps.evidence import services as evidence
from apps.evidence.tables import EvidenceItem
from apps.ladders.schema import LadderSpec
from apps.ladders.tables import LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core import keyset
from core.clock import AMSTERDAM, Clock, system_clock
from core.formatting import days_until_nl, format_date_nl, nl_datetime
from core.tenancy import CONTINUITY_LADDER, ProviderScope

EVENT_LABELS = {
    "escalatie_geopend": "Escalatie geopend",
    "escalatie_gesloten": "Escalatie afgesloten",
    "stap_gewijzigd": "Naar een volgende stap",
    "document_gevraagd": "Document gevraagd",
    "document_ontvangen": "Document ontvangen",
    "brief_verstuurd": "Brief",
    "bericht": "Bericht",
    "termijn_gestart": "Termijn gestart",
    "ontvangst_vastgelegd": "Ontvangst vastgelegd door de regio",
    "ontvangst_bevestigd": "Ontvangst bevestigd",
    "brief_ontvangen": "Ontvangst van de brief vastgelegd door de regio",
    "termijn_gehaald": "Termijn gehaald",
    "termijn_verlopen": "Termijn verlopen",
    "termijn_opgeschort": "Termijn opgeschort",
    "termijn_hervat": "Termijn hervat",
    "termijn_verlengd": "Termijn verlengd",
    "maatregel_gestart": "Maatregel gestart",
    "maatregel_beeindigd": "Maatregel beëindigd",
    "melding_verstuurd": "Melding verstuurd",
    "document_beoordeeld": "Document beoordeeld door de regio",
    "termijn_heropend": "Termijn heropend",
    "bewijs_aangeleverd": "Bewijs aangeleverd",
    "bewijs_beoordeeld": "Bewijs beoordeeld door de regio",
}
ESCALATION_STATUS = {"open": "lopend", "paused": "gepauzeerd", "closed": "afgesloten"}


ACTIVE_PROVIDER = "portaal_organisatie"  # session key: the organisation a person at several providers picked


def current_provider(person: Person, session: dict | None = None) -> UUID | None:
    """The provider organisation the portal shows: the one picked in the switcher (kept in the server-side
    session) if the person still holds a role there, otherwise the first of theirs (by name order of ids)."""
    if not person.provider_roles:
        return None
    picked = (session or {}).get(ACTIVE_PROVIDER) if isinstance(session, dict) else None
    try:
        if picked and UUID(str(picked)) in person.provider_roles:
            return UUID(str(picked))
    except ValueError:
        pass
    return sorted(person.provider_roles, key=str)[0]


async def organisations_of(person: Person, active: UUID) -> dict:
    """For the switcher on every portal page: the active organisation and the ones the person can switch to."""
    rows = await Provider.select(Provider.id, Provider.name).where(Provider.id.is_in(list(person.provider_roles)))
    names = {row["id"]: row["name"] for row in rows}
    return {
        "active_id": active,
        "active_name": names.get(active, ""),
        "is_admin": "aanbieder_beheerder" in person.provider_roles.get(active, frozenset()),
        "choices": sorted(({"id": k, "name": v} for k, v in names.items()), key=lambda c: c["name"]),
    }


def role_label(role: str) -> str:
    return LABELS.get(role, role)


def date_nl(d: date | None) -> str:
    return format_date_nl(d) if d else ""


def moment_nl(moment) -> str:
    """"6 april 2026, 14:05": the one way every page writes a moment (core.formatting.nl_datetime)."""
    return nl_datetime(moment)


async def _regions() -> dict[UUID, dict]:
    return {r["id"]: r for r in await Region.select(Region.id, Region.name, Region.slug)}


async def _spec(scope: ProviderScope, escalation: dict | Escalation) -> LadderSpec | None:
    region = escalation["region"] if isinstance(escalation, dict) else escalation.region
    version_id = escalation["ladder_version"] if isinstance(escalation, dict) else escalation.ladder_version
    version = await scope.region_scope(region).get(LadderVersion, version_id)
    return LadderSpec.model_validate(version.definition) if version is not None else None


def _step_title(spec: LadderSpec | None, key: str) -> str:
    try:
        return spec.step(key).title if spec else key
    except KeyError:
        return key


def _term_title(spec: LadderSpec | None, step: str, key: str) -> str:
    try:
        found = next((t for t in spec.step(step).terms if t.key == key), None) if spec else None
    except KeyError:
        found = None
    return (found.title if found and found.title else key).rstrip("?")


def ask_text(deadline: dict, spec: LadderSpec | None) -> str:
    """What is asked, in words: "Lever een plan van aanpak aan, uiterlijk op 8 december 2026"."""
    due = date_nl(local_date(deadline["due_at"]))
    met_by = deadline.get("met_by") or ""
    if met_by.startswith("document:"):
        kind = met_by.split(":", 1)[1]
        return f"Lever een {KIND_LABELS.get(kind, kind.replace('_', ' '))} aan, uiterlijk op {due}"
    return f"{_term_title(spec, deadline['step'], deadline['key'])}: uiterlijk op {due}"


PAGE_SIZE = 25
# Ladder versions never change once published ("kept for life"), so a parsed spec per version id is safe to keep
# in the process: two web processes each keep their own, and neither can be stale.
_SPECS: dict[UUID, LadderSpec] = {}
_SPECS_MAX = 500


async def specs_for(scope: ProviderScope, rows: list[dict]) -> dict[UUID, LadderSpec]:
    """The ladder specs of ``rows`` by version id: from the cache, the rest in one query per region."""
    missing: dict[UUID, set[UUID]] = {}
    for row in rows:
        if row["ladder_version"] not in _SPECS:
            missing.setdefault(row["region"], set()).add(row["ladder_version"])
    for region, version_ids in missing.items():
        versions = await scope.region_scope(region).select(LadderVersion, LadderVersion.id, LadderVersion.definition)\
            .where(LadderVersion.id.is_in(list(version_ids)))  # fmt: skip
        if len(_SPECS) + len(versions) > _SPECS_MAX:
            _SPECS.clear()
        for version in versions:
            _SPECS[version["id"]] = LadderSpec.model_validate(version["definition"])
    return {row["ladder_version"]: _SPECS.get(row["ladder_version"]) for row in rows}


EVIDENCE_CHOICES = 100


def asks_for_evidence(spec: LadderSpec | None, step_key: str) -> bool:
    """Whether the step asks the provider for evidence (a ``bewijsstuk`` demanded, or a term it meets)."""
    try:
        step = spec.step(step_key) if spec else None
    except KeyError:
        return False
    if step is None:
        return False
    wanted = "document:bewijsstuk"
    return any(getattr(a, "document", None) == "bewijsstuk" for a in step.on_enter) or any(
        t.met_by == wanted or t.starts == wanted for t in step.terms
    )


async def evidence_escalations(scope: ProviderScope) -> list[dict]:
    """The running escalations the provider may deliver evidence for (the evidence form's choices): those whose step
    asks for it first, then the newest; at most ``EVIDENCE_CHOICES`` (one query, the specs cached per version)."""
    rows = await (
        scope.select(Escalation, Escalation.id, Escalation.reference, Escalation.region, Escalation.ladder_version,
                     Escalation.current_step, Escalation.opened_at)
        .where(Escalation.status != "closed")
        .order_by(Escalation.opened_at, ascending=False)
        .limit(EVIDENCE_CHOICES)
    )  # fmt: skip
    if not rows:
        return []
    regions = await _regions()
    specs = await specs_for(scope, rows)
    choices = []
    for row in rows:
        spec = specs.get(row["ladder_version"])
        asks = asks_for_evidence(spec, row["current_step"])
        choices.append({"id": str(row["id"]), "asks": asks, "label": (
            f"{row['reference']} — {regions.get(row['region'], {}).get('name', '')}: "
            f"{_step_title(spec, row['current_step'])}" + (" (vraagt om bewijs)" if asks else ""))})  # fmt: skip
    return sorted(choices, key=lambda c: not c["asks"])


async def open_escalations(scope: ProviderScope, clock: Clock = system_clock, *, after: str = "",
                           before: str = "") -> dict:  # fmt: skip
    """One page of the organisation's running escalations, oldest first (keyset on the indexed opened_at, id),
    each with its next deadline and what is asked: one query for the page, one for its deadlines, the ladder specs
    cached per version. Returns rows and the cursors for "vorige" and "volgende"."""
    regions = await _regions()
    segments = [keyset.Segment("o", Escalation.status != "closed", [(Escalation.opened_at, True),
                                                                     (Escalation.id, True)])]  # fmt: skip

    async def fetch(condition, order, forward, limit):
        query = scope.select(Escalation)
        if condition is not None:
            query = query.where(condition)
        for column, ascending in order:
            query = query.order_by(column, ascending=ascending == forward)
        return await query.limit(limit)

    found = await keyset.page(fetch, segments, PAGE_SIZE, after=after, before=before)
    if not found.rows and (after or before):
        found = await keyset.page(fetch, segments, PAGE_SIZE)
    rows = found.rows
    specs = await specs_for(scope, rows)
    running: dict[UUID, list[dict]] = {}
    if rows:
        deadlines = await scope.select(Deadline).where(
            Deadline.escalation.is_in([row["id"] for row in rows]) & (Deadline.status == "open")
            & Deadline.due_at.is_not_null()
        ).order_by(Deadline.due_at)  # fmt: skip
        for deadline in deadlines:
            running.setdefault(deadline["escalation"], []).append(deadline)
    now = clock.now()
    result = []
    for row in rows:
        spec = specs.get(row["ladder_version"])
        deadlines = running.get(row["id"], [])
        next_deadline = deadlines[0] if deadlines else None
        result.append(
            {
                **row,
                "region_name": regions.get(row["region"], {}).get("name", ""),
                "step_title": _step_title(spec, row["current_step"]),
                "status_text": ESCALATION_STATUS.get(row["status"], row["status"]),
                "next_deadline": date_nl(local_date(next_deadline["due_at"])) if next_deadline else "",
                "overdue": bool(next_deadline and next_deadline["due_at"] < now),
                "asked": [ask_text(d, spec) for d in deadlines],
            }
        )
    return {"rows": result, "next": found.next, "previous": found.previous}


async def active_measures(scope: ProviderScope) -> list[dict]:
    regions = await _regions()
    rows = await scope.select(
        Measure, Measure.kind, Measure.started_at, Measure.region, Measure.scope,
        Measure.escalation.reference.as_alias("reference"), Measure.escalation.id.as_alias("escalation_id"),
    ).where(Measure.ended_at.is_null())  # fmt: skip
    return [
        {
            **row,
            "label": MEASURE_LABELS.get(row["kind"], row["kind"]),
            "region_name": regions.get(row["region"], {}).get("name", ""),
            "since": date_nl(local_date(row["started_at"])),
            "municipalities": len(row["scope"] or []),
        }
        for row in rows
    ]


def evidence_row(item: EvidenceItem, today: date) -> dict:
    state = evidence.validity(item.kind, item.issued_on, today)
    return {
        "id": item.id,
        "kind": item.kind,
        "kind_label": evidence.KINDS.get(item.kind, item.kind),
        "person": item.person,
        "number": item.number,
        "issued_on": date_nl(item.issued_on),
        "valid_until": date_nl(item.valid_until),
        "status": state.status,
        "status_text": state.text,
        "days_left": state.days_left,
        "has_file": bool(item.object_key),
        "filename": item.original_filename,
        "size_text": human_size(item.size) if item.object_key else "",
        "replaces": item.replaces,
    }


async def evidence_rows(scope: ProviderScope, items: list[EvidenceItem], today: date) -> list[dict]:
    """The register's rows for ``items``: validity, whether a later item replaces it, each region's latest verdict
    (two queries for the items together, whatever their number)."""
    regions = await _regions()
    reviews = await evidence.reviews_for_provider(scope, items)
    replaced = await evidence.replaced_among(items)
    rows = []
    for item in items:
        row = evidence_row(item, today)
        row["replaced"] = item.id in replaced
        row["reviews"] = [
            {
                "region_name": regions.get(region_id, {}).get("name", ""),
                "verdict": review["verdict"],
                "verdict_text": evidence.VERDICTS.get(review["verdict"], review["verdict"]),
                "reason": review["reason"],
                "at": date_nl(local_date(review["reviewed_at"])),
            }
            for (evidence_id, region_id), review in sorted(reviews.items(), key=lambda kv: str(kv[0][1]))
            if evidence_id == item.id
        ]
        rows.append(row)
    return rows


async def evidence_register(scope: ProviderScope, clock: Clock = system_clock, *, after: str = "",
                            before: str = "") -> dict:  # fmt: skip
    """One page of the provider's register (by kind and person, keyset), with the cursors for the pager."""
    items, found = await evidence.item_page(scope.provider_id, after=after, before=before)
    return {"rows": await evidence_rows(scope, items, clock.today()), "next": found.next,
            "previous": found.previous}  # fmt: skip


async def expiring_evidence(scope: ProviderScope, clock: Clock = system_clock) -> dict:
    """The home page's evidence that ends soon or has ended (and is not replaced): the first EXPIRING_SHOWN by end
    date, and how many there are in all."""
    today = clock.today()
    items = await evidence.expiring_items(scope.provider_id, today)
    rows = [r for r in await evidence_rows(scope, items, today) if r["status"] != "geldig"]
    total, capped = await evidence.expiring_count(scope.provider_id, today)
    return {"rows": rows, "total": keyset.count_nl(total, capped), "more": capped or total > len(rows)}


TERM_EVENTS = ("termijn_gestart", "termijn_gehaald", "termijn_verlopen", "termijn_opgeschort", "termijn_hervat",
               "termijn_verlengd", "termijn_heropend")


def _event_text(event) -> str:
    payload = event.payload or {}
    kind = event.kind
    if kind == "bericht":
        return payload.get("tekst", "")
    if kind == "document_ontvangen":
        label = KIND_LABELS.get(payload.get("document"), payload.get("document", ""))
        text = f"{label}: {payload.get('bestandsnaam', '')}"
        if payload.get("vervangt_bestandsnaam"):
            text += f" (vervangt {payload['vervangt_bestandsnaam']})"
        return text
    if kind == "document_beoordeeld":
        label = str(payload.get("document_naam", "")).capitalize()
        return f"{label} ({payload.get('bestandsnaam', '')}): {str(payload.get('oordeel_tekst', '')).lower()}"
    if kind == "bewijs_aangeleverd":
        return str(payload.get("naam", ""))
    if kind == "bewijs_beoordeeld":
        return f"{payload.get('naam', '')}: {str(payload.get('oordeel_tekst', '')).lower()}." + evidence_verdict_effect(
            payload
        )
    if kind == "document_gevraagd":
        label = KIND_LABELS.get(payload.get("document"), payload.get("document", ""))
        when = payload.get("vervaldatum_tekst")
        return f"Gevraagd: {label}" + (f", uiterlijk op {when}" if when else "")
    if kind == "ontvangst_vastgelegd":
        received = payload.get("ontvangen_op")
        day = date_nl(date.fromisoformat(received)) if received else ""
        name = str(payload.get("document_naam", "")).capitalize()
        return f"{name} ontvangen op {day}, {payload.get('kanaal_tekst', '')}"
    if kind in TERM_EVENTS:
        title = (payload.get("titel") or payload.get("termijn") or "").rstrip("?")
        due = payload.get("vervaldatum")
        text = f"{title} (vervaldatum {date_nl(date.fromisoformat(due))})" if due else title
        if kind == "termijn_gehaald" and payload.get("te_laat"):
            text += " — te laat aangeleverd, wel ontvangen"
        return text
    if kind in ("escalatie_geopend", "stap_gewijzigd"):
        return payload.get("stap_titel") or payload.get("naar_titel") or payload.get("stap", "")
    if kind in ("maatregel_gestart", "maatregel_beeindigd"):
        return payload.get("maatregel_titel", payload.get("maatregel", ""))
    if kind == "brief_verstuurd":
        return payload.get("titel") or payload.get("brief", "").replace("_", " ")
    if kind in ("ontvangst_bevestigd", "brief_ontvangen"):
        received = payload.get("ontvangen_op")
        day = date_nl(date.fromisoformat(received)) if received else ""
        how = RECEIVED_NL.get(payload.get("wijze", ""), payload.get("wijze_tekst", ""))
        code = f", track-and-trace {payload['track_and_trace']}" if payload.get("track_and_trace") else ""
        return f"{payload.get('titel', '')}: ontvangen op {day} ({how}{code})"
    return ""


async def shared_timeline(scope: ProviderScope, escalation: Escalation) -> list[dict]:
    events = await escalations.timeline(
        scope.region_scope(escalation.region), escalation.id, include_internal=False, limit=200
    )
    return [
        {
            "sequence": e.sequence,
            "kind": e.kind,
            "label": EVENT_LABELS.get(e.kind, e.kind.replace("_", " ").capitalize()),
            "text": _event_text(e),
            "late": e.kind == "termijn_gehaald" and (e.payload or {}).get("te_laat"),
            "from_provider": e.kind == "bericht" and (e.payload or {}).get("van") == "aanbieder",
            "actor": e.actor_label,
            "motivation": e.motivation,
            "at": moment_nl(e.occurred_at),
            "iso": e.occurred_at.isoformat(),
        }
        for e in events
        if e.visibility == "shared"  # timeline() already leaves internal events out; never show one by mistake
    ]


async def escalation_page(scope: ProviderScope, escalation: Escalation, clock: Clock = system_clock) -> dict:
    regions = await _regions()
    spec = await _spec(scope, escalation)
    deadlines = await scope.select(Deadline).where(Deadline.escalation == escalation.id).order_by(Deadline.due_at)
    open_deadlines = [d for d in deadlines if d["status"] == "open"]
    asked_kinds = [d["met_by"].split(":", 1)[1] for d in open_deadlines if (d["met_by"] or "").startswith("document:")]
    documents = await escalation_documents(scope, escalation.id)
    replaced_by = {d.replaces: d for d in documents if d.replaces}
    provider = await Provider.objects().where(Provider.id == escalation.provider).first()
    region_name = regions.get(escalation.region, {}).get("name", "")
    today = clock.now().astimezone(AMSTERDAM).date()
    running = [d for d in open_deadlines if d["due_at"] is not None]
    step = current_step(spec, escalation.current_step) if spec else None
    term = find_term(spec, running[0]["step"], running[0]["key"]) if spec and running else None
    # Who acts now: the one the next term waits for, else the step's actor (issue 18 point 1: lead with it).
    actor = term.responsible if term else (step.actor if step else "regio")
    return {
        "escalation": escalation,
        "who": "u" if actor == "aanbieder" else who_acts(actor, "", region_name),
        "asked_when": [days_until_nl(local_date(d["due_at"]), today) if d["due_at"] else "" for d in open_deadlines],
        "provider_name": provider.name if provider else "",
        "region_name": region_name,
        "step_title": _step_title(spec, escalation.current_step),
        "status_text": ESCALATION_STATUS.get(escalation.status, escalation.status),
        "opened_on": date_nl(local_date(escalation.opened_at)),
        "closed_on": date_nl(local_date(escalation.closed_at)) if escalation.closed_at else "",
        "outcome": outcome_nl(escalation.outcome, spec) if escalation.outcome else "",
        "deadlines": [
            {
                "title": _term_title(spec, d["step"], d["key"]),
                "term": d["term"],
                "due": date_nl(local_date(d["due_at"])) if d["due_at"] else waiting_for(d["starts"]),
                "status": d["status"],
                "status_text": STATUS_NL.get(d["status"], d["status"]),
                "late": bool(d["met_at"] and d["due_at"] and d["met_at"] > d["due_at"]),
                "met_on": date_nl(local_date(d["met_at"])) if d["met_at"] else "",
            }
            for d in sorted(deadlines, key=lambda row: row["due_at"] is None)  # waiting terms last
        ],
        "asked": [ask_text(d, spec) for d in open_deadlines],
        "asked_kinds": asked_kinds,
        "kinds": PROVIDER_KINDS,
        "default_kind": asked_kinds[0] if asked_kinds and asked_kinds[0] in PROVIDER_KINDS else "plan_van_aanpak",
        "documents": [
            {
                "id": d.id,
                "kind_label": KIND_LABELS.get(d.kind, d.kind),
                "filename": d.original_filename,
                "size_text": human_size(d.size),
                "at": moment_nl(d.uploaded_at),
                "replaced": d.id in replaced_by,
            }
            for d in documents
        ],
        "letters": await letters_of_escalation(scope, escalation.id),
        "timeline": await shared_timeline(scope, escalation),
        "closed": escalation.status == "closed",
        # A continuity escalation names the account-holding region that coordinates it across regions (seed 004).
        "account_region": await account_region_of(provider, clock)
        if spec is not None and spec.key == CONTINUITY_LADDER and provider else None,
    }
