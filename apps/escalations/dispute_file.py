"""The dispute file for the Geschillencommissie Sociaal Domein (seed 001 §2.3 step 4, issue 15 point 2): one PDF/A
to submit, in one download, with the case (pseudonymous, the financial mark), the subcommittee, both parties'
positions, the solutions put on the table with each party's answer, the shared history oldest first, and the
documents both parties see -- listed with their SHA-256 and embedded in the PDF itself (PDF/A-3 allows embedded
files), so the committee gets everything in one file.

Made on a person's request (a party or the team) in the committee's step, once the subcommittee is chosen; rendered
by the letters' WeasyPrint path (``letters.html_to_pdf``: tagged PDF/A-3a, title, the region as author, Dutch) from
``frontend/templates/geschil/geschildossier.html``; stored as a document of the escalation shared with the provider
(it holds no internal note), a shared timeline event ``geschildossier`` and an audit entry ``dispute.file`` with
its checksum. Rendering happens outside the write transaction: only the rows are written inside it.
"""

from __future__ import annotations

import io
import re
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

import anyio.to_thread

from apps.documents.tables import Document
from apps.escalations.cases import case_out
from apps.escalations.dispute_state import FILE, PARTY_NL, dispute_of, load_state
from apps.escalations.disputes import DisputeError, find, load_for_change, side_of, tell, write_scope
from apps.escalations.dossier import W3C, environment
from apps.escalations.letters import PDF, html_to_pdf, letter_storage
from apps.escalations.tables import TimelineEvent
from apps.escalations.timeline import DOCUMENT_NL, describe_event
from apps.ladders.schema import LadderSpec
from apps.ladders.tables import LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import Clock, system_clock
from core.formatting import nl_datetime, size_nl
from core.storage import new_key
from core.transactions import write_transaction

ATTACH_MAX = 40 * 1024 * 1024  # embedded documents in one file at most; past it they are listed, not embedded
SKIPPED_KINDS = ("dossier", "geschildossier")  # the team's dossier (internal notes) and earlier dispute files


async def _context(scope: Any, escalation_id: Any, actor: Actor, clock: Clock) -> tuple[dict, list[tuple]]:
    escalation = await find(scope, escalation_id)
    side_of(scope, actor, escalation)
    region_scope = write_scope(scope, escalation)
    spec = LadderSpec.model_validate((await region_scope.get(LadderVersion, escalation.ladder_version)).definition)
    dispute = dispute_of(spec)
    state = await load_state(region_scope, escalation, dispute)
    if escalation.current_step != dispute.committee_step:
        raise DisputeError("Het geschildossier maakt u in de stap naar de Geschillencommissie.")
    if not state.subcommittee:
        raise DisputeError("Kies eerst de subcommissie die het geschil behandelt.", "subcommissie")
    rows = await region_scope.objects(TimelineEvent).where(
        (TimelineEvent.escalation == escalation.id) & (TimelineEvent.visibility == "shared")
    ).order_by(TimelineEvent.sequence)  # fmt: skip
    events = [describe_event(row) for row in rows]
    documents = await region_scope.objects(Document).where(
        (Document.escalation == escalation.id) & Document.provider.is_not_null()
    ).order_by(Document.uploaded_at)  # fmt: skip
    region = await Region.objects().where(Region.id == escalation.region).first()
    provider = await Provider.objects().where(Provider.id == escalation.provider).first()
    listed, attached, total = [], [], 0
    storage = letter_storage()
    for doc in documents:
        if doc.kind in SKIPPED_KINDS:
            continue
        embed = total + (doc.size or 0) <= ATTACH_MAX
        listed.append({"kind": DOCUMENT_NL.get(doc.kind, doc.kind), "filename": doc.original_filename,
                       "size": size_nl(doc.size or 0), "sha256": doc.sha256, "when": nl_datetime(doc.uploaded_at),
                       "embedded": embed})  # fmt: skip
        if embed:
            total += doc.size or 0
            attached.append((doc, storage))
    sides = {"aanbieder": provider.name if provider else "", "gemeente": ""}
    case = await case_out(region_scope, escalation, spec)
    sides["gemeente"] = f"gemeente {case['municipality']['name']}" if case and case["municipality"] else ""
    positions = [{"party": sides[p], "events": [e for e, row in zip(events, rows, strict=True)
                                               if row.kind == "geschil_standpunt" and row.payload.get("partij") == p]}
                 for p in ("aanbieder", "gemeente")]  # fmt: skip
    solutions = [e for e, row in zip(events, rows, strict=True) if row.kind in ("geschil_oplossing", "geschil_akkoord")]
    context = {
        "region": region, "provider": provider, "esc": escalation, "case": case, "ladder": spec.name,
        "subcommittee": dispute.subcommittees[state.subcommittee],
        "current_step": spec.step(escalation.current_step).title,
        "positions": positions, "solutions": solutions, "events": events, "documents": listed,
        "made_at": nl_datetime(clock.now()), "made_by": actor.label, "sides": sides,
    }  # fmt: skip
    return context, attached


