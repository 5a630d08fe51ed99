"""What the escalation API reads, shaped for its answers: the list items sorted by next deadline, one
escalation in full and a page of its timeline. The controllers in ``api.py`` call these."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from apps.escalations import services
from apps.escalations.cases import case_out
from apps.escalations.context import imposes_measures
from apps.escalations.deadlines import OPEN, SUSPENDED, WAITING, local_date
from apps.escalations.letter_fields import api_fields
from apps.escalations.letter_receipts import letters_of_escalation
from apps.escalations.letters import letter_title, letters_of
from apps.escalations.preconditions import CLOSED_NOT, closed_steps
from apps.escalations.schemas import (
    deadline_out,
    event_out,
    iso,
    measure_label,
    term_title,
)
from apps.escalations.tables import Deadline, Escalation, Measure, StepProposal
from apps.ladders.schema import LadderSpec
from apps.ladders.services import kept_spec, spec_of
from apps.ladders.tables import Ladder, LadderVersion
from apps.ladders.texts import fill
from apps.providers.tables import Provider
from apps.tenancy.services import text_values
from apps.tenancy.tables import Municipality, Region
from core import keyset
from core.tenancy import ProviderScope, RegionScope

LIST_COLUMNS = (
    Escalation.id,
    Escalation.reference,
    Escalation.region,
    Escalation.provider,
    Escalation.category,
    Escalation.subcategory,
    Escalation.current_step,
    Escalation.status,
    Escalation.outcome,
    Escalation.summary,
    Escalation.opened_at,
    Escalation.closed_at,
    Escalation.next_due_at,  # the keyset's order
    Escalation.ladder_version,
    Escalation.provider.name.as_alias("provider_name"),
    Escalation.provider.kvk_number.as_alias("provider_kvk"),
    Escalation.ladder_version.version.as_alias("ladder_version_number"),
    Escalation.ladder_version.ladder.key.as_alias("ladder_key"),
    Escalation.ladder_version.sha256.as_alias("ladder_sha256"),
)


class Specs:
    """Ladder specs by version id for one request: the process's validated spec (kept by version id and sha256,
    ``cached_spec``) when the caller read the version's sha256 with its rows, else the version read once."""

    def __init__(self) -> None:
        self._specs: dict[UUID, LadderSpec] = {}

    async def get(self, scope: RegionScope, version_id: UUID, sha256: str = "") -> LadderSpec | None:
        if version_id not in self._specs:
            spec = kept_spec(version_id, sha256)
            if spec is None:
                version = await scope.get(LadderVersion, version_id)
                if version is None:
                    return None
                spec = spec_of(version)
            self._specs[version_id] = spec
        return self._specs[version_id]


def step_title(spec: LadderSpec | None, key: str) -> str:
    try:
        return spec.step(key).title if spec else key
    except KeyError:
        return key


async def list_page(page: keyset.Page, next_due: dict[UUID, Deadline], now: datetime, limit: int,
                    total: tuple[int, bool]) -> dict:  # fmt: skip
    """One page of sorted rows, shaped as list items, with the cursor of the next page (None: the last page)."""
    count, capped = total
    return {
        "items": await list_items(page.rows, next_due, now),
        "total": count,
        "total_capped": capped,
        "limit": limit,
        "next_after": page.next,
    }


async def list_items(rows: list[dict], next_due: dict[UUID, Deadline], now: datetime) -> list[dict]:
    specs = Specs()
    items = []
    for row in rows:
        spec = await specs.get(RegionScope(row["region"]), row["ladder_version"], row["ladder_sha256"])
        deadline = next_due.get(row["id"])
        items.append(
            {
                "id": str(row["id"]),
                "reference": row["reference"],
                "provider": {"id": str(row["provider"]), "name": row["provider_name"], "kvk": row["provider_kvk"]},
                "ladder": {"key": row["ladder_key"], "version": row["ladder_version_number"]},
                "category": row["category"],
                "subcategory": row["subcategory"],
                "current_step": {"key": row["current_step"], "title": step_title(spec, row["current_step"])},
                "status": row["status"],
                "outcome": row["outcome"],
                "summary": row["summary"],
                "opened_at": iso(row["opened_at"]),
                "closed_at": iso(row["closed_at"]),
                "next_deadline": None
                if deadline is None
                else {
                    "id": str(deadline.id),
                    "title": term_title(spec, deadline.step, deadline.key),
                    "due_at": iso(deadline.due_at),
                    "due_date": local_date(deadline.due_at).isoformat(),
                    "overdue": deadline.due_at <= now,
                },
            }
        )
    return items


