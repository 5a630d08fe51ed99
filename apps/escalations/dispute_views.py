"""What the disputes pages show (issue 15 point 2): the list of disputes about one case (keyset paged, newest first)
and one dispute as its reader sees it -- the case (pseudonymous, a financial disagreement marked), the route with the
current step, both parties' positions, the solution on the table with each party's answer (who, when), the
subcommittee, the dispute files, the shared timeline and documents -- with the actions this reader's side may take.

Read through the scope the controller chose (``disputes.side_of`` says which side that makes someone): the team's
``RegionScope``, a municipality's ``MunicipalityScope`` or the provider's ``ProviderScope``.
"""

from __future__ import annotations

import json
from typing import Any

from apps.accounts.roles import DECIDES
from apps.documents.tables import Document
from apps.escalations.cases import case_out, discussion_point_title
from apps.escalations.dispute_state import (
    ADVICE,
    DECISION,
    MUNICIPALITY,
    PARTIES,
    PROVIDER,
    REGION,
    DisputeState,
    dispute_of,
    load_state,
)
from apps.escalations.disputes import find, side_of, write_scope
from apps.escalations.tables import Escalation, TimelineEvent
from apps.escalations.timeline import DOCUMENT_NL, STATUS_NL, describe_event
from apps.ladders.schema import LadderSpec
from apps.ladders.tables import LadderVersion
from apps.providers.tables import Provider
from core import keyset
from core.actor import Actor
from core.formatting import machine_time, nl_date, nl_datetime, size_nl
from core.tenancy import RegionScope

PAGE_SIZE = 50
COUNT_CAP = 1000
TIMELINE_LIMIT = 100
HIDDEN_DOCUMENTS = ("dossier",)  # the team's own dossier holds internal notes: never on a party's page
SOLUTION_LABELS = {DECISION: "Besluit van de lokale aanstuurder", ADVICE: "Advies van het team (Zi2T)",
                   "voorstel": "Voorstel voor een oplossing"}  # fmt: skip
SOLUTION_FIELDS = {DECISION: "besluit", ADVICE: "advies", "voorstel": "voorstel"}


def _segments() -> list[keyset.Segment]:
    return [keyset.Segment("o", None, [(Escalation.opened_at, False), (Escalation.id, False)])]


async def dispute_list(scope: Any, item_url: str, *, after: str = "", before: str = "") -> dict:
    """One page of the disputes this scope reads, newest first (keyset; a stale cursor shows the first page)."""
    is_case = Escalation.case_municipality.is_not_null()

    def query():
        return scope.select(
            Escalation, Escalation.id, Escalation.reference, Escalation.status, Escalation.current_step,
            Escalation.opened_at, Escalation.case_reference, Escalation.case_financial, Escalation.category,
            Escalation.subcategory, Escalation.ladder_version,
            Escalation.case_municipality.name.as_alias("municipality_name"),
            Escalation.provider.name.as_alias("provider_name"),
            Escalation.ladder_version.definition.as_alias("definition"),
        ).where(is_case)  # fmt: skip

    total, capped = await keyset.capped_rows(scope, Escalation, is_case, COUNT_CAP)
    found = await keyset.first_page_if_stale(keyset.select_fetch(query), _segments(), PAGE_SIZE, after=after,
                                             before=before)  # fmt: skip
    items, specs = [], {}  # a page's disputes share a few ladder versions: each read once
    for row in found.rows:
        definition = row.pop("definition")
        if row["ladder_version"] not in specs:
            specs[row["ladder_version"]] = LadderSpec.model_validate(_decoded(definition))
        spec = specs[row["ladder_version"]]
        step = next((s for s in spec.steps if s.key == row["current_step"]), None)
        items.append({**row, "step_title": step.title if step else row["current_step"],
                      "point": discussion_point_title(spec, row["category"], row["subcategory"]),
                      "status_nl": STATUS_NL.get(row["status"], row["status"]), "opened_nl": nl_date(row["opened_at"]),
                      "url": f"{item_url}/{row['id']}"})  # fmt: skip
    return {"items": items, "count": keyset.count_nl(total, capped), "next": found.next, "previous": found.previous}


def _decoded(definition: Any) -> dict:
    return json.loads(definition) if isinstance(definition, str) else definition


def _who(event: Any) -> dict:
    return {"who": event.actor_label or "Systeem", "when": nl_datetime(event.occurred_at),
            "iso": machine_time(event.occurred_at)}  # fmt: skip


