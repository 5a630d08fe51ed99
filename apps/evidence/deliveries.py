"""Evidence delivered for an escalation (issue 18 point 4): the provider registers a VOG, SKJ or BIG registration in
its register *for* one of its escalations, and the region's verdict on that item is a verdict on the escalation too.

Delivering (``register_and_deliver``): the item is registered as any other, an ``evidence_delivery`` row links it to
the escalation, a shared ``bewijs_aangeleverd`` event goes on the timeline, the current step's terms met by a
``bewijsstuk`` are met (``meet_deadlines_for_document``, which also runs their reactions) and the purchasing team is
told. The row keeps which deadlines the delivery met.

Judging (``review``): the register's review (``services.review``: the region's verdict, audited), and for each open
escalation of the region the item was delivered for, ``escalations.verdicts.judge_evidence``: on the timeline, told
to the provider, a rejection reopens the terms the delivery met (in the current step only: a term belongs to its
step), an acceptance after a rejection meets them again. All in one write transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from apps.documents.uploads import ReceivedFile
from apps.escalations import notices
from apps.escalations.context import append_event, load_context
from apps.escalations.tables import Escalation
from apps.escalations.transitions import meet_deadlines_for_document
from apps.escalations.verdicts import EVIDENCE_KIND, judge_evidence
from apps.evidence import services as evidence
from apps.evidence.tables import EvidenceDelivery, EvidenceItem, EvidenceReview
from apps.providers.tables import Provider
from core.actor import Actor
from core.audit import audit
from core.clock import Clock, system_clock
from core.formatting import nl_date, nl_datetime
from core.tenancy import ProviderScope, RegionScope
from core.transactions import write_transaction

DELIVERED_EVENT = "bewijs_aangeleverd"
FIELD = "escalatie"  # the form field of the portal's evidence form


def item_name(item: EvidenceItem) -> str:
    """What the item is, in words: "VOG medewerker van J. Jansen"."""
    return f"{evidence.KINDS.get(item.kind, item.kind)} van {item.person}"


async def register_and_deliver(
    scope: ProviderScope,
    data: evidence.EvidenceInput,
    *,
    escalation_id: UUID | str | None,
    actor: Actor,
    received: ReceivedFile | None = None,
    replaces: UUID | None = None,
    clock: Clock = system_clock,
) -> tuple[EvidenceItem, EvidenceDelivery | None]:
    """Register the item in the provider's register and, when ``escalation_id`` is given, deliver it for that open
    escalation of the provider; all or nothing."""
    async with write_transaction():
        item = await evidence.register(scope.provider_id, data, actor=actor, received=received, replaces=replaces,
                                       clock=clock)  # fmt: skip
        delivery = await deliver(scope, escalation_id, item, actor=actor, clock=clock) if escalation_id else None
    return item, delivery


async def deliver(
    scope: ProviderScope, escalation_id: UUID | str, item: EvidenceItem, *, actor: Actor, clock: Clock = system_clock
) -> EvidenceDelivery:
    """Deliver a registered item for one of the provider's open escalations (see the module)."""
    escalation = await scope.get(Escalation, escalation_id)
    if escalation is None or item.provider != scope.provider_id:
        raise evidence.EvidenceError(FIELD, "Kies een escalatie van uw organisatie.")
    if escalation.status == "closed":
        raise evidence.EvidenceError(FIELD, f"Escalatie {escalation.reference} is afgesloten; kies een lopende "
                                            "escalatie of lever het bewijs zonder escalatie aan.")  # fmt: skip
    region_scope = scope.region_scope(escalation.region)
    now = clock.now()
    async with write_transaction():
        if await region_scope.exists(EvidenceDelivery).where(
            (EvidenceDelivery.escalation == escalation.id) & (EvidenceDelivery.evidence == item.id)
        ):
            raise evidence.EvidenceError(FIELD, "Dit bewijs is al aangeleverd voor deze escalatie.")
        name = item_name(item)
        payload = {"bewijs_id": str(item.id), "soort": item.kind, "naam": name, "bestandsnaam": item.original_filename}
        event = await append_event(region_scope, escalation.id, DELIVERED_EVENT, actor=actor, clock=clock,
                                   payload=payload)  # fmt: skip
        met = await meet_deadlines_for_document(region_scope, escalation.id, EVIDENCE_KIND, now, actor=actor)
        row = region_scope.new(
            EvidenceDelivery, escalation=escalation.id, evidence=item.id, provider=item.provider,
            met_deadlines=[str(d.id) for d in met], delivered_by=actor.user_id, delivered_at=now,
        )  # fmt: skip
        await row.save()
        ctx = await load_context(region_scope, escalation.id, clock)
        provider = await Provider.objects().where(Provider.id == escalation.provider).first()
        await notices.tell_purchasing_team(ctx, event, "document_ontvangen", {
            "escalatie": escalation.reference, "escalation_id": str(escalation.id),
            "aanbieder": provider.name if provider else "", "soort": f"bewijsstuk ({name})",
            "bestandsnaam": item.original_filename or "geen bestand, alleen de gegevens",
            "event_id": str(event.id)})  # fmt: skip
        await audit("evidence.deliver", region_id=region_scope.region_id, actor_id=actor.user_id,
                    actor_label=actor.label, target_type="evidence", target_id=str(item.id), clock=clock,
                    detail={"referentie": escalation.reference, "soort": item.kind,
                            "termijnen_gehaald": [d.key for d in met]})  # fmt: skip
    return row


