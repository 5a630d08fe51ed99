"""Nothing lost, nothing twice — with a real broker (Redis and RabbitMQ) and a real worker process.

- A worker killed in the middle of sending: after restart every notification reaches the SMTP sink once.
- A worker killed after the SMTP server took the message but before its 250: at most one duplicate, and both
  copies carry the same Message-ID, so the receiving system can drop the second.
- Notices that cannot be sent (an address with a line break, a refused mailbox, a missing field) end in
  ``failed`` with a Dutch reason; none stays in ``sending``.
- The broker down while something changes: the change and its notification are committed anyway; the
  notification is delivered when the broker is back.
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


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_worker_killed_mid_send_delivers_each_notification_exactly_once(synced, smtp_sink, tmp_path, broker_url):
    made = await make_notifications(4)
    smtp_sink.stall.add(made[0][2])
    broker = fresh_broker(broker_url)
    # One thread: the stalled message is the only one in flight when the worker dies. (A crash after the
    # SMTP server accepted a message but before Trede recorded it cannot be told apart from one before; such
    # a resend carries the same Message-ID, so a receiving system can recognise it.)
    worker = start_worker(tmp_path, broker_url, smtp_sink.url, threads=1)
    try:
        for region_id, notification_id, _ in made:
            enqueue(broker, "deliver_notification", region_id, notification_id)
        assert smtp_sink.stalled.wait(60), "the worker never reached the stalled recipient"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    region_scope = RegionScope(made[0][0])
    stuck = await region_scope.get(Notification, made[0][1])
    assert stuck.status == "sending"  # taken by the dead worker, not sent

    # The sending lease passes: the sweep gives the abandoned notification back to the queue.
    lease_over = {Notification.claimed_at: stuck.claimed_at - STALE_SENDING - timedelta(minutes=1)}
    await region_scope.update(Notification, lease_over).where(Notification.id == stuck.id)
    worker = start_worker(tmp_path, broker_url, smtp_sink.url)
    try:
        wait_until(lambda: len(smtp_sink.messages) >= 4, what="all four messages", tick=scheduler(broker))
        await asyncio.sleep(1.5)  # anything extra would arrive now
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        broker.close()
    received = sorted(message["To"] for message in smtp_sink.messages)
    assert received == sorted(address for _, _, address in made)
    for region_id, notification_id, _ in made:
        assert (await RegionScope(region_id).get(Notification, notification_id)).status == "sent"


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
async def test_worker_killed_before_the_250_gives_one_duplicate_with_the_same_message_id(
    synced, smtp_sink, tmp_path, broker_url
):
    made = await make_notifications(3)
    region_id, notification_id, address = made[0]
    smtp_sink.stall_after_data.add(address)
    broker = fresh_broker(broker_url)
    worker = start_worker(tmp_path, broker_url, smtp_sink.url, threads=1)
    try:
        for made_region, made_id, _ in made:
            enqueue(broker, "deliver_notification", made_region, made_id)
        assert smtp_sink.accepted.wait(60), "the worker never sent the stalled message's data"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    scope = RegionScope(region_id)
    stuck = await scope.get(Notification, notification_id)
    assert stuck.status == "sending"  # the server has the message, Trede does not know

    lease_over = {Notification.claimed_at: stuck.claimed_at - STALE_SENDING - timedelta(minutes=1)}
    await scope.update(Notification, lease_over).where(Notification.id == stuck.id)
    worker = start_worker(tmp_path, broker_url, smtp_sink.url)
    try:
        wait_until(lambda: len(smtp_sink.messages) >= 4, what="the others and the resend", tick=scheduler(broker))
        await asyncio.sleep(1.5)  # anything extra would arrive now
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        broker.close()
    copies = [m for m in smtp_sink.messages if m["To"] == address]
    assert len(copies) == 2  # one duplicate, no more
    assert copies[0]["Message-ID"] and copies[0]["Message-ID"] == copies[1]["Message-ID"]
    others = sorted(m["To"] for m in smtp_sink.messages if m["To"] != address)
    assert others == sorted(a for _, _, a in made[1:])  # each of the others once
    for made_region, made_id, _ in made:
        assert (await RegionScope(made_region).get(Notification, made_id)).status == "sent"


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
