"""The escalation page's view model: the escalation with its ladder version, steps, deadlines, measures, documents,
the actions the ladder allows from here, and the timeline as the page (and the dossier) describe it.

Read through ``RegionScope``; the rules stay in ``services`` / ``transitions``. The controllers in
``controllers/escalations.py`` render what ``escalation_context`` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from litestar.exceptions import NotFoundException

from apps.documents.tables import Document
from apps.escalations.account_region import account_region_of
from apps.escalations.cases import case_out
from apps.escalations.chosen_terms import page_terms
from apps.escalations.context import MEASURE_LABELS, Context, imposes_measures
from apps.escalations.deadlines import STATUS_NL as DEADLINE_STATUS_NL
from apps.escalations.deadlines import waiting_for
from apps.escalations.dossier_requests import dossier_state
from apps.escalations.letter_fields import page_fields
from apps.escalations.letter_receipts import METHODS, RECORDED_HOW, letters_of_escalation
from apps.escalations.letters import letter_title, letters_of
from apps.escalations.now import actions_first, find_term, now_summary, term_task
from apps.escalations.preconditions import (
    ENTERING_EVENTS,
    PASSING,
    History,
    StepOption,
    history_from,
    notice_terms,
    step_options,
)
from apps.escalations.receipts import CHANNELS, RECEIVABLE, kinds_from
from apps.escalations.tables import Deadline, Escalation, Measure, Signal, StepProposal, TimelineEvent
from apps.escalations.timeline import (
    CLOSE_OUTCOMES,
    DOCUMENT_NL,
    STATUS_NL,
    TIMELINE_PAGE,
    deliveries,
    describe_event,
    outcome_nl,
    page_of_events,
)
from apps.escalations.verdicts import EVENT as VERDICT_EVENT
from apps.escalations.verdicts import JUDGED_KINDS, VERDICTS, verdicts_from
from apps.escalations.workspace import Here, new_key
from apps.evidence.deliveries import delivered_for_escalation
from apps.evidence.services import VERDICTS as EVIDENCE_VERDICTS
from apps.ladders.schema import EndMeasure, LadderSpec, StartMeasure
from apps.ladders.services import kept_spec, spec_of
from apps.ladders.tables import LadderVersion
from apps.ladders.texts import fill
from apps.providers.tables import Provider
from apps.tenancy.services import text_values
from apps.tenancy.tables import Municipality
from core.formatting import iso, local_day, nl_date, nl_datetime
from core.tenancy import CONTINUITY_LADDER, RegionScope


@dataclass
class Loaded:
    escalation: Escalation
    spec: LadderSpec
    version: LadderVersion
    provider: Provider | None


# The escalation with its ladder version's sha256 and its provider: one query. Each joined column costs Piccolo
# ForeignKey lookups to build (a fifth of the page went to building SQL), so the version's other columns come from
# ``_VERSIONS`` (versions never change) and are read only with its definition, when this process has not yet.
LOADED_COLUMNS = (
    *Escalation.all_columns(),
    Escalation.ladder_version.sha256,
    *Escalation.provider.all_columns(),
)
# The version rows this process has read, without their definition, by id and sha256 (like ``kept_spec``).
_VERSIONS: dict[tuple[str, str], dict[str, Any]] = {}
_VERSIONS_KEPT = 512


def _part(row: dict, prefix: str) -> dict:
    return {key.removeprefix(prefix): value for key, value in row.items() if key.startswith(prefix)}


async def load_escalation(scope: RegionScope, escalation_id: Any) -> Loaded:
    """The escalation, its ladder version and its provider in one query (issue 20: three); the version is read
    only when this process has not read and validated it yet (``kept_spec``: versions never change)."""
    try:
        row_id = UUID(str(escalation_id))
    except ValueError:
        raise NotFoundException() from None
    row = await scope.select(Escalation, *LOADED_COLUMNS).where(Escalation.id == row_id).first()
    if row is None:
        raise NotFoundException()
    escalation = scope.loaded(Escalation, {key: value for key, value in row.items() if "." not in key})
    key = (str(escalation.ladder_version), row["ladder_version.sha256"])
    spec, version_row = kept_spec(*key), _VERSIONS.get(key)
    if spec is None or version_row is None:
        version = await scope.get(LadderVersion, escalation.ladder_version)
        spec = spec_of(version)
        if len(_VERSIONS) >= _VERSIONS_KEPT:
            _VERSIONS.clear()
        _VERSIONS[key] = {name: value for name, value in version.to_dict().items() if name != "definition"}
    else:  # its definition is the spec's, validated once: not read again (the scope checks the region each time)
        version = scope.loaded(LadderVersion, {**version_row, "definition": None})
    provider_row = _part(row, "provider.")
    provider = Provider(_exists_in_db=True, **provider_row) if provider_row.get("id") else None
    return Loaded(escalation, spec, version, provider)


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


async def step_states(hereabouts: Here, loaded: Loaded, past: History | None = None) -> dict[str, StepOption]:
    """Whether each step the ladder allows from here is open now, and if not why (``preconditions.step_options``).
    Read from what the page loaded already (the escalation, its version and spec, the region; ``past``: its
    history from the page's own rows): a page locks nothing, and reads them once."""
    if loaded.escalation.status == "closed" or not hereabouts.can_decide:
        return {}
    ctx = Context(hereabouts.scope, loaded.escalation, loaded.version, loaded.spec, hereabouts.region,
                  hereabouts.clock)  # fmt: skip
    return {option.key: option for option in await step_options(ctx, past)}


def action_keys(spec: LadderSpec, current_step: str, proposals: list[dict] | None) -> list[str]:
    """The steps the page offers as forms: those the ladder allows from ``current_step``, then the proposed ones."""
    keys = spec.allowed_next(current_step)
    known = {s.key for s in spec.steps}
    return [*keys, *dict.fromkeys(p["step"] for p in proposals or [] if p["step"] not in keys and p["step"] in known)]


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
    keys = action_keys(spec, escalation.current_step, proposals)
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
                # open, but its notice's receipt is not recorded: the decider says why it counts as received
                "receipt": state.receipt if state else "",
                "terms": [{"key": t.key, "title": t.title or t.key, "term": t.term} for t in page_terms(step)],
                "fields": page_fields(step),  # the fields of its letters' kinds (letter_fields)
            }
        )
    return options


