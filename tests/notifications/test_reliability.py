"""Nothing lost, nothing twice — with a real broker (Redis and RabbitMQ) and a real worker process.

- A worker killed in the middle of sending: after restart every notification reaches the SMTP sink once.
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