@dataclass(frozen=True)
class Reviewed:
    review: EvidenceReview
    escalations: list[str]  # references of the escalations the verdict went on


async def review(
    scope: RegionScope,
    provider_id: UUID | str,
    evidence_id: UUID | str,
    *,
    verdict: str,
    reason: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> Reviewed:
    """The region's verdict on an item (``services.review``) and on each open escalation of the region it was
    delivered for (see the module)."""
    async with write_transaction():
        row = await evidence.review(scope, provider_id, evidence_id, verdict=verdict, reason=reason, actor=actor,
                                    clock=clock)  # fmt: skip
        item = await evidence.region_item(scope, provider_id, evidence_id)
        judged = []
        for delivery in await _deliveries(scope, [item.id]):
            if delivery["status"] == "closed":
                continue
            event = await judge_evidence(
                scope, delivery["escalation"], evidence_id=str(item.id), name=item_name(item),
                accepted=verdict == evidence.ACCEPTED, verdict_text=evidence.VERDICTS[verdict], reason=row.reason,
                met_deadlines=list(delivery["met_deadlines"] or []), actor=actor, clock=clock,
            )  # fmt: skip
            if event is not None:
                judged.append(delivery["reference"])
    return Reviewed(row, judged)


async def _deliveries(scope: RegionScope, item_ids: Iterable[UUID]) -> list[dict]:
    ids = list(item_ids)
    if not ids:
        return []
    return await (
        scope.select(
            EvidenceDelivery,
            EvidenceDelivery.evidence,
            EvidenceDelivery.escalation,
            EvidenceDelivery.met_deadlines,
            EvidenceDelivery.delivered_at,
            EvidenceDelivery.escalation.reference.as_alias("reference"),
            EvidenceDelivery.escalation.status.as_alias("status"),
        )
        .where(EvidenceDelivery.evidence.is_in(ids))
        .order_by(EvidenceDelivery.delivered_at)
    )


async def escalations_of_items(scope: RegionScope, item_ids: Iterable[UUID]) -> dict[UUID, list[dict]]:
    """For the region's review page: per item, the escalations of the region it was delivered for (one query)."""
    found: dict[UUID, list[dict]] = {}
    for row in await _deliveries(scope, item_ids):
        found.setdefault(row["evidence"], []).append(
            {"id": row["escalation"], "reference": row["reference"], "closed": row["status"] == "closed"}
        )
    return found


async def delivered_for_escalation(scope: RegionScope, escalation: Escalation) -> list[dict]:
    """For the escalation page: the evidence delivered for it, newest first, each with the region's latest verdict
    (one query for the deliveries with their items, one for the reviews)."""
    rows = await (
        scope.select(
            EvidenceDelivery,
            EvidenceDelivery.evidence,
            EvidenceDelivery.delivered_at,
            EvidenceDelivery.evidence.kind.as_alias("kind"),
            EvidenceDelivery.evidence.person.as_alias("person"),
            EvidenceDelivery.evidence.original_filename.as_alias("filename"),
            EvidenceDelivery.evidence.object_key.as_alias("object_key"),
        )
        .where(EvidenceDelivery.escalation == escalation.id)
        .order_by(EvidenceDelivery.delivered_at, ascending=False)
    )
    if not rows:
        return []
    reviews = await scope.select(EvidenceReview).where(
        (EvidenceReview.provider == escalation.provider) & EvidenceReview.evidence.is_in([r["evidence"] for r in rows])
    )  # fmt: skip
    latest = {evidence_id: row for (evidence_id, _), row in (await evidence.latest_reviews(reviews)).items()}
    found = []
    for row in rows:
        review = latest.get(row["evidence"])
        found.append({
            "id": str(row["evidence"]),
            "name": f"{evidence.KINDS.get(row['kind'], row['kind'])} van {row['person']}",
            "filename": row["filename"] if row["object_key"] else "",
            "when": nl_datetime(row["delivered_at"]),
            "judgeable": escalation.status != "closed",
            "review": {"text": evidence.VERDICTS.get(review["verdict"], review["verdict"]), "reason": review["reason"],
                       "by": review["reviewed_by_label"], "at": nl_date(review["reviewed_at"])} if review else None,
        })  # fmt: skip
    return found