# What the page reads of its terms, measures and documents, as plain rows: no row objects and none of the foreign
# keys, which cost Piccolo most to build.
DEADLINE_COLUMNS = (Deadline.id, Deadline.step, Deadline.key, Deadline.term, Deadline.met_by, Deadline.starts,
                    Deadline.starts_at, Deadline.letter_delivery, Deadline.due_at, Deadline.status, Deadline.reasons,
                    Deadline.met_at)  # fmt: skip
MEASURE_COLUMNS = (Measure.kind, Measure.scope, Measure.started_at, Measure.ended_at, Measure.start_motivation,
                   Measure.end_motivation)  # fmt: skip
# its documents: what the list and ``dossier_state`` show (the table has six foreign keys)
DOCUMENT_COLUMNS = (Document.id, Document.kind, Document.original_filename, Document.size, Document.sha256,
                    Document.uploaded_at)  # fmt: skip


async def escalation_context(
    hereabouts: Here, escalation_id: Any, *, before: int | None = None, forms: dict | None = None,
    notice: str = "",
) -> dict[str, Any]:  # fmt: skip
    scope = hereabouts.scope
    loaded = await load_escalation(scope, escalation_id)
    escalation, spec = loaded.escalation, loaded.spec
    now = hereabouts.clock.now()
    proposals = await open_proposals(scope, escalation.id) if escalation.status != "closed" else []
    # the steps it went through and the verdicts on its documents, from one read of those events
    marked = await scope.select(
        TimelineEvent, TimelineEvent.kind, TimelineEvent.payload, TimelineEvent.motivation, TimelineEvent.actor_label,
        TimelineEvent.occurred_at,
    ).where(
        (TimelineEvent.escalation == escalation.id) & TimelineEvent.kind.is_in([*ENTERING_EVENTS, VERDICT_EVENT])
    ).order_by(TimelineEvent.sequence)  # fmt: skip
    visited_rows = [row for row in marked if row["kind"] in ENTERING_EVENTS]
    visited = {r["payload"].get("stap") or r["payload"].get("naar") for r in visited_rows} | {
        r["payload"].get("van") for r in visited_rows
    }
    steps = [
        {"key": s.key, "title": s.title, "current": s.key == escalation.current_step, "visited": s.key in visited,
         "final": s.final}
        for s in spec.steps
    ]  # fmt: skip
    deadline_rows = [SimpleNamespace(**row) for row in await scope.select(Deadline, *DEADLINE_COLUMNS).where(
        Deadline.escalation == escalation.id).order_by(Deadline.due_at)]  # fmt: skip
    deadlines = []
    for d in sorted(deadline_rows, key=lambda row: row.due_at is None):  # waiting terms (no due date) last
        term = find_term(spec, d.step, d.key)
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
                "due_day": local_day(d.due_at) if d.due_at else None,
                "task": term_task(term, d.key),
                "status": d.status,
                "status_nl": DEADLINE_STATUS_NL.get(d.status, d.status),
                "overdue": d.status == "open" and d.due_at is not None and d.due_at < now,
                "reasons": list(d.reasons or []),
                "responsible": term.responsible if term else "",
            }
        )
    measures = []
    measure_rows = [SimpleNamespace(**row) for row in await scope.select(Measure, *MEASURE_COLUMNS).where(
        Measure.escalation == escalation.id).order_by(Measure.started_at)]  # fmt: skip
    names = {  # the municipalities' names, read only when a measure names municipalities
        m["cbs_code"]: m["name"] for m in await scope.select(Municipality, Municipality.cbs_code, Municipality.name)
    } if any(m.scope for m in measure_rows) else {}
    for m in measure_rows:
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
    events = await page_of_events(scope, escalation.id, before=before, limit=TIMELINE_PAGE + 1)
    more = len(events) > TIMELINE_PAGE
    events = events[:TIMELINE_PAGE]
    delivered = await deliveries(scope, events)
    if before is None:  # the first page starts with the newest event
        newest = {"sequence": events[0].sequence} if events else None
    else:
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
    judged = verdicts_from([row for row in marked if row["kind"] == VERDICT_EVENT])
    document_rows = [SimpleNamespace(**row) for row in await scope.select(Document, *DOCUMENT_COLUMNS).where(
        Document.escalation == escalation.id).order_by(Document.uploaded_at, ascending=False)]  # fmt: skip
    documents = [
        {"id": str(doc.id), "kind": DOCUMENT_NL.get(doc.kind, doc.kind), "filename": doc.original_filename,
         "size": doc.size, "sha256": doc.sha256, "when": nl_datetime(doc.uploaded_at),
         "judgeable": doc.kind in JUDGED_KINDS and escalation.status != "closed",
         "verdict": {**judged[str(doc.id)], "at": nl_date(judged[str(doc.id)]["at"])}
         if str(doc.id) in judged else None}
        for doc in document_rows
    ]  # fmt: skip
    letters = await letters_of_escalation(scope, escalation.id)
    evidence = await delivered_for_escalation(scope, escalation)  # delivered for it from the register
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
        actions=actions_first(action_options(
            loaded, hereabouts, proposals, await _texts_if_used(hereabouts, loaded, proposals),
            await step_states(hereabouts, loaded, history_from(
                escalation, visited_rows,
                [d.step for d in deadline_rows if d.status in PASSING and d.due_at is not None
                 and d.due_at <= now and d.met_at is None],
                [m.kind for m in measure_rows if m.ended_at is None],
                notice_terms(deadline_rows, {x["id"]: x for x in letters}, now))))),  # fmt: skip
        # what the page leads with: the step, who acts, the next term, what waits for the team
        now=now_summary(spec=spec, current=escalation.current_step, closed=escalation.status == "closed",
                        deadlines=deadlines, provider_name=loaded.provider.name if loaded.provider else "",
                        region_name=hereabouts.region.name, today=local_day(now), documents=documents,
                        evidence=evidence, letters=letters),  # fmt: skip
        closed_nl=nl_date(escalation.closed_at) if escalation.closed_at else "",
        outcome_nl=outcome_nl(escalation.outcome, spec) if escalation.outcome else "",
        proposals=proposals,
        events=[describe_event(e, delivered.get(e.id, "")) for e in events],
        more_before=events[-1].sequence if more and events else None,
        before=before,
        newest=newest["sequence"] if newest else 0,
        signals=[{**s, "received_nl": nl_date(s["received_at"])} for s in linked_signals],
        documents=documents,
        verdicts=VERDICTS,
        evidence=evidence,
        evidence_verdicts=EVIDENCE_VERDICTS,
        evidence_url=f"{hereabouts.base()}/aanbieders/{escalation.provider}/bewijs",
        dossier=await dossier_state(scope, escalation.id, document_rows),  # requested, being made, ready
        outcomes=CLOSE_OUTCOMES,
        receipt_kinds=kinds_from([{"met_by": d.met_by, "starts": d.starts} for d in deadline_rows
                                  if d.step == escalation.current_step and d.status in RECEIVABLE
                                  and d.met_at is None]) if escalation.status != "closed" else {},
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


async def _texts_if_used(hereabouts: Here, loaded: Loaded, proposals: list[dict]) -> dict[str, str]:
    """The placeholders' values, read only when a step the page offers (``action_options``) has a description that
    uses one."""
    escalation, spec = loaded.escalation, loaded.spec
    if escalation.status == "closed" or not hereabouts.can_decide:
        return {}
    if not any("{" in spec.step(key).description for key in action_keys(spec, escalation.current_step, proposals)):
        return {}
    return await text_values(hereabouts.scope, hereabouts.region.name, hereabouts.clock.today())


def loaded_step_title(spec: LadderSpec, key: str) -> str:
    try:
        return spec.step(key).title
    except KeyError:
        return key
