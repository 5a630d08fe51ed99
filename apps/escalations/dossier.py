"""The dossier of one escalation as a single PDF, for the Geschillencommissie, the inspectorate or a Woo request.

What it holds: the header (region, provider, reference, ladder and version, status), every timeline event oldest
first (internal ones marked "intern"), the decisions with their motivations, the letters sent, the documents with
their SHA-256 checksums, the deadlines and the measures with the municipalities they reach.

Read through ``RegionScope`` like the escalation page, with the same read rule (team inkoop and waarnemer);
rendered from ``frontend/templates/regio/dossier.html`` to PDF/A by the letters' WeasyPrint path
(``letters.html_to_pdf``: title, the region as author, Dutch, the moment of export in the XMP).

Built in the background (``build_requested``, run by the ``build_dossier`` actor of ``dossier_jobs``): 2,000
events take tens of seconds, too long for a request. The request, the states and the stored result are in
``dossier_requests``; the build is an audit entry (``dossier.export``) with the PDF's checksum.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from typing import Any

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape

from apps.documents.tables import Document
from apps.escalations import dossier_requests
from apps.escalations.context import MEASURE_LABELS
from apps.escalations.dashboard import deadline_label
from apps.escalations.deadlines import STATUS_NL as DEADLINE_STATUS_NL
from apps.escalations.deadlines import waiting_for
from apps.escalations.letters import PDF, html_to_pdf, letter_storage
from apps.escalations.tables import Deadline, Measure, TimelineEvent
from apps.escalations.timeline import DOCUMENT_NL, STATUS_NL, describe_event
from apps.escalations.views import load_escalation, loaded_step_title
from apps.escalations.workspace import Here
from apps.tenancy.tables import Municipality, Region
from core.actor import Actor
from core.clock import Clock
from core.formatting import JINJA_FILTERS, nl_date, nl_datetime, size_nl
from core.settings import ROOT
from core.storage import new_key
from core.tenancy import RegionScope

log = logging.getLogger("trede.dossier")
W3C = "%Y-%m-%dT%H:%M:%SZ"  # the PDF's creation date (XMP and document information)

TEMPLATES = ROOT / "frontend" / "templates"
# Events that record a decision of the purchasing team (or the ladder acting for it): the dossier lists them with
# their motivation in a section of their own.
DECISION_KINDS = frozenset({
    "escalatie_geopend", "stap_gewijzigd", "escalatie_gesloten", "maatregel_gestart", "maatregel_beeindigd",
    "signaal_gekoppeld", "termijn_opgeschort", "termijn_hervat", "termijn_verlengd",
})  # fmt: skip


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update(JINJA_FILTERS)  # the pages' filters: the dossier reads like the escalation page
    return env


@dataclass
class Dossier:
    filename: str
    html: str
    reference: str
    created: str = ""  # W3C date-time of the export: the PDF's creation date


async def dossier_context(h: Here, escalation_id: Any) -> dict[str, Any]:
    """Everything the dossier shows, read through the region's scope (404 for another region's escalation)."""
    scope = h.scope
    loaded = await load_escalation(scope, escalation_id)
    escalation, spec = loaded.escalation, loaded.spec
    rows = (
        await scope.objects(TimelineEvent)
        .where(TimelineEvent.escalation == escalation.id)
        .order_by(TimelineEvent.sequence)
    )
    events = [describe_event(row) for row in rows]
    decisions = [e for e in events if e["kind"] in DECISION_KINDS and e["motivation"]]
    letters = [
        {
            "when": nl_datetime(row.occurred_at),
            "title": (row.payload or {}).get("titel") or str((row.payload or {}).get("brief", "")).replace("_", " "),
            "filename": (row.payload or {}).get("bestandsnaam", ""),
            "sha256": (row.payload or {}).get("sha256", ""),
            "motivation": row.motivation,
        }
        for row in rows
        if row.kind == "brief_verstuurd"
    ]
    documents = [
        {
            "kind": DOCUMENT_NL.get(doc.kind, doc.kind),
            "filename": doc.original_filename,
            "size": size_nl(doc.size or 0),
            "sha256": doc.sha256,
            "when": nl_datetime(doc.uploaded_at),
            "replaces": str(doc.replaces) if doc.replaces else "",
            "id": str(doc.id),
        }
        for doc in await scope.objects(Document)
        .where(Document.escalation == escalation.id)
        .order_by(Document.uploaded_at)
    ]
    names = {m["cbs_code"]: m["name"] for m in await scope.select(Municipality, Municipality.cbs_code,
                                                                   Municipality.name)}  # fmt: skip
    measures = [
        {
            "label": MEASURE_LABELS.get(m.kind, m.kind).capitalize(),
            "since": nl_date(m.started_at),
            "until": nl_date(m.ended_at) if m.ended_at else "",
            "active": m.ended_at is None,
            "municipalities": [names.get(code, code) for code in (m.scope or [])],
            "start_motivation": m.start_motivation,
            "end_motivation": m.end_motivation,
        }
        for m in await scope.objects(Measure).where(Measure.escalation == escalation.id).order_by(Measure.started_at)
    ]
    deadlines = [
        {
            "step": loaded_step_title(spec, d.step),
            "term": d.term,
            "key": deadline_label(spec, d.step, d.key),
            "due": nl_date(d.due_at) if d.due_at else waiting_for(d.starts),
            "status": DEADLINE_STATUS_NL.get(d.status, d.status),
            "reasons": list(d.reasons or []),
        }
        for d in await scope.objects(Deadline).where(Deadline.escalation == escalation.id).order_by(Deadline.due_at)
    ]
    category = next((c for c in spec.categories if c.key == escalation.category), None)
    subcategory = category.subcategories.get(escalation.subcategory, escalation.subcategory) if category else ""
    category_title = (category.title if category else escalation.category) + (f": {subcategory}" if subcategory else "")
    return {
        "region": h.region,
        "provider": loaded.provider,
        "esc": escalation,
        "ladder": spec.name,
        "version": loaded.version.version,
        "status": STATUS_NL.get(escalation.status, escalation.status),
        "category": category_title,
        "current_step": loaded_step_title(spec, escalation.current_step),
        "opened": nl_date(escalation.opened_at),
        "closed": nl_date(escalation.closed_at) if escalation.closed_at else "",
        "exported_at": nl_datetime(h.clock.now()),
        "exported_by": h.actor.label,
        "events": events,
        "internal_count": sum(1 for e in events if e["internal"]),
        "decisions": decisions,
        "letters": letters,
        "documents": documents,
        "measures": measures,
        "deadlines": deadlines,
    }


async def build_dossier(h: Here, escalation_id: Any) -> Dossier:
    context = await dossier_context(h, escalation_id)
    html = environment().get_template("regio/dossier.html").render(**context)
    reference = context["esc"].reference
    safe_reference = re.sub(r"[^A-Za-z0-9-]", "-", reference)
    filename = f"dossier-{safe_reference}-{h.clock.today().isoformat()}.pdf"
    created = h.clock.now().astimezone(UTC).strftime(W3C)
    return Dossier(filename=filename, html=html, reference=reference, created=created)


async def dossier_pdf(dossier: Dossier) -> bytes:
    return await anyio.to_thread.run_sync(lambda: html_to_pdf(dossier.html, created=dossier.created))


async def build_requested(region_id: Any, request_id: Any, clock: Clock) -> Document | None:
    """The worker's part: claim the request, build the dossier as the requester would see it, store it and tell
    them. None when there is nothing to do (built already, or another worker has it); a failure is recorded on the
    request (the page says so, the requester may ask again) and not retried."""
    scope = RegionScope(region_id)
    request = await dossier_requests.claim(scope, request_id, clock)
    if request is None:
        return None
    region = await Region.objects().where(Region.id == scope.region_id).first()
    requester = Actor(label=request.requested_by_label or "Onbekend", user_id=request.requested_by)
    h = Here(region=region, scope=scope, person=None, actor=requester, clock=clock)
    storage = letter_storage()
    stored = None
    try:
        dossier = await build_dossier(h, request.escalation)
        pdf = await dossier_pdf(dossier)
        stored = await anyio.to_thread.run_sync(lambda: storage.put(new_key("dossiers"), io.BytesIO(pdf), PDF))
        return await dossier_requests.record_built(
            scope, request, reference=dossier.reference, filename=dossier.filename, stored=stored,
            pdf_size=len(pdf), clock=clock, page_path=f"{h.base()}/escalaties/{request.escalation}#dossier",
        )  # fmt: skip
    except Exception:
        log.exception("building dossier request %s failed", request_id)
        if stored is not None:
            storage.delete(stored.key)  # nothing refers to the object: no orphan in storage
        await dossier_requests.record_failed(scope, request.id, clock)
        return None
