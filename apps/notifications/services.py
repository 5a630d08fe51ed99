"""Delivering the outbox. A notification row is written with the change that causes it; these functions
claim it (compare-and-set on ``status``), send it over its channel and record the outcome.

States: pending → sending → sent | pending (temporary failure, retried with backoff) | failed (permanent,
or too many attempts; shown to the purchasing team, never dropped silently).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from piccolo.columns.combination import WhereRaw

from apps.accounts.services import provider_people
from apps.notifications.inapp import add_for_people
from apps.notifications.messages import MissingField, UnknownTemplate, render
from apps.notifications.tables import Notification
from apps.notifications.transports import (
    EmailTransport,
    InAppTransport,
    MailFolderTransport,
    PermanentFailure,
    Rendered,
    TemporaryFailure,
    Transport,
)
from apps.tenancy.tables import Region, RegionMailbox
from core.clock import Clock, system_clock
from core.formatting import aantal
from core.tenancy import RegionScope, RegionsScope
from core.transactions import write_transaction

log = logging.getLogger("trede.notifications")

MAX_ATTEMPTS = 8
# A worker that took a message this long ago has died (an SMTP send times out after 30 s): the sweep, each
# minute, gives it back. A worker that stops in order gives its claims back at once (release_claims).
STALE_SENDING = timedelta(minutes=2)
# A pending row handed to the broker this long ago and still not taken by a worker: the broker lost the message
# (or the workers are far behind); the sweep hands it over again.
REQUEUE_AFTER = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def transports_from_settings(settings) -> dict[str, Transport]:
    if settings.dev_mailbox is not None:  # development: mail goes into the folder behind /ontwikkeling/post
        email: Transport = MailFolderTransport(settings.dev_mailbox, settings.mail_from, base_url=settings.base_url)
    else:
        email = EmailTransport(settings.smtp_url, settings.mail_from, base_url=settings.base_url)
    return {"email": email, "inapp": InAppTransport()}


async def deliver(
    region_id: UUID, notification_id: UUID, transports: dict[str, Transport], clock: Clock = system_clock
) -> str:
    """Send one notification if it is still to be sent. Returns its status afterwards.

    Idempotent: the claim succeeds for one caller only, and a sent notification is never sent again. Every
    outcome leaves the row out of "sending": sent, pending (a retry, with its error) or failed (with a Dutch
    reason for the team and the technical detail for the platform admin).
    """
    scope = RegionScope(region_id)
    now = clock.now()
    is_due = Notification.next_attempt_at.is_null() | (Notification.next_attempt_at <= now)
    claimed = await (
        scope.update(
            Notification,
            {
                Notification.status: "sending",
                Notification.claimed_at: now,
                Notification.queued_at: None,  # taken: when it is pending again, the next sweep hands it over
                Notification.attempts: Notification.attempts + 1,
            },
        )
        .where((Notification.id == notification_id) & (Notification.status == "pending") & is_due)
        .returning(Notification.id)
    )
    if not claimed:
        row = await scope.select(Notification, Notification.status).where(Notification.id == notification_id).first()
        return row["status"] if row else "unknown"
    _IN_FLIGHT[notification_id] = region_id
    try:
        return await _send_claimed(scope, notification_id, transports, clock)
    except BaseException:  # cancelled or interrupted at worker shutdown: give the claim back at once
        await _release(scope, notification_id)
        raise
    finally:
        _IN_FLIGHT.pop(notification_id, None)


async def _send_claimed(scope: RegionScope, notification_id: UUID, transports: dict[str, Transport],
                        clock: Clock) -> str:  # fmt: skip
    notification = await scope.get(Notification, notification_id)
    try:
        if notification.recipient.startswith(PROVIDER_RECIPIENT):
            return await _expand_to_provider_people(scope, notification, clock)
        transport = transports[notification.channel]
        rendered = await _render(scope, notification, getattr(transport, "base_url", ""))
        await transport.send(notification.recipient, rendered, notification.idempotency_key)
    except (PermanentFailure, UnknownTemplate, MissingField, KeyError) as exc:
        await _finish(scope, notification_id, "failed", clock, error=_reason(exc), detail=_detail(exc))
        log.warning("notification %s failed for good: %s", notification_id, exc)
        return "failed"
    except Exception as exc:  # TemporaryFailure, and anything unexpected: retried, with the error recorded
        if not isinstance(exc, TemporaryFailure):
            log.exception("notification %s: unexpected error while sending", notification_id)
        if notification.attempts >= MAX_ATTEMPTS:
            await _finish(scope, notification_id, "failed", clock, detail=_detail(exc),
                          error=f"na {notification.attempts} pogingen niet verstuurd: {_reason(exc)}")  # fmt: skip
            return "failed"
        await scope.update(
            Notification,
            {Notification.status: "pending", Notification.last_error: _reason(exc),
             Notification.error_detail: _detail(exc),
             Notification.next_attempt_at: clock.now() + backoff(notification.attempts)},
        ).where(Notification.id == notification_id)  # fmt: skip
        return "pending"
    await _finish(scope, notification_id, "sent", clock)
    if notification.template == INVITATION_TEMPLATE and "link" in notification.payload:
        # The link is a key to an account: once it is in the mailbox, the outbox forgets it.
        payload = {**notification.payload, "link": ""}
        await scope.update(Notification, {Notification.payload: payload}).where(Notification.id == notification_id)
    return "sent"


INVITATION_TEMPLATE = "uitnodiging"
_IN_FLIGHT: dict[UUID, UUID] = {}  # claimed by this process and not finished: notification id -> region id


async def _render(scope: RegionScope, notification: Notification, base_url: str) -> Rendered:
    region = await Region.objects().where(Region.id == scope.region_id).first()
    rendered = render(notification.template, {"region_name": region.name, **notification.payload}, region.slug,
                      base_url=base_url)  # fmt: skip
    inkoop = RegionMailbox.role == "inkoop"
    mailbox = await scope.select(RegionMailbox, RegionMailbox.email).where(inkoop).order_by(RegionMailbox.id).first()
    return replace(rendered, reply_to=mailbox["email"]) if mailbox else rendered


def _reason(exc: BaseException) -> str:
    """What the purchasing team reads on the delivery page: Dutch, and something they can act on."""
    if isinstance(exc, MissingField):
        return f"Het bericht mist het gegeven ‘{exc.field}’. Meld dit aan de beheerder van Trede."
    if isinstance(exc, UnknownTemplate | KeyError):
        return "Trede kent dit soort bericht niet. Meld dit aan de beheerder van Trede."
    if isinstance(exc, PermanentFailure | TemporaryFailure) and exc.reason:
        return exc.reason
    if isinstance(exc, PermanentFailure):
        return "De mailserver weigerde het bericht."
    if isinstance(exc, TemporaryFailure):
        return "De mailserver was niet bereikbaar; Trede probeert het later opnieuw."
    return "Onverwachte fout bij het versturen; Trede probeert het later opnieuw."


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


async def _release(scope: RegionScope, notification_id: UUID) -> None:
    await scope.update(Notification, {Notification.status: "pending", Notification.claimed_at: None}).where(
        (Notification.id == notification_id) & (Notification.status == "sending")
    )


async def release_claims() -> int:
    """At worker shutdown: what this process claimed and did not finish goes back to the queue now, not when
    the lease runs out."""
    released = 0
    for notification_id, region_id in list(_IN_FLIGHT.items()):
        await _release(RegionScope(region_id), notification_id)
        released += 1
    _IN_FLIGHT.clear()
    return released


PROVIDER_RECIPIENT = "provider:"  # "provider:<id>": every person of that provider organisation


async def _expand_to_provider_people(scope: RegionScope, notification: Notification, clock: Clock) -> str:
    """A notice for "the provider" becomes one notification per person of the organisation, each with its own
    idempotency key (sent once, retried on its own). Nobody there yet: failed, with a reason people can act on."""
    people = await provider_people(notification.recipient.removeprefix(PROVIDER_RECIPIENT))
    addresses = sorted({email for _, email in people if email})
    if not addresses:
        await add_for_people(scope, [user_id for user_id, _ in people], template=notification.template,
                             payload=notification.payload, key=notification.idempotency_key, clock=clock)  # fmt: skip
        await _finish(scope, notification.id, "failed", clock,
                      error="De aanbieder heeft nog niemand in Trede om deze melding aan te sturen.")  # fmt: skip
        return "failed"
    async with write_transaction():  # the person's mails go to a worker when this commits, not at the next sweep
        await add_for_people(scope, [user_id for user_id, _ in people], template=notification.template,
                             payload=notification.payload, key=notification.idempotency_key, clock=clock)  # fmt: skip
        for address in addresses:
            key = f"{notification.idempotency_key}:{hashlib.sha256(address.encode()).hexdigest()[:16]}"
            exists = await scope.exists(Notification).where(Notification.idempotency_key == key)
            if not exists:
                await scope.new(
                    Notification, recipient=address, channel=notification.channel, template=notification.template,
                    payload={**notification.payload, "via": notification.recipient}, idempotency_key=key,
                    created_at=clock.now(),
                ).save()  # fmt: skip
        spread = f"verdeeld over {aantal(len(addresses), 'persoon', 'personen')}"
        await _finish(scope, notification.id, "sent", clock, error=spread)
    return "sent"


async def _finish(
    scope: RegionScope, notification_id: UUID, status: str, clock: Clock, error: str = "", detail: str = ""
) -> None:
    values = {Notification.status: status, Notification.last_error: error[:2000], Notification.error_detail: detail}
    if status == "sent":
        values[Notification.sent_at] = clock.now()
    await scope.update(Notification, values).where(Notification.id == notification_id)


async def due_for_delivery(clock: Clock = system_clock, limit: int = 2000) -> list[tuple[UUID, UUID]]:
    """(region id, notification id) of what should be handed to the workers now, oldest first, across all regions,
    at most ``limit``: pending, due, and not handed over in the last ``REQUEUE_AFTER`` (issue 20: every pending row
    was handed over again every minute, 12,000 messages per sweep with a backlog). Each is marked ``queued_at``
    by a compare-and-set, so two sweeps never both hand it over. For the sweep: it also returns to the queue what a
    dead worker left in "sending". One range of the partial index notification_pending_created reads the rows."""
    now = clock.now()
    everywhere = RegionsScope([row["id"] for row in await Region.select(Region.id)])
    stale = (Notification.status == "sending") & (Notification.claimed_at < now - STALE_SENDING)
    for region_id, ids in _by_region(await everywhere.select(Notification, Notification.region, Notification.id).where(
        stale
    )).items():  # fmt: skip
        await RegionScope(region_id).update(Notification, {Notification.status: "pending"}).where(
            Notification.id.is_in(ids) & stale
        )  # fmt: skip
    not_queued = Notification.queued_at.is_null() | (Notification.queued_at < now - REQUEUE_AFTER)
    rows = await pending_query(everywhere, now, limit)
    found: list[tuple[UUID, UUID]] = []
    for region_id, ids in _by_region(rows).items():
        marked = await RegionScope(region_id).update(Notification, {Notification.queued_at: now}).where(
            Notification.id.is_in(ids) & (Notification.status == "pending") & not_queued
        ).returning(Notification.id)  # fmt: skip
        found.extend((region_id, row["id"]) for row in marked)
    return found


def pending_query(everywhere: RegionsScope, now: datetime, limit: int) -> Any:
    """The pending notices due and not handed over lately, oldest first: one range of the partial index
    notification_pending_created (``created_at`` WHERE status = 'pending'; the status a literal, so every plan
    can use it)."""
    is_due = Notification.next_attempt_at.is_null() | (Notification.next_attempt_at <= now)
    not_queued = Notification.queued_at.is_null() | (Notification.queued_at < now - REQUEUE_AFTER)
    return everywhere.select(Notification, Notification.region, Notification.id).where(
        WhereRaw("status = 'pending'") & is_due & not_queued
    ).order_by(Notification.created_at).limit(limit)  # fmt: skip


def _by_region(rows: list[dict]) -> dict[UUID, list[UUID]]:
    grouped: dict[UUID, list[UUID]] = {}
    for row in rows:
        grouped.setdefault(UUID(str(row["region"])), []).append(row["id"])
    return grouped
