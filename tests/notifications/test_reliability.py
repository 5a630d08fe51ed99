"""Nothing lost, nothing twice — with a real broker (Redis and RabbitMQ) and a real worker process.

A worker is killed (SIGKILL, no clean-up) in each phase of a send; after restart nothing is lost and nothing
stays in ``sending``:

- after it claimed the notice, before any SMTP conversation: every notification reaches the sink once;
- in the middle of the SMTP conversation (RCPT): every notification reaches the sink once;
- after the SMTP server took the message but before its 250: at most one duplicate, and both copies carry the
  same Message-ID, so the receiving system can drop the second;
- after the server's 250, before Trede recorded the mail as sent: the same, one duplicate with one Message-ID.

Besides: notices that cannot be sent (an address with a line break, a refused mailbox, a missing field) end in
``failed`` with a Dutch reason, none stays in ``sending``; with the broker down while something changes, the
change and its notification are committed anyway and the notification is delivered when the broker is back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest

from apps.notifications.services import STALE_SENDING
from apps.notifications.tables import Notification
from apps.tenancy.tables import Region
from core.broker import make_broker
from core.tenancy import RegionScope
from tests.support import ROOT, free_port, make_settings_env

# Everything the instroomstop notice says: a notice missing a field fails for good instead of being sent.
INSTROOMSTOP = {"provider_name": "Testzorg", "kvk_number": "12345678", "start_date": "2 december 2026",
                "municipalities": ["Maastricht"], "escalatie": "ZL-2026-0001"}  # fmt: skip
BROKERS = ["redis://127.0.0.1:6379/3", "amqp://guest:guest@127.0.0.1:5672/%2F"]  # own Redis database per file


def start_worker(tmp_path: Path, broker_url: str, smtp_url: str, threads: int = 2) -> subprocess.Popen:
    env = {**os.environ, **make_settings_env(tmp_path, BROKER_URL=broker_url, SMTP_URL=smtp_url)}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "trede"), "worker", "--threads", str(threads)],
        cwd=ROOT, env=env, stdout=(tmp_path / "worker.log").open("a"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def enqueue(broker: dramatiq.Broker, actor_name: str, *args) -> None:
    broker.enqueue(dramatiq.Message(queue_name="trede", actor_name=actor_name, args=args, kwargs={}, options={}))


def wait_until(condition, timeout: float = 60, what: str = "condition", tick=None) -> None:
    """Wait for ``condition``; ``tick`` plays the scheduler, which sends a new sweep every minute (here every
    few seconds): a wake-up message lost on the way is harmless, the next sweep finds the work again."""
    deadline = time.monotonic() + timeout
    next_tick = 0.0
    while time.monotonic() < deadline:
        if condition():
            return
        if tick and time.monotonic() >= next_tick:
            tick()
            next_tick = time.monotonic() + 5
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def scheduler(broker: dramatiq.Broker):
    slots = iter(range(1, 1000))
    return lambda: enqueue(broker, "sweep", next(slots))


async def make_notifications(count: int) -> list[tuple[str, str, str]]:
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    made = []
    for index in range(count):
        address = f"toegang{index}@zuid-limburg.example"
        row = scope.new(Notification, recipient=address, channel="email", template="instroomstop_gestart",
                        idempotency_key=f"reliability:{index}", payload=INSTROOMSTOP)  # fmt: skip
        await row.save()
        made.append((str(region.id), str(row.id), address))
    return made


def fresh_broker(url: str) -> dramatiq.Broker:
    broker = make_broker(url)
    broker.declare_queue("trede")
    broker.flush("trede")
    return broker


def kill_when(worker: subprocess.Popen, reached, what: str) -> None:
    try:
        assert reached.wait(60), f"the worker never reached {what}"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()


async def recover(made, smtp_sink, tmp_path: Path, broker: dramatiq.Broker, broker_url: str, expected: int) -> None:
    """The dead worker's sending lease passes; a new worker and the sweep finish what is left."""
    for region_id, notification_id, _ in made:
        scope = RegionScope(region_id)
        row = await scope.get(Notification, notification_id)
        if row.status == "sending":
            lease_over = {Notification.claimed_at: row.claimed_at - STALE_SENDING - timedelta(minutes=1)}
            await scope.update(Notification, lease_over).where(Notification.id == row.id)
    worker = start_worker(tmp_path, broker_url, smtp_sink.url)
    try:
        wait_until(lambda: len(smtp_sink.messages) >= expected, what=f"{expected} messages", tick=scheduler(broker))
        await asyncio.sleep(1.5)  # anything extra would arrive now
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        broker.close()