async def dispute_view(scope: Any, escalation_id: Any, actor: Actor, action_base: str, *,
                       document_url: str, with_timeline: bool = True) -> dict:  # fmt: skip
    """One dispute for this reader: ``action_base`` is where its forms post, ``document_url`` the prefix of a
    shared document's download. Raises ``disputes.DisputeNotFound`` (404) for anything this scope may not read."""
    escalation = await find(scope, escalation_id)
    side = side_of(scope, actor, escalation) if _acts(scope, actor) else "lezer"
    region_scope = write_scope(scope, escalation)  # the case's municipality and the ladder version are region data
    version = await region_scope.get(LadderVersion, escalation.ladder_version)
    spec = LadderSpec.model_validate(version.definition)
    dispute = dispute_of(spec)
    state = await load_state(scope, escalation, dispute) if dispute else None
    provider = await Provider.objects().where(Provider.id == escalation.provider).first()
    is_open = escalation.status != "closed"
    view = {
        "esc": escalation, "side": side, "action_base": action_base, "provider_name": provider.name if provider else "",
        "case": await case_out(region_scope, escalation, spec), "ladder_name": spec.name,
        "status_nl": STATUS_NL.get(escalation.status, escalation.status), "opened_nl": nl_date(escalation.opened_at),
        "current_title": spec.step(escalation.current_step).title, "is_open": is_open, "dispute": dispute,
        "document_url": document_url,
    }  # fmt: skip
    if dispute is not None and state is not None:
        view.update(_route(spec, state))
        view.update(_actions(spec, state, side, is_open))
    if with_timeline:
        events = await scope.objects(TimelineEvent).where(TimelineEvent.escalation == escalation.id).order_by(
            TimelineEvent.sequence, ascending=False).limit(TIMELINE_LIMIT)  # fmt: skip
        view["events"] = [{**describe_event(e), "link": None} for e in events if e.visibility == "shared"]
        documents = await scope.objects(Document).where(Document.escalation == escalation.id).order_by(
            Document.uploaded_at)  # fmt: skip
        view["documents"] = [
            {"kind": DOCUMENT_NL.get(d.kind, "geschildossier" if d.kind == "geschildossier" else d.kind),
             "filename": d.original_filename, "size": size_nl(d.size or 0), "when": nl_datetime(d.uploaded_at),
             "url": f"{document_url}/{d.id}"}
            for d in documents if d.kind not in HIDDEN_DOCUMENTS and d.provider is not None
        ]  # fmt: skip
    return view


def _acts(scope: Any, actor: Actor) -> bool:
    """A reader who is no side (the observer) only reads."""
    return not isinstance(scope, RegionScope) or actor.has_any(DECIDES)


def _route(spec: LadderSpec, state: DisputeState) -> dict:
    dispute = state.spec
    reached = dispute.route.index(state.current_step) if state.in_route else len(dispute.route)
    names = {PROVIDER: "Aanbieder", MUNICIPALITY: "Gemeente"}
    positions = [{"party": names[p], **({"text": state.positions[p].payload.get("tekst", ""),
                                         **_who(state.positions[p])} if p in state.positions else {})}
                 for p in PARTIES]  # fmt: skip
    solution = None
    if state.solution is not None:
        answers = []
        for party in PARTIES:
            answer = state.answers.get(party)
            answers.append({"party": names[party], "answered": answer is not None,
                            "agrees": bool(answer and answer.payload.get("akkoord")),
                            "reason": (answer.payload.get("toelichting") or "") if answer else "",
                            **(_who(answer) if answer else {})})  # fmt: skip
        payload = state.solution.payload or {}
        solution = {"label": SOLUTION_LABELS.get(payload.get("soort", ""), "Oplossing"),
                    "text": payload.get("tekst", ""), "answers": answers, **_who(state.solution)}  # fmt: skip
    files = [{"filename": f.payload.get("bestandsnaam", ""), "sha256": f.payload.get("sha256", ""),
              "document": f.payload.get("document_id", ""), "name": f.payload.get("naam", ""), **_who(f)}
             for f in state.files]  # fmt: skip
    return {
        "route": [{"key": key, "title": spec.step(key).title, "current": key == state.current_step,
                   "passed": i < reached} for i, key in enumerate(dispute.route)],  # fmt: skip
        "positions": positions,
        "solution": solution,
        "agreed": state.agreed,
        "subcommittee": dispute.subcommittees.get(state.subcommittee, ""),
        "subcommittee_key": state.subcommittee,
        "subcommittees": list(dispute.subcommittees.items()),
        "files": files,
        "in_committee": state.current_step == dispute.committee_step,
        "agreement_title": spec.step(dispute.agreement_step).title,
    }


def _actions(spec: LadderSpec, state: DisputeState, side: str, is_open: bool) -> dict:
    party = side in PARTIES
    kind = state.solution_kind() if state.in_route else ""
    target = state.next_step()
    in_committee = state.current_step == state.spec.committee_step
    return {
        "can_position": is_open and party,
        "solution_form": {"label": SOLUTION_LABELS[kind], "field": SOLUTION_FIELDS[kind]}
        if is_open and kind and state.may_put_solution(side) and not state.agreed else None,
        "can_answer": is_open and party and state.solution is not None,
        "scale_up": {"key": target, "title": spec.step(target).title,
                     "needs_subcommittee": target == state.spec.committee_step}
        if is_open and party and target and not state.agreed else None,
        "can_choose_subcommittee": is_open and in_committee and (party or side == REGION),
        "can_make_file": in_committee and bool(state.subcommittee) and (party or side == REGION),
    }  # fmt: skip