async def escalation_detail(
    region_scope: RegionScope,
    reader: RegionScope | ProviderScope,
    escalation: Escalation,
    now: datetime,
    *,
    for_provider: bool = False,
) -> dict[str, Any]:
    """The escalation with its current step, the next steps its OWN ladder version allows, its running
    deadlines and its measures in force (with the municipalities that must follow them)."""
    version = await region_scope.get(LadderVersion, escalation.ladder_version)
    spec = spec_of(version)
    ladder = await region_scope.get(Ladder, version.ladder)
    latest = (
        await region_scope.select(LadderVersion, LadderVersion.version)
        .where(LadderVersion.ladder == version.ladder)
        .order_by(LadderVersion.version, ascending=False)
        .first()
    )
    provider = await Provider.objects().where(Provider.id == escalation.provider).first()
    region = await Region.select(Region.slug, Region.name).where(Region.id == region_scope.region_id).first()
    try:
        step = spec.step(escalation.current_step)
    except KeyError:
        step = None
    allowed = [] if escalation.status == "closed" or step is None else spec.allowed_next(step.key)
    description = step.description if step else ""
    if "{" in description:  # a placeholder such as "{gemeenten}": the region's count today
        description = fill(description, await text_values(region_scope, region["name"], local_date(now)))
    deadlines = (
        await reader.objects(Deadline)
        .where((Deadline.escalation == escalation.id) & Deadline.status.is_in([WAITING, OPEN, SUSPENDED]))
        .order_by(Deadline.due_at)
    )
    waiting = [d for d in deadlines if d.status == WAITING]
    deadlines = [d for d in deadlines if d.status != WAITING]
    measures = (
        await reader.objects(Measure)
        .where((Measure.escalation == escalation.id) & Measure.ended_at.is_null())
        .order_by(Measure.started_at)
    )
    names = {
        m["cbs_code"]: m["name"]
        for m in await region_scope.select(Municipality, Municipality.cbs_code, Municipality.name)
    }
    detail: dict[str, Any] = {
        "id": str(escalation.id),
        "reference": escalation.reference,
        "region": {"slug": region["slug"], "name": region["name"]},
        "provider": {"id": str(provider.id), "name": provider.name, "kvk": provider.kvk_number},
        "ladder": {
            "key": ladder.key,
            "name": spec.name,
            "version": version.version,
            "latest_version": latest["version"] if latest else version.version,
        },
        "category": escalation.category,
        "subcategory": escalation.subcategory,
        "status": escalation.status,
        "outcome": escalation.outcome,
        "summary": escalation.summary,
        "case": await case_out(region_scope, escalation, spec),  # a dispute about one case (seed 001), else None
        "opened_at": iso(escalation.opened_at),
        "closed_at": iso(escalation.closed_at),
        "current_step": {
            "key": escalation.current_step,
            "title": step.title if step else escalation.current_step,
            "description": description,
            "actor": step.actor if step else "",
            "final": step.final if step else False,
        },
        "open_deadlines": [deadline_out(d, spec, now) for d in deadlines],
        # terms that start at an event not yet happened ("wacht op levering van het arrangement")
        "waiting_deadlines": [deadline_out(d, spec, now) for d in waiting],
        "active_measures": [
            {
                "id": str(m.id),
                "kind": m.kind,
                "label": measure_label(m.kind),
                "started_at": iso(m.started_at),
                "motivation": m.start_motivation,
                "municipalities": [{"cbs_code": code, "name": names.get(code, code)} for code in m.scope or []],
            }
            for m in measures
        ],
        # The letters sent to the provider, newest first: how each went and when it was received (BW 3:37 lid 3).
        "letters": [
            {
                "id": x["id"],
                "letter": x["letter"],
                "title": x["title"],
                "document_id": x["document_id"],
                "sending_method": x["method"],
                "sent_at": iso(x["sent_at"]),
                "acknowledge_by": iso(x["acknowledge_by"]),
                "received_at": iso(x["received_at"]),
                "received_how": x["received_how"] or None,
                "tracking_code": x["tracking_code"] or None,
            }
            for x in await letters_of_escalation(reader, escalation.id)
        ],  # fmt: skip
    }
    if not for_provider:
        # What the ladder proposed and a person must decide (a letter, a measure): "Te beoordelen".
        detail["proposals"] = [
            {"step": p.step, "title": p.step_title, "letter": p.letter or None, "reason": p.reason,
             "proposed_at": iso(p.proposed_at)}
            for p in await reader.objects(StepProposal)
            .where((StepProposal.escalation == escalation.id) & (StepProposal.status == "open"))
            .order_by(StepProposal.proposed_at)
        ]  # fmt: skip
        allowed = [*allowed, *(p["step"] for p in detail["proposals"] if p["step"] not in allowed)]
        # open or closed now, with the ladder's Dutch reason: the same refusal a transition to the step answers
        closed = await closed_steps(region_scope, escalation, spec, allowed, now)
        detail["allowed_next_steps"] = [
            {"key": key, "title": spec.step(key).title, "imposes_measures": imposes_measures(spec.step(key)),
             "open": closed.get(key, CLOSED_NOT)["closed_reason"] is None, **closed.get(key, CLOSED_NOT),
             # the letters the step sends and the fields the decider fills for them (a transition's letter_fields)
             "letters": [{"letter": k, "title": letter_title(k)} for k in letters_of(spec.step(key))],
             "letter_fields": api_fields(spec.step(key))}
            for key in allowed
        ]  # fmt: skip
    return detail


async def timeline_page(reader, escalation_id: UUID, *, include_internal: bool, before: int | None, limit: int):
    events = await services.timeline(
        reader, escalation_id, include_internal=include_internal, before_sequence=before, limit=limit
    )
    more = len(events) == limit and events[-1].sequence > 1
    return {"items": [event_out(e) for e in events], "next_before": events[-1].sequence if more else None}


# --- the region's escalations -------------------------------------------------------------------------------