def _safe_name(name: str) -> str:
    """The document's file name as the attachment's name: letters, digits, dot, dash and underscore only."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", name or "document")[:120].strip(".") or "document"


def render(context: dict, attached: list[tuple], created: str) -> bytes:
    """The PDF/A (runs in a worker thread: WeasyPrint and reading the documents block). Each document is copied into
    a folder of its own for the render, so that the embedded file keeps its name (WeasyPrint names an embedded file
    after its address), and the folder is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="trede-geschildossier-") as folder:
        attachments = []
        for index, (doc, storage) in enumerate(attached):
            path = Path(folder) / str(index) / _safe_name(doc.original_filename)
            path.parent.mkdir()
            with path.open("wb") as out:
                for chunk in storage.open(doc.object_key):
                    out.write(chunk)
            attachments.append({"href": path.as_uri(), "title": doc.original_filename or path.name})
        html = environment().get_template("geschil/geschildossier.html").render(**context, attachments=attachments)
        return html_to_pdf(html, created=created)


async def make_file(scope: Any, escalation_id: Any, *, actor: Actor, clock: Clock = system_clock) -> Document:
    """Make and store the dispute file; the other side hears of it. Refused before the committee's step or without
    a subcommittee (``DisputeError``); ``disputes.DisputeNotFound`` for a dispute this scope may not read."""
    context, attached = await _context(scope, escalation_id, actor, clock)
    created = clock.now().astimezone(UTC).strftime(W3C)
    pdf = await anyio.to_thread.run_sync(lambda: render(context, attached, created))
    reference = context["esc"].reference
    filename = f"geschildossier-{re.sub(r'[^A-Za-z0-9-]', '-', reference)}-{clock.today().isoformat()}.pdf"
    storage = letter_storage()
    stored = await anyio.to_thread.run_sync(lambda: storage.put(new_key("geschildossiers"), io.BytesIO(pdf), PDF))
    try:
        async with write_transaction():
            loaded = await load_for_change(scope, escalation_id, actor, clock)
            ctx = loaded.ctx
            document = ctx.scope.new(
                Document, provider=ctx.escalation.provider, escalation=ctx.escalation.id, kind="geschildossier",
                object_key=stored.key, original_filename=filename, content_type=PDF, size=stored.size,
                sha256=stored.sha256, uploaded_by=actor.user_id, uploaded_at=clock.now(),
            )  # fmt: skip
            await document.save()
            event = await ctx.event(FILE, actor=loaded.actor, visibility="shared", payload={
                "document_id": str(document.id), "bestandsnaam": filename, "sha256": stored.sha256,
                "grootte": stored.size, "subcommissie": loaded.state.subcommittee, "naam": context["subcommittee"],
                "bijlagen": len(attached)})  # fmt: skip
            await ctx.audit("dispute.file", actor=loaded.actor, detail={
                "bestandsnaam": filename, "sha256": stored.sha256, "subcommissie": loaded.state.subcommittee,
                "door": PARTY_NL.get(loaded.side, loaded.side)})  # fmt: skip
            await tell(loaded, event, {"aanbieder", "gemeente"} - {loaded.side},
                        f"het geschildossier voor de {context['subcommittee']} is gemaakt")  # fmt: skip
            return document
    except BaseException:
        storage.delete(stored.key)  # nothing refers to the object: no orphan in storage
        raise
