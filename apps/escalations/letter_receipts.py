"""Proof that a formal letter reached the provider (BW 3:37 lid 3: a declaration works from its receipt).

Every letter a ladder sends (``letters.issue_letter``) gets a ``LetterDelivery`` row: how it went -- through the
portal with an e-mail, by registered post (*aangetekend*) or by hand -- and when it was received. The receipt is
proved in one of two ways, each once:

- the provider acknowledges receipt in the portal (one click): ``acknowledge``;
- the purchasing team records the receipt of a registered letter (the day on the PostNL receipt, and its
  track-and-trace code) or of a hand delivery: ``record_letter_receipt``.

Both put a shared event on the timeline, so both sides see what counts as the day of receipt, and an audit entry.
A letter without a receipt ``ACKNOWLEDGE_WORKING_DAYS`` working days after it was sent (the region's calendar)
is on the work list "Te beoordelen" (``unconfirmed``), so that the team chases it before relying on it.

This is about the region's letters to the provider; ``receipts`` is the other direction (a document the provider
delivered outside the portal).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from apps.accounts.roles import PROVIDER_ROLES
from apps.escalations.context import SHARED, Context, EscalationConflict, EscalationError, load_context, require_decides
from apps.escalations.letter_sending import HAND, METHODS, REGISTERED, method_or_default
from apps.escalations.receipt_terms import recount_from_receipt
from apps.escalations.tables import LetterDelivery, TimelineEvent
from apps.ladders.calendar import AMSTERDAM, format_date_nl
from apps.ladders.deadlines import due_date_for
from core.actor import Actor
from core.clock import Clock, system_clock
from core.tenancy import ProviderScope, RegionScope
from core.transactions import write_transaction

ACKNOWLEDGED = "bevestigd"  # received_how of a receipt the provider acknowledged in the portal
# How a receipt the team records was proved.
RECORDED_HOW = {
    REGISTERED: "aangetekend: datum van ontvangst op het ontvangstbewijs",
    HAND: "persoonlijk afgegeven: datum van afgifte",
}
RECEIVED_NL = {
    ACKNOWLEDGED: "bevestigd door de aanbieder in het portaal",
    REGISTERED: "aangetekend ontvangen (ontvangstbewijs)",
    HAND: "persoonlijk afgegeven",
}

ACKNOWLEDGE_WORKING_DAYS = 5
TRACKING = re.compile(r"^[A-Z0-9][A-Z0-9 -]{3,39}$")
NOT_FOUND = "Deze brief bestaat niet."


async def record_delivery(
    ctx: Context, *, event: TimelineEvent, document_id: UUID | None, letter: str, title: str, method: str
) -> LetterDelivery:
    """The letter's delivery row, in the transaction that issues it: sent now, to be acknowledged by the end of
    the 5th working day after today (the region's calendar)."""
    now = ctx.clock.now()
    due = due_date_for(now, f"{ACKNOWLEDGE_WORKING_DAYS} werkdagen", ctx.calendar)
    row = ctx.scope.new(
        LetterDelivery, escalation=ctx.escalation.id, event=event.id, document=document_id, letter=letter,
        title=title, method=method_or_default(method), sent_at=now, acknowledge_by=due.due_at,
    )  # fmt: skip
    await row.save()
    return row


def _payload(row: LetterDelivery, how: str, received_at: datetime, tracking_code: str = "") -> dict[str, Any]:
    return {
        "brief": row.letter,
        "titel": row.title,
        "brief_id": str(row.id),
        "document_id": str(row.document) if row.document else "",
        "verzending": row.method,
        "ontvangen_op": received_at.astimezone(AMSTERDAM).date().isoformat(),
        "ontvangen_om": received_at.isoformat(),
        "wijze": how,
        "wijze_tekst": RECEIVED_NL.get(how, how),
        **({"track_and_trace": tracking_code} if tracking_code else {}),
    }


async def _delivery(scope: RegionScope, escalation_id: UUID, delivery_id: UUID | str) -> LetterDelivery:
    try:
        row_id = UUID(str(delivery_id))
    except ValueError:
        raise EscalationError(NOT_FOUND) from None
    row = (
        await scope.objects(LetterDelivery)
        .where((LetterDelivery.id == row_id) & (LetterDelivery.escalation == escalation_id))
        .first()
    )
    if row is None:
        raise EscalationError(NOT_FOUND)
    return row


async def _mark_received(
    ctx: Context, row: LetterDelivery, *, how: str, received_at: datetime, actor: Actor, tracking_code: str = ""
) -> bool:
    """Compare-and-set: only a letter not yet received gets its receipt (a second click or a race: False)."""
    values = {
        LetterDelivery.received_at: received_at,
        LetterDelivery.received_how: how,
        LetterDelivery.received_by: actor.label,
        LetterDelivery.tracking_code: tracking_code,
    }
    updated = (
        await ctx.scope.update(LetterDelivery, values)
        .where((LetterDelivery.id == row.id) & LetterDelivery.received_at.is_null())
        .returning(LetterDelivery.id)
    )
    if not updated:
        return False
    row.received_at, row.received_how, row.received_by, row.tracking_code = received_at, how, actor.label, tracking_code
    return True


async def acknowledge(
    scope: ProviderScope, escalation_id: UUID | str, delivery_id: UUID | str, *, actor: Actor,
    clock: Clock = system_clock,
) -> tuple[LetterDelivery, bool]:  # fmt: skip
    """The provider acknowledges receipt of a letter in the portal: received now. Returns the row and whether this
    call recorded it (False: it was already received; nothing changes, so a second click is harmless). A letter
    of another organisation or region is "not found" (EscalationError)."""
    if actor.provider_id != scope.provider_id or not actor.roles & PROVIDER_ROLES:
        raise EscalationError("Alleen de aanbieder zelf kan de ontvangst van een brief bevestigen.")
    escalation_uuid, delivery_uuid = _uuid(escalation_id), _uuid(delivery_id)
    if escalation_uuid is None or delivery_uuid is None:
        raise EscalationError(NOT_FOUND)
    mine = (
        await scope.select(LetterDelivery, LetterDelivery.region)
        .where((LetterDelivery.escalation == escalation_uuid) & (LetterDelivery.id == delivery_uuid))
        .first()
    )
    if mine is None:
        raise EscalationError(NOT_FOUND)
    region_scope = scope.region_scope(mine["region"])
    async with write_transaction():
        ctx = await load_context(region_scope, escalation_uuid, clock)  # locks the escalation: one receipt
        row = await _delivery(region_scope, ctx.escalation.id, delivery_id)
        now = clock.now()
        if row.received_at is not None or not await _mark_received(ctx, row, how=ACKNOWLEDGED, received_at=now,
                                                                   actor=actor):  # fmt: skip
            return row, False
        await ctx.event("ontvangst_bevestigd", actor=actor, visibility=SHARED, payload=_payload(row, ACKNOWLEDGED, now))
        await recount_from_receipt(ctx, row, actor=actor)  # a registered letter acknowledged later: its term moves on
        await ctx.audit("letter.acknowledge", actor=actor, detail={"brief": row.letter, "brief_id": str(row.id),
                                                                   "ontvangen_om": now.isoformat()})  # fmt: skip
        return row, True


def _uuid(value: UUID | str) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


async def record_letter_receipt(
    scope: RegionScope,
    escalation_id: UUID | str,
    delivery_id: UUID | str,
    *,
    received_on: date,
    how: str,
    tracking_code: str = "",
    actor: Actor,
    clock: Clock = system_clock,
) -> LetterDelivery:
    """The team records when a letter reached the provider outside the portal: the day on the registered mail's
    receipt (with its track-and-trace code) or the day it was handed over. Refused (EscalationError, Dutch) for
    an unknown way, a malformed code, a day in the future or before the letter was sent, and a letter whose
    receipt is already recorded (EscalationConflict)."""
    require_decides(actor, "de ontvangst van een brief vastleggen")
    if how not in RECORDED_HOW:
        raise EscalationError("Kies hoe de brief is ontvangen.")
    tracking_code = re.sub(r"\s+", " ", (tracking_code or "").strip().upper())
    if tracking_code and not TRACKING.fullmatch(tracking_code):
        raise EscalationError("Vul de track-and-trace-code in zoals op het verzendbewijs (letters en cijfers).")
    now = clock.now()
    if received_on > now.astimezone(AMSTERDAM).date():
        raise EscalationError("De ontvangstdatum ligt in de toekomst.")
    async with write_transaction():
        ctx = await load_context(scope, escalation_id, clock)
        row = await _delivery(scope, ctx.escalation.id, delivery_id)
        if row.received_at is not None:
            day = format_date_nl(row.received_at.astimezone(AMSTERDAM).date())
            raise EscalationConflict(f"De ontvangst van deze brief is al vastgelegd: {day}.")
        sent_on = row.sent_at.astimezone(AMSTERDAM).date()
        if received_on < sent_on:
            raise EscalationError(
                f"De ontvangstdatum ligt vóór de verzending van de brief ({format_date_nl(sent_on)})."
            )
        # Received on a day: from the start of that Dutch day, never before the letter went and never after now.
        at = min(max(datetime.combine(received_on, time(0), AMSTERDAM), row.sent_at), now)
        if not await _mark_received(ctx, row, how=how, received_at=at, actor=actor, tracking_code=tracking_code):
            raise EscalationConflict("De ontvangst van deze brief is intussen al vastgelegd.")
        await ctx.event(
            "brief_ontvangen", actor=actor, visibility=SHARED, payload=_payload(row, how, at, tracking_code)
        )
        await recount_from_receipt(ctx, row, actor=actor)  # received later than expected: the letter's term moves on
        await ctx.audit("letter.record_receipt", actor=actor, detail={
            "brief": row.letter, "brief_id": str(row.id), "ontvangen_op": received_on.isoformat(), "wijze": how,
            **({"track_and_trace": tracking_code} if tracking_code else {})})  # fmt: skip
        return row


# --- reading -------------------------------------------------------------------------------------------------------


def describe(row: LetterDelivery | dict) -> dict[str, Any]:
    """One letter's delivery as the pages and the API show it."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    received = get("received_at")
    return {
        "id": str(get("id")),
        "letter": get("letter"),
        "title": get("title"),
        "document_id": str(get("document")) if get("document") else None,
        "method": get("method"),
        "method_nl": METHODS.get(get("method"), get("method")),
        "sent_at": get("sent_at"),
        "sent_nl": format_date_nl(get("sent_at").astimezone(AMSTERDAM).date()),
        "acknowledge_by": get("acknowledge_by"),
        "received_at": received,
        "received_nl": format_date_nl(received.astimezone(AMSTERDAM).date()) if received else "",
        "received_how": get("received_how"),
        "received_how_nl": RECEIVED_NL.get(get("received_how"), get("received_how")),
        "received_by": get("received_by"),
        "tracking_code": get("tracking_code"),
    }


async def letters_of_escalation(scope: RegionScope | ProviderScope, escalation_id: UUID) -> list[dict[str, Any]]:
    """The escalation's letters with how they went and their receipt, newest first."""
    rows = (
        await scope.objects(LetterDelivery)
        .where(LetterDelivery.escalation == escalation_id)
        .order_by(LetterDelivery.sent_at, ascending=False)
    )
    return [describe(row) for row in rows]


def unconfirmed_where(now: datetime):
    """The letters without a receipt whose working days to acknowledge have passed (the partial index's rows)."""
    return LetterDelivery.received_at.is_null() & (LetterDelivery.acknowledge_by <= now)


def unconfirmed_query(scope: RegionScope, now: datetime, limit: int):
    """The rows of ``unconfirmed``: served by the partial index letter_delivery_unconfirmed (region, acknowledge_by)
    WHERE received_at IS NULL, with the escalation's reference and the provider's name joined in."""
    return (
        scope.select(
            LetterDelivery, LetterDelivery.id, LetterDelivery.escalation, LetterDelivery.letter, LetterDelivery.title,
            LetterDelivery.method, LetterDelivery.sent_at, LetterDelivery.acknowledge_by,
            LetterDelivery.escalation.reference.as_alias("reference"),
            LetterDelivery.escalation.provider.name.as_alias("provider"),
        )
        .where(unconfirmed_where(now))
        .order_by(LetterDelivery.acknowledge_by)
        .limit(limit)
    )  # fmt: skip


async def unconfirmed(scope: RegionScope, now: datetime, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The work list's section "Ontvangst niet bevestigd": the oldest first (one query for the rows, one for the
    count; no query per row)."""
    total = await scope.count(LetterDelivery).where(unconfirmed_where(now))
    rows = await unconfirmed_query(scope, now, limit)
    return [
        {**row, "method_nl": METHODS.get(row["method"], row["method"]),
         "sent_nl": format_date_nl(row["sent_at"].astimezone(AMSTERDAM).date())}
        for row in rows
    ], total  # fmt: skip
