"""The escalation page's view model: the escalation with its ladder version, steps, deadlines, measures, documents,
the actions the ladder allows from here, and the timeline as the page (and the dossier) describe it.

Read through ``RegionScope``; the rules stay in ``services`` / ``transitions``. The controllers in
``controllers/escalations.py`` render what ``escalation_context`` returns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

from litestar.exceptions import NotFoundException

from apps.documents.tables import Document
from apps.escalations import services
from apps.escalations.account_region import account_region_of
from apps.escalations.cases import case_out
from apps.escalations.chosen_terms import page_terms
from apps.escalations.context import MEASURE_LABELS, imposes_measures, load_context
from apps.escalations.deadlines import STATUS_NL as DEADLINE_STATUS_NL
from apps.escalations.deadlines import waiting_for
from apps.escalations.dossier_requests import dossier_state
from apps.escalations.letter_fields import page_fields
from apps.escalations.letter_receipts import METHODS, RECEIVED_NL, RECORDED_HOW, letters_of_escalation
from apps.escalations.letters import letter_title, letters_of
from apps.escalations.preconditions import StepOption, step_options
from apps.escalations.receipts import CHANNELS
from apps.escalations.tables import Deadline, Escalation, Measure, Signal, StepProposal, TimelineEvent
from apps.escalations.verdicts import JUDGED_KINDS, VERDICTS, verdicts_of
from apps.escalations.workspace import Here, new_key
from apps.ladders.schema import DOCUMENT_NAMES, EndMeasure, LadderSpec, StartMeasure
from apps.ladders.services import spec_of
from apps.ladders.tables import LadderVersion
from apps.ladders.texts import fill
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.services import text_values
from apps.tenancy.tables import Municipality
from core.formatting import as_datetime, format_date_nl, iso, local_day, nl_date, nl_datetime
from core.tenancy import CONTINUITY_LADDER, RegionScope

TIMELINE_PAGE = 20
STATUS_NL = {"open": "Lopend", "paused": "Gepauzeerd", "closed": "Afgesloten"}
DOCUMENT_NL = {**DOCUMENT_NAMES, "brief": "brief"}  # the ladder's document kinds, and the region's letters
# Outcomes for closing an escalation outside the ladder's final steps (the ladder's own outcomes come with them).
# Outcomes for closing an escalation outside the ladder's final steps (the ladder's own outcomes come with them).
CLOSE_OUTCOMES = {
    "hersteld": "Hersteld: de tekortkoming is opgelost",
    "ingetrokken": "Ingetrokken: het signaal bleek onterecht",
    "overgedragen": "Overgedragen aan een andere regio of instantie",
    "samengevoegd": "Samengevoegd met een andere escalatie",
}


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
    "termijn_gestart": "Termijn gestart",
    "ontvangst_vastgelegd": "Ontvangst vastgelegd",
    "ontvangst_bevestigd": "Ontvangst bevestigd",
    "brief_ontvangen": "Ontvangst van de brief vastgelegd",
    "termijn_gehaald": "Termijn gehaald",
    "termijn_verlopen": "Termijn verlopen",
    "termijn_opgeschort": "Termijn opgeschort",
    "termijn_hervat": "Termijn hervat",
    "termijn_verlengd": "Termijn verlengd",
    "herinnering_verstuurd": "Herinnering verstuurd",
    "document_beoordeeld": "Document beoordeeld",
    "termijn_heropend": "Termijn heropend",
}


async def deliveries(scope: RegionScope, events: list[TimelineEvent]) -> dict[Any, str]:
    """For each notice event: how many of its mails were delivered, when the last one went, and what failed.
    One query for all the page's notice events: their mails' keys start with the event id, and they are written
    with the event (or split from its row later), so none is older than the earliest event: the range on
    (region, created_at) of the index notification_region_created bounds what is read."""
    notices = [event for event in events if event.kind == "melding_verstuurd"]
    if not notices:
        return {}
    prefixes = None
    for event in notices:
        term = Notification.idempotency_key.like(f"{event.id}:%")
        prefixes = term if prefixes is None else prefixes | term
    earliest = min(as_datetime(event.occurred_at) for event in notices).astimezone(UTC) - timedelta(days=1)
    rows = await scope.select(
        Notification, Notification.idempotency_key, Notification.status, Notification.sent_at
    ).where((Notification.channel == "email") & (Notification.created_at >= earliest) & prefixes)  # fmt: skip
    by_event: dict[str, list[dict]] = {}
    for row in rows:
        by_event.setdefault(row["idempotency_key"].split(":", 1)[0], []).append(row)
    found = {}
    for event in notices:
        mails = by_event.get(str(event.id))
        if not mails:
            continue
        sent = [row["sent_at"] for row in mails if row["status"] == "sent" and row["sent_at"]]
        failed = sum(1 for row in mails if row["status"] == "failed")
        text = f"Bezorgd: {len(sent)} van {len(mails)}"
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
        if (p.get("uitzondering") or {}).get("tekst"):
            detail += f" Uitzondering van artikel 6:83 BW vastgelegd: {p['uitzondering']['tekst']}."
        for chosen in p.get("gekozen_termijnen") or []:
            detail += f" Redelijke termijn gesteld op {chosen.get('gekozen')} (de ladder noemt {chosen.get('ladder')})."
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
            if p.get("verzending_tekst"):
                detail += f" Verzonden {p['verzending_tekst']}."
        else:  # recorded before letters were rendered
            detail = f"Brief ‘{title}’ aangevraagd."
    elif kind in ("ontvangst_bevestigd", "brief_ontvangen"):
        received = p.get("ontvangen_op", "")
        with contextlib.suppress(ValueError):
            received = format_date_nl(date.fromisoformat(received))
        how = RECEIVED_NL.get(p.get("wijze", ""), p.get("wijze_tekst", ""))
        detail = f"Brief ‘{p.get('titel', '')}’ ontvangen op {received}: {how}."
        if p.get("track_and_trace"):
            detail += f" Track-and-trace-code {p['track_and_trace']}."
    elif kind in ("notitie", "bericht"):
        text = p.get("tekst", "")
        if kind == "bericht":
            detail = "Van de aanbieder." if p.get("van") == "aanbieder" else "Van het team inkoop aan de aanbieder."
    elif kind == "volgende_stap_voorgesteld":
        detail = f"Voorstel: ‘{p.get('stap_titel', '')}’. {p.get('aanleiding', '')}"
    elif kind == "ontvangst_vastgelegd":
        received = p.get("ontvangen_op", "")
        with contextlib.suppress(ValueError):
            received = format_date_nl(date.fromisoformat(received))
        detail = f"{str(p.get('document_naam', '')).capitalize()} ontvangen op {received}, {p.get('kanaal_tekst', '')}."
        if p.get("document_id"):  # the file as it came in, kept with the escalation's documents
            link = {"href": f"../documenten/{p['document_id']}", "text": p.get("bestandsnaam") or "bestand"}
    elif kind == "document_beoordeeld":
        detail = (f"{str(p.get('document_naam', '')).capitalize()} ({p.get('bestandsnaam', '')}): "
                  f"{str(p.get('oordeel_tekst', '')).lower()}.")
        if p.get("termijnen_heropend"):
            detail += " De aanbieder levert opnieuw aan."
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


async def open_proposals(scope: RegionScope, escalation_id: Any) -> list[dict]:
    """The ladder's open proposals for this escalation ("Te beoordelen"), oldest first."""
    rows = (
        await scope.select(
            StepProposal,
            StepProposal.step,
            StepProposal.step_title,
            StepProposal.letter,
            StepProposal.reason,
            StepProposal.proposed_at,
        )
        .where((StepProposal.escalation == escalation_id) & (StepProposal.status == "open"))
        .order_by(StepProposal.proposed_at)
    )
    return [
        {**row, "letter_title": letter_title(row["letter"]) if row["letter"] else "",
         "since": nl_date(row["proposed_at"])}
        for row in rows
    ]  # fmt: skip


