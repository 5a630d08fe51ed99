"""Delivering the outbox over a real SMTP server: sent once, retried when the server is away, failed (and
kept, with the error) when a mailbox does not exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apps.notifications.services import MAX_ATTEMPTS, REQUEUE_AFTER, deliver, due_for_delivery
from apps.notifications.tables import Notification
from apps.notifications.transports import EmailTransport, InAppTransport, TemporaryFailure
from apps.tenancy.tables import Region
from core.clock import FrozenClock
from core.tenancy import RegionScope
from tests.support import free_port

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def _notification(slug: str, recipient: str, key: str, template: str = "instroomstop_gestart", **payload):
    region = await Region.objects().where(Region.slug == slug).first()
    scope = RegionScope(region.id)
    payload = {
        "provider_name": "Jeugdzorg De Vlinder B.V.",
        "kvk_number": "90000001",
        "start_date": "24 november 2026",
        "municipalities": ["Maastricht", "Heerlen"],
        **payload,
    }
    row = scope.new(
        Notification, recipient=recipient, channel="email", template=template, idempotency_key=key, payload=payload
    )
    await row.save()
    return region.id, row.id


def transports(url: str) -> dict:
    return {"email": EmailTransport(url, "Trede <noreply@trede.localhost>", timeout=5), "inapp": InAppTransport()}


async def test_a_notification_is_sent_once_as_text_and_html(synced, smtp_sink):
    region_id, notification_id = await _notification("zuid-limburg", "toegang.maastricht@zuid-limburg.example", "k1")
    clock = FrozenClock(NOW)
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), clock) == "sent"
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), clock) == "sent"  # no resend
    [message] = smtp_sink.messages
    assert message["To"] == "toegang.maastricht@zuid-limburg.example"
    assert message["Subject"] == "Instroomstop voor Jeugdzorg De Vlinder B.V. (vanaf 24 november 2026)"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Verwijs geen nieuwe cliënten meer naar deze aanbieder" in text
    assert "- Maastricht" in text and "Jeugdhulp Zuid-Limburg" in text
    assert "<li>Heerlen</li>" in html
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert row.status == "sent" and row.sent_at == NOW and row.attempts == 1


async def test_an_unreachable_server_is_retried_with_backoff_then_failed(synced):
    region_id, notification_id = await _notification("lekstroom", "toegang.houten@lekstroom.example", "k2")
    clock = FrozenClock(NOW)
    closed = transports(f"smtp://127.0.0.1:{free_port()}")
    assert await deliver(region_id, notification_id, closed, clock) == "pending"
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert row.next_attempt_at == NOW + timedelta(minutes=1) and "niet bereikbaar" in row.last_error
    assert "Error" in row.error_detail  # the technical detail, for the platform admin
    assert await deliver(region_id, notification_id, closed, clock) == "pending"  # not yet due: untouched
    assert (await RegionScope(region_id).get(Notification, notification_id)).attempts == 1
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(hours=7)
        status = await deliver(region_id, notification_id, closed, clock)
    assert status == "failed"
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert row.attempts == MAX_ATTEMPTS and row.last_error.startswith(f"na {MAX_ATTEMPTS} pogingen niet verstuurd")


async def test_a_refused_mailbox_fails_at_once_and_keeps_the_reason(synced, smtp_sink):
    smtp_sink.refuse.add("bestaat.niet@lekstroom.example")
    region_id, notification_id = await _notification("lekstroom", "bestaat.niet@lekstroom.example", "k3")
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), FrozenClock(NOW)) == "failed"
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert "550" in row.error_detail and row.attempts == 1
    assert row.last_error == "De mailserver kent het adres bestaat.niet@lekstroom.example niet of weigert het."
    assert smtp_sink.messages == []


async def test_the_sweep_finds_pending_and_abandoned_notifications(synced):
    region_id, first = await _notification("zuid-limburg", "a@zuid-limburg.example", "k4")
    _, second = await _notification("zuid-limburg", "b@zuid-limburg.example", "k5")
    scope = RegionScope(region_id)
    # A worker took the second one 3 minutes ago (the lease is 2) and died.
    abandoned = {Notification.status: "sending", Notification.claimed_at: NOW - timedelta(minutes=3)}
    await scope.update(Notification, abandoned).where(Notification.id == second)
    found = await due_for_delivery(FrozenClock(NOW))
    assert set(found) == {(region_id, first), (region_id, second)}
    assert (await scope.get(Notification, second)).status == "pending"


async def test_the_sweep_hands_a_pending_notice_over_once_until_the_broker_must_have_lost_it(synced):
    """Issue 20: a pending notice is handed to the workers once, not again every minute (a backlog of 12,000 was
    sent to the broker at every sweep); again after REQUEUE_AFTER, and at once when a worker took it and gave it
    back (a retry)."""
    region_id, notice = await _notification("zuid-limburg", "q@zuid-limburg.example", "requeue:1")
    assert await due_for_delivery(FrozenClock(NOW)) == [(region_id, notice)]
    assert await due_for_delivery(FrozenClock(NOW + timedelta(minutes=1))) == []  # still on its way
    later = NOW + REQUEUE_AFTER + timedelta(minutes=1)
    assert await due_for_delivery(FrozenClock(later)) == [(region_id, notice)]  # the broker lost it

    class Busy:  # the mail server asks to try later: a retry after a minute
        async def send(self, recipient, rendered, idempotency_key):
            raise TemporaryFailure("421 try again later")

    busy = {"email": Busy(), "inapp": InAppTransport()}
    assert await deliver(region_id, notice, busy, FrozenClock(later)) == "pending"
    retry = (await RegionScope(region_id).get(Notification, notice)).next_attempt_at
    assert retry - later < REQUEUE_AFTER
    assert await due_for_delivery(FrozenClock(retry)) == [(region_id, notice)]


async def test_a_notice_for_the_provider_goes_to_each_of_its_people(synced, smtp_sink):
    from apps.accounts.roles import Role
    from apps.accounts.tables import Membership, User
    from apps.providers.tables import Provider
    from core.tenancy import UserScope

    provider = Provider(kvk_number="90000055", name="Zorg Samen B.V.")
    await provider.save()
    region_id, notification_id = await _notification(
        "lekstroom", f"provider:{provider.id}", "k6", template="termijn_herinnering",
        escalatie="LJ-2026-0001", wat="Plan van aanpak", vervaldatum="8 december 2026",
    )  # fmt: skip
    scope = RegionScope(region_id)
    clock = FrozenClock(NOW)
    # Nobody at the provider yet: the notice fails with a reason people can act on, not silently.
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), clock) == "failed"
    assert "nog niemand" in (await scope.get(Notification, notification_id)).last_error

    _, notification_id = await _notification("lekstroom", f"provider:{provider.id}", "k7",
                                              template="termijn_herinnering", escalatie="LJ-2026-0001",
                                              wat="Plan van aanpak", vervaldatum="8 december 2026")  # fmt: skip
    for email, active in [("anna@zorgsamen.example", True), ("bert@zorgsamen.example", True), ("oud@x.example", False)]:
        user = User(issuer="https://idp.example", subject=email, email=email, active=active)
        await user.save()
        await UserScope(user.id).new(Membership, provider=provider.id, role=Role.AANBIEDER_MEDEWERKER).save()
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), clock) == "sent"
    children = await scope.objects(Notification).where(
        Notification.idempotency_key.like("k7:%") & (Notification.channel == "email")
    )
    assert sorted(c.recipient for c in children) == ["anna@zorgsamen.example", "bert@zorgsamen.example"]
    in_app = await scope.objects(Notification).where(Notification.idempotency_key.like("k7:inapp:%"))
    assert len(in_app) == 2 and all(n.recipient_user for n in in_app)  # and under the bell in Trede
    for child in children:
        assert await deliver(region_id, child.id, transports(smtp_sink.url), clock) == "sent"
    assert sorted(m["To"] for m in smtp_sink.messages) == ["anna@zorgsamen.example", "bert@zorgsamen.example"]
    assert smtp_sink.messages[0]["Subject"].startswith("Herinnering: ")