async def statuses_of(made) -> list[str]:
    return [(await RegionScope(region).get(Notification, row_id)).status for region, row_id, _ in made]


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_worker_killed_after_its_claim_before_smtp_loses_nothing(
    synced, smtp_sink, smtp_gate, tmp_path, broker_url
):
    made = await make_notifications(3)
    broker = fresh_broker(broker_url)
    # The first worker's mail server never greets: its one thread claims a notice, connects, and waits there.
    worker = start_worker(tmp_path, broker_url, smtp_gate.url, threads=1)
    for region_id, notification_id, _ in made:
        enqueue(broker, "deliver_notification", region_id, notification_id)
    kill_when(worker, smtp_gate.reached, "the mail server")
    assert sorted(await statuses_of(made)) == ["pending", "pending", "sending"]  # claimed by the dead worker
    assert smtp_sink.messages == []

    await recover(made, smtp_sink, tmp_path, broker, broker_url, expected=3)
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted(a for _, _, a in made)  # each once: none lost
    assert await statuses_of(made) == ["sent"] * 3  # none stuck


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_worker_killed_mid_send_delivers_each_notification_exactly_once(synced, smtp_sink, tmp_path, broker_url):
    made = await make_notifications(4)
    smtp_sink.stall.add(made[0][2])
    broker = fresh_broker(broker_url)
    # One thread: the stalled message is the only one in flight when the worker dies.
    worker = start_worker(tmp_path, broker_url, smtp_sink.url, threads=1)
    for region_id, notification_id, _ in made:
        enqueue(broker, "deliver_notification", region_id, notification_id)
    kill_when(worker, smtp_sink.stalled, "the stalled recipient")
    assert (await statuses_of(made[:1])) == ["sending"]  # taken by the dead worker, not sent

    await recover(made, smtp_sink, tmp_path, broker, broker_url, expected=4)
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted(a for _, _, a in made)  # each once: none lost
    assert await statuses_of(made) == ["sent"] * 4  # none stuck


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_worker_killed_before_the_250_gives_one_duplicate_with_the_same_message_id(
    synced, smtp_sink, tmp_path, broker_url
):
    made = await make_notifications(3)
    address = made[0][2]
    smtp_sink.stall_after_data.add(address)
    broker = fresh_broker(broker_url)
    worker = start_worker(tmp_path, broker_url, smtp_sink.url, threads=1)
    for region_id, notification_id, _ in made:
        enqueue(broker, "deliver_notification", region_id, notification_id)
    kill_when(worker, smtp_sink.accepted, "the stalled message's data")
    assert (await statuses_of(made[:1])) == ["sending"]  # the server has the message, Trede does not know

    await recover(made, smtp_sink, tmp_path, broker, broker_url, expected=4)
    copies = [m for m in smtp_sink.messages if m["To"] == address]
    assert len(copies) == 2  # one duplicate, no more
    assert copies[0]["Message-ID"] and copies[0]["Message-ID"] == copies[1]["Message-ID"]
    assert sorted(m["To"] for m in smtp_sink.messages if m["To"] != address) == sorted(a for _, _, a in made[1:])
    assert await statuses_of(made) == ["sent"] * 3  # none lost, none stuck


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_worker_killed_after_the_250_before_it_recorded_the_mail_gives_one_duplicate(
    synced, smtp_sink, tmp_path, broker_url
):
    made = await make_notifications(3)
    address = made[0][2]
    smtp_sink.stall_quit.add(address)
    broker = fresh_broker(broker_url)
    worker = start_worker(tmp_path, broker_url, smtp_sink.url, threads=1)
    for region_id, notification_id, _ in made:
        enqueue(broker, "deliver_notification", region_id, notification_id)
    kill_when(worker, smtp_sink.answered, "the server's 250")
    assert (await statuses_of(made[:1])) == ["sending"]  # the server said 250; Trede did not record it
    assert [m["To"] for m in smtp_sink.messages].count(address) == 1

    await recover(made, smtp_sink, tmp_path, broker, broker_url, expected=4)
    copies = [m for m in smtp_sink.messages if m["To"] == address]
    assert len(copies) == 2  # one duplicate, no more
    assert copies[0]["Message-ID"] and copies[0]["Message-ID"] == copies[1]["Message-ID"]
    assert sorted(m["To"] for m in smtp_sink.messages if m["To"] != address) == sorted(a for _, _, a in made[1:])
    assert await statuses_of(made) == ["sent"] * 3  # none lost, none stuck


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_broker_down_keeps_the_notification_until_it_is_back(synced, smtp_sink, tmp_path, broker_url):
    [(region_id, notification_id, address)] = await make_notifications(1)  # committed with the change
    down = make_broker(broker_url.replace(":6379", f":{free_port()}").replace(":5672", f":{free_port()}"))
    with pytest.raises(Exception):  # noqa: B017 - whichever connection error the client raises
        down.declare_queue("trede")
        enqueue(down, "sweep", 1)
    assert (await RegionScope(region_id).get(Notification, notification_id)).status == "pending"

    broker = fresh_broker(broker_url)  # the broker is back
    worker = start_worker(tmp_path, broker_url, smtp_sink.url)
    try:
        wait_until(lambda: len(smtp_sink.messages) == 1, what="the notification", tick=scheduler(broker))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        broker.close()
    assert smtp_sink.messages[0]["To"] == address
    assert (await RegionScope(region_id).get(Notification, notification_id)).status == "sent"


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_notices_that_cannot_be_sent_end_failed_with_a_reason_never_stuck(
    synced, smtp_sink, tmp_path, broker_url
):
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    rows = {
        "sent": ("goed@zuid-limburg.example", INSTROOMSTOP),
        "address": ("a@zuid-limburg.example\r\nBcc: x@evil.example", INSTROOMSTOP),
        "refused": ("weg@zuid-limburg.example", INSTROOMSTOP),
        "field": ("veld@zuid-limburg.example", {k: v for k, v in INSTROOMSTOP.items() if k != "provider_name"}),
        "folded": ("naam@zuid-limburg.example", {**INSTROOMSTOP, "provider_name": "Zorg\r\nBcc: x@evil.example"}),
    }
    smtp_sink.refuse.add("weg@zuid-limburg.example")
    ids = {}
    for name, (recipient, payload) in rows.items():
        row = scope.new(Notification, recipient=recipient, channel="email", template="instroomstop_gestart",
                        idempotency_key=f"stuck:{name}", payload=payload)  # fmt: skip
        await row.save()
        ids[name] = row.id
    broker = fresh_broker(broker_url)
    worker = start_worker(tmp_path, broker_url, smtp_sink.url)
    statuses: dict = {}

    def settled() -> bool:
        statuses.update(asyncio.run_coroutine_threadsafe(_statuses(scope, ids), loop).result(10))
        return all(s in ("sent", "failed") for s, _ in statuses.values())

    loop = asyncio.get_running_loop()
    try:
        await asyncio.to_thread(wait_until, settled, 90, "every notice sent or failed", scheduler(broker))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        broker.close()
    assert {name: status for name, (status, _) in statuses.items()} == {
        "sent": "sent", "address": "failed", "refused": "failed", "field": "failed", "folded": "sent"}
    for name in ("address", "refused", "field"):
        assert statuses[name][1], f"{name}: failed without a reason"
    assert statuses["address"][1].startswith("Het e-mailadres is ongeldig")
    folded = next(m for m in smtp_sink.messages if m["To"] == "naam@zuid-limburg.example")
    assert "\n" not in folded["Subject"] and "Zorg Bcc: x@evil.example" in folded["Subject"]
    assert [m["To"] for m in smtp_sink.messages if m["To"] != "naam@zuid-limburg.example"] == [
        "goed@zuid-limburg.example"]  # nothing went to the refused or the broken address


async def _statuses(scope: RegionScope, ids: dict) -> dict:
    found = {}
    for name, notification_id in ids.items():
        row = await scope.get(Notification, notification_id)
        found[name] = (row.status, row.last_error)
    return found
