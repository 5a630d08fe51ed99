"""Issue 17 point 3: a notice goes to the worker right after the transaction that wrote it commits (the minute's
sweep stays the safety net), and never for a change that was rolled back. Checked on the in-process broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dramatiq import Message

from apps.accounts.roles import Role
from apps.escalations import services
from apps.notifications.services import deliver
from apps.notifications.tables import Notification
from apps.notifications.transports import InAppTransport, MailFolderTransport
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.broker import configure_broker
from core.clock import FrozenClock
from core.tenancy import RegionScope
from core.transactions import write_transaction
from tests.letter_fields import STEP_FIELDS

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def broker():
    broker = configure_broker("stub://")
    broker.flush_all()
    yield broker
    broker.flush_all()


def queued(broker) -> list[tuple[str, str]]:
    """(region id, notification id) of each deliver_notification message waiting on the queue."""
    messages = [Message.decode(raw) for raw in list(broker.queues["trede"].queue)]
    return [tuple(m.args) for m in messages if m.actor_name == "deliver_notification"]


async def zuid_limburg() -> RegionScope:
    return RegionScope((await Region.objects().where(Region.slug == "zuid-limburg").first()).id)


def _row(scope: RegionScope, key: str) -> Notification:
    return scope.new(Notification, recipient="a@zuid-limburg.example", channel="email", template="bewijs_verloopt",
                     payload={"wat": "VOG", "vervaldatum": "8 december 2026"}, idempotency_key=key)  # fmt: skip


async def test_a_notice_is_handed_to_the_worker_only_after_its_transaction_commits(synced, broker):
    scope = await zuid_limburg()
    async with write_transaction():
        row = _row(scope, "commit:1")
        await row.save()
        async with write_transaction():  # a nested one joins: nothing leaves before the outer commit
            await _row(scope, "commit:2").save()
        assert queued(broker) == []  # not yet committed: a worker would not even see the row
    assert sorted(queued(broker)) == sorted([(str(scope.region_id), str(row.id)),
                                             (str(scope.region_id), str(await _id(scope, "commit:2")))])  # fmt: skip


async def _id(scope: RegionScope, key: str):
    return (await scope.objects(Notification).where(Notification.idempotency_key == key).first()).id


async def test_a_rolled_back_change_hands_nothing_to_the_worker(synced, broker):
    scope = await zuid_limburg()
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await _row(scope, "rollback:1").save()
            raise RuntimeError("the change fails after the notice was written")
    assert queued(broker) == []
    assert not await scope.exists(Notification).where(Notification.idempotency_key == "rollback:1")
    async with write_transaction():  # the next transaction starts clean
        await _row(scope, "rollback:2").save()
    assert len(queued(broker)) == 1


async def test_an_intake_stop_hands_every_mail_to_the_worker_at_once(synced, broker, tmp_path):
    scope = await zuid_limburg()
    clock = FrozenClock(NOW)
    provider = Provider(kvk_number="90000042", name="Jeugdzorg De Proef B.V.")
    await provider.save()
    lead = Actor(label="Luuk Leider", roles=frozenset({Role.INKOOP_LEAD}))
    escalation = await services.open_escalation(
        scope, provider=provider, ladder_key="kwaliteit", category="veiligheid", subcategory="vog_werknemers",
        summary="VOG's ontbreken", motivation="Signaal", actor=lead, clock=clock,
    )  # fmt: skip
    await services.transition(scope, escalation.id, "afspraken_per_brief", actor=lead, motivation="Model.", clock=clock,
        letter_fields=STEP_FIELDS["afspraken_per_brief"])
    earlier = {row["id"] for row in await scope.select(Notification, Notification.id)}
    broker.flush_all()
    await services.transition(scope, escalation.id, "instroomstop", actor=lead, motivation="Model.", clock=clock,
        letter_fields=STEP_FIELDS["instroomstop"])
    written = [row for row in await scope.select(Notification, Notification.id).where(Notification.channel == "email")
               if row["id"] not in earlier]  # fmt: skip
    assert len(written) >= 19  # 16 access teams, GI's, inkoop and the provider (and its letter)
    assert sorted(n for _, n in queued(broker)) == sorted(str(row["id"]) for row in written)


async def test_the_provider_notice_hands_each_persons_mail_on_when_it_is_split(world, broker, tmp_path):
    scope = await zuid_limburg()
    provider = await Provider.objects().where(Provider.kvk_number == "90000001").first()
    row = scope.new(Notification, recipient=f"provider:{provider.id}", channel="email", template="bewijs_verloopt",
                    payload={"wat": "VOG", "vervaldatum": "8 december 2026"}, idempotency_key="split:1")  # fmt: skip
    await row.save()  # outside a transaction: it waits for the sweep
    assert queued(broker) == []
    transports = {"email": MailFolderTransport(tmp_path, "noreply@trede.localhost"), "inapp": InAppTransport()}
    assert await deliver(scope.region_id, row.id, transports, FrozenClock(NOW)) == "sent"
    people = await scope.select(Notification, Notification.id).where(
        (Notification.idempotency_key.like("split:1:%")) & (Notification.channel == "email")
    )
    assert people and sorted(n for _, n in queued(broker)) == sorted(str(p["id"]) for p in people)
