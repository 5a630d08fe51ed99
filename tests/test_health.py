"""Health endpoints: live always answers; ready checks database, storage and broker and names what failed."""

from __future__ import annotations

import os

import pytest

from core.broker import broker_ready, make_broker
from tests.support import free_port

CI = os.environ.get("CI") == "true"


async def test_live(client):
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_everything_answers(client):
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {"database", "storage", "broker"}


async def test_ready_names_the_storage_that_fails(client, tmp_path):
    from core.storage import LocalStorage

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    client.app.state.storage = LocalStorage(blocker / "objects")
    response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["storage"]
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


async def test_ready_names_the_broker_that_fails(client):
    client.app.state.broker = make_broker(f"redis://127.0.0.1:{free_port()}/0")
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672/"])
async def test_real_brokers_are_ready(url):
    """Redis and RabbitMQ run on developer machines and in CI; the probe must pass against both."""
    broker = make_broker(url)
    try:
        await broker_ready(broker)
    finally:
        broker.close()