async def step_states(hereabouts: Here, escalation: Escalation) -> dict[str, StepOption]:
    """Whether each step the ladder allows from here is open now, and if not why (``preconditions.step_options``)."""
    if escalation.status == "closed" or not hereabouts.can_decide:
        return {}
    ctx = await load_context(hereabouts.scope, escalation.id, hereabouts.clock)
    return {option.key: option for option in await step_options(ctx)}


def action_options(
    loaded: Loaded, hereabouts: Here, proposals: list[dict] | None = None, texts: Mapping[str, str] | None = None,
    states: Mapping[str, StepOption] | None = None,
) -> list[dict]:  # fmt: skip
    """The steps the escalation's own ladder version allows from here, as forms -- and the steps the ladder
    proposed (a missed term's move_to_step waits for a person), marked as proposed. ``texts``: the values of the
    ladder's placeholders today ("16 gemeenten", apps.ladders.texts). ``states`` (``step_states``): a closed step
    carries its label, its Dutch reason and the BW 6:83 exceptions the decider may record instead; a step whose
    letter sets a reasonable term carries that term (``chosen_terms.page_terms``), which the decider may change."""
    escalation, spec = loaded.escalation, loaded.spec
    if escalation.status == "closed" or not hereabouts.can_decide:
        return []
    proposed = {p["step"]: p for p in proposals or []}
    keys = spec.allowed_next(escalation.current_step)
    keys = [*keys, *(key for key in proposed if key not in keys and key in {s.key for s in spec.steps})]
    options = []
    for key in keys:
        step = spec.step(key)
        starts, ends = measures_of(step)
        state = (states or {}).get(key)
        options.append(
            {
                "key": key,
                "title": step.title,
                "description": fill(step.description, texts or {}),
                "final": step.final,
                "starts": [MEASURE_LABELS.get(m, m) for m in starts],
                "ends": [MEASURE_LABELS.get(m, m) for m in ends],
                "lead_only": imposes_measures(step),
                "allowed": hereabouts.is_lead or not imposes_measures(step),
                "letters": [{"key": k, "title": letter_title(k)} for k in letters_of(step)],
                "proposal": proposed.get(key),
                "open": state.open if state else True,
                "label": state.label if state else "",
                "reason": state.reason if state else "",
                "exceptions": [{"key": k, "text": text} for k, text in state.exceptions] if state else [],
                "terms": [{"key": t.key, "title": t.title or t.key, "term": t.term} for t in page_terms(step)],
                "fields": page_fields(step),  # the fields of its letters' kinds (letter_fields)
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
    proposals = await open_proposals(scope, escalation.id) if escalation.status != "closed" else []
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
    for d in sorted(deadline_rows, key=lambda row: row.due_at is None):  # waiting terms (no due date) last
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
                "due": nl_date(d.due_at) if d.due_at else waiting_for(d.starts),
                "due_iso": iso(d.due_at),
                "status": d.status,
                "status_nl": DEADLINE_STATUS_NL.get(d.status, d.status),
                "overdue": d.status == "open" and d.due_at is not None and d.due_at < now,
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
    judged = await verdicts_of(scope, escalation.id)
    documents = [
        {"id": str(doc.id), "kind": DOCUMENT_NL.get(doc.kind, doc.kind), "filename": doc.original_filename,
         "size": doc.size, "sha256": doc.sha256, "when": nl_datetime(doc.uploaded_at),
         "judgeable": doc.kind in JUDGED_KINDS and escalation.status != "closed",
         "verdict": {**judged[str(doc.id)], "at": nl_date(judged[str(doc.id)]["at"])}
         if str(doc.id) in judged else None}
        for doc in await scope.objects(Document).where(Document.escalation == escalation.id)
        .order_by(Document.uploaded_at, ascending=False)
    ]  # fmt: skip
    letters = await letters_of_escalation(scope, escalation.id)
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
        # A continuity escalation names the provider's account-holding region, which coordinates (seed 004).
        account_region=await account_region_of(loaded.provider, hereabouts.clock)
        if spec.key == CONTINUITY_LADDER and loaded.provider else None,
        case=await case_out(scope, escalation, spec),  # a dispute about one case: municipality, reference, ...
        opened_nl=nl_date(escalation.opened_at),
        steps=steps,
        deadlines=deadlines,
        measures=measures,
        active_measures=[m for m in measures if m["active"]],
        actions=action_options(loaded, hereabouts, proposals, await _texts_if_used(hereabouts, spec),
                               await step_states(hereabouts, escalation)),  # fmt: skip
        proposals=proposals,
        events=[describe_event(e, delivered.get(e.id, "")) for e in events],
        more_before=events[-1].sequence if more and events else None,
        before=before,
        newest=newest["sequence"] if newest else 0,
        signals=[{**s, "received_nl": nl_date(s["received_at"])} for s in linked_signals],
        documents=documents,
        verdicts=VERDICTS,
        evidence_url=f"{hereabouts.base()}/aanbieders/{escalation.provider}/bewijs",
        dossier=await dossier_state(scope, escalation.id),  # the dossier block: requested, being made, ready
        outcomes=CLOSE_OUTCOMES,
        receipt_kinds=await services.expected_kinds(scope, escalation.id, escalation.current_step)
        if escalation.status != "closed" else {},
        channels=CHANNELS,
        letters=letters,
        unreceived_letters={x["id"]: f"{x['title']} (verstuurd {x['sent_nl']})" for x in letters
                            if not x["received_at"]},
        letter_methods=METHODS,
        recorded_how=RECORDED_HOW,
        today_iso=local_day(now).isoformat(),
        forms=forms or {},
        notice=notice,
        new_key=new_key,
        url=f"{hereabouts.base()}/escalaties/{escalation.id}",
    )  # fmt: skip


async def _texts_if_used(hereabouts: Here, spec: LadderSpec) -> dict[str, str]:
    """The placeholders' values, read only when the ladder's step descriptions use one."""
    if not any("{" in step.description for step in spec.steps):
        return {}
    return await text_values(hereabouts.scope, hereabouts.region.name, hereabouts.clock.today())


def loaded_step_title(spec: LadderSpec, key: str) -> str:
    try:
        return spec.step(key).title
    except KeyError:
        return key
