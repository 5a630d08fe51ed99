"""Documents of escalations: a provider delivers a requested document (plan van aanpak, verbeterplan, reactie),
which meets the deadlines waiting for it; downloads are authorised here, per side.

The file is already in storage when ``deliver`` runs (``apps.documents.uploads``); ``deliver`` writes the row, the
timeline event and the met deadlines in one transaction. If that fails the caller deletes the object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote
from uuid import UUID

from apps.documents.tables import Document
from apps.documents.uploads import ReceivedFile, human_size
from apps.escalations.actions import notification_key
from apps.escalations.context import EscalationError, append_event
from apps.escalations.tables import Deadline, Escalation
from apps.escalations.transitions import meet_deadlines_for_document
from apps.notifications.inapp import add_for_people, purchasing_team
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.tables import RegionMailbox
from core.actor import Actor
from core.audit import audit
from core.clock import Clock, system_clock
from core.storage import Storage
from core.tenancy import ProviderScope, RegionScope
from core.transactions import write_transaction

# What a provider delivers on an escalation (a subset of the ladder's document kinds).
PROVIDER_KINDS = {
    "plan_van_aanpak": "plan van aanpak",
    "verbeterplan": "verbeterplan",
    "reactie": "reactie",
    "arrangement": "arrangement",  # seed 001: the provider sends it to the municipality
}
KIND_LABELS = {
    **PROVIDER_KINDS,
    "gezinsplan": "gezinsplan",
    "brief": "brief",
    "bijlage": "bijlage",
}


@dataclass
class Delivery:
    document: Document
    met: list[Deadline]

    @property
    def late(self) -> bool:
        return any(d.met_at and d.met_at > d.due_at for d in self.met)


async def provider_escalation(scope: ProviderScope, escalation_id: UUID | str) -> Escalation | None:
    return await scope.get(Escalation, escalation_id)


def check_kind(kind: str) -> str:
    if kind not in PROVIDER_KINDS:
        raise EscalationError("Kies welk document u aanlevert.")
    return kind


async def deliver(
    scope: ProviderScope,
    escalation_id: UUID | str,
    *,
    kind: str,
    received: ReceivedFile,
    actor: Actor,
    replaces: UUID | str | None = None,
    clock: Clock = system_clock,
) -> Delivery:
    """The provider delivers a document on its escalation: a ``document`` row, a shared timeline event, and every
    deadline of the current step that waits for this kind of document is met (late delivery is accepted and
    recorded as late, by ``meet_deadlines_for_document``). A replacement keeps the earlier version."""
    check_kind(kind)
    if actor.provider_id is None or actor.provider_id != scope.provider_id:
        raise EscalationError("U mag bij deze escalatie geen documenten aanleveren.")
    escalation = await scope.get(Escalation, escalation_id)
    if escalation is None:
        raise EscalationError("Deze escalatie bestaat niet.")
    if escalation.status == "closed":
        raise EscalationError(
            f"Escalatie {escalation.reference} is afgesloten; u kunt geen documenten meer aanleveren."
        )
    region_scope = scope.region_scope(escalation.region)
    now = clock.now()
    async with write_transaction():
        earlier = None
        if replaces:
            earlier = await region_scope.get(Document, replaces)
            if earlier is None or earlier.escalation != escalation.id:
                raise EscalationError("Het document dat u wilt vervangen hoort niet bij deze escalatie.")
        document = region_scope.new(
            Document,
            provider=escalation.provider,
            escalation=escalation.id,
            kind=kind,
            object_key=received.key,
            original_filename=received.original_filename,
            content_type=received.content_type,
            size=received.size,
            sha256=received.sha256,
            uploaded_by=actor.user_id,
            uploaded_at=now,
            replaces=earlier.id if earlier else None,
        )
        await document.save()
        event = await append_event(
            region_scope,
            escalation.id,
            "document_ontvangen",
            actor=actor,
            clock=clock,
            payload={
                "document": kind,
                "document_id": str(document.id),
                "bestandsnaam": received.original_filename,
                "grootte": received.size,
                "grootte_tekst": human_size(received.size),
                "sha256": received.sha256,
                "vervangt": str(earlier.id) if earlier else None,
                "vervangt_bestandsnaam": earlier.original_filename if earlier else None,
            },
        )
        met = await meet_deadlines_for_document(region_scope, escalation.id, kind, now, actor=actor)
        await _tell_the_purchasing_team(region_scope, escalation, document, event, clock)
        await audit(
            "document.upload", region_id=region_scope.region_id, actor_id=actor.user_id, actor_label=actor.label,
            target_type="document", target_id=str(document.id),
            detail={"referentie": escalation.reference, "soort": kind, "sha256": received.sha256,
                    "grootte": received.size, "termijnen_gehaald": [d.key for d in met]},
            clock=clock,
        )  # fmt: skip
    return Delivery(document, met)


async def escalation_documents(scope: RegionScope | ProviderScope, escalation_id: UUID) -> list[Document]:
    """The documents of an escalation, newest first (every version: nothing is deleted)."""
    return await (
        scope.objects(Document)
        .where(Document.escalation == escalation_id)
        .order_by(Document.uploaded_at, ascending=False)
    )


async def _tell_the_purchasing_team(scope: RegionScope, escalation: Escalation, document, event, clock: Clock) -> None:
    """A delivered document is news for the purchasing team: a mail to its mailbox and a notice under the bell."""
    provider = await Provider.objects().where(Provider.id == escalation.provider).first()
    payload = {
        "escalatie": escalation.reference,
        "escalation_id": str(escalation.id),
        "aanbieder": provider.name if provider else "",
        "soort": document.kind.replace("_", " "),
        "bestandsnaam": document.original_filename,
        "event_id": str(event.id),
    }
    for row in await scope.select(RegionMailbox, RegionMailbox.email).where(RegionMailbox.role == "inkoop"):
        await scope.new(Notification, recipient=row["email"], channel="email", template="document_ontvangen",
                        payload=payload, idempotency_key=notification_key(event.id, row["email"]),
                        created_at=clock.now()).save()  # fmt: skip
    await add_for_people(scope, await purchasing_team(scope), template="document_ontvangen", payload=payload,
                         key=str(event.id), clock=clock)  # fmt: skip


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name as RFC 5987 ``filename*``."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;%' else "_" for c in filename).strip() or "bestand"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stream_object(storage: Storage, key: str) -> Iterator[bytes]:
    yield from storage.open(key)
