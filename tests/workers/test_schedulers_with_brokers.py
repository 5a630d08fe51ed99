"""The scheduler's promises with real processes and a real broker (Redis and RabbitMQ):

- two schedulers running at once: each due deadline acts once (one proposal, one timeline event);
- the scheduler down for a day: on start-up every missed deadline acts once, in due order.
The processes use the real clock: the deadlines are made due in the past.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apps.audit.tables import AuditEntry
from apps.escalations.services import open_escalation
from apps.escalations.tables import Deadline, Escalation, StepProposal, TimelineEvent
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import SYSTEM
from core.broker import make_broker
from core.clock import FrozenClock
from core.tenancy import RegionScope
from tests.letter_fields import opening
from tests.support import ROOT, make_settings_env

BROKERS = ["redis://127.0.0.1:6379/4", "amqp://guest:guest@127.0.0.1:5672/%2F"]  # own Redis database per file


def start(command: str, tmp_path: Path, broker_url: str) -> subprocess.Popen:
    env = {**os.environ, **make_settings_env(tmp_path, BROKER_URL=broker_url)}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "trede"), command], cwd=ROOT, env=env,
        stdout=(tmp_path / f"{command}.log").open("a"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


async def open_due(count: int, hours_ago: list[float]) -> tuple[RegionScope, list]:
    """``count`` Zuid-Limburg escalations whose plan-of-action term was due ``hours_ago`` hours ago."""
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    now = datetime.now(UTC)
    clock = FrozenClock(now - timedelta(days=20))
    made = []
    for index in range(count):
        provider = Provider(kvk_number=f"9300000{index}", name=f"Aanbieder {index}")
        await provider.save()
        escalation = await open_escalation(
            scope, provider=provider, ladder_key="kwaliteit", category="niet_veiligheid",
            summary="Rapportages ontbreken", motivation="Signaal", actor=SYSTEM, clock=clock,
            letter_fields=opening("niet_veiligheid"),
        )  # fmt: skip
        deadline = await scope.objects(Deadline).where(Deadline.escalation == escalation.id).first()
        due = {Deadline.due_at: now - timedelta(hours=hours_ago[index]), Deadline.remind_at: None}
        await scope.update(Deadline, due).where(Deadline.id == deadline.id)
        made.append((escalation.id, deadline.id))
    return scope, made


def fresh_queue(broker_url: str) -> None:
    broker = make_broker(broker_url)
    broker.declare_queue("trede")
    broker.flush("trede")
    broker.close()


async def wait_for(condition, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.3)
    raise AssertionError("timed out")


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_two_schedulers_at_once_act_on_each_due_deadline_once(synced, tmp_path, broker_url):
    scope, made = await open_due(3, [1, 2, 3])
    fresh_queue(broker_url)
    processes = [start("scheduler", tmp_path, broker_url), start("scheduler", tmp_path, broker_url),
                 start("worker", tmp_path, broker_url)]  # fmt: skip
    try:
        # The official letter waits for a person: each missed term proposes that step on the 'Te beoordelen' list.
        async def all_proposed() -> bool:
            rows = await scope.select(StepProposal, StepProposal.escalation).where(
                StepProposal.escalation.is_in([escalation for escalation, _ in made])
            )
            return {row["escalation"] for row in rows} == {escalation for escalation, _ in made}

        await wait_for(all_proposed)
        await asyncio.sleep(2)  # a second scheduler acting twice would show now
    finally:
        stop(*processes)
    for escalation_id, _ in made:
        kinds = [r["kind"] for r in await scope.select(TimelineEvent, TimelineEvent.kind).where(
            TimelineEvent.escalation == escalation_id)]  # fmt: skip
        assert kinds.count("termijn_verlopen") == 1
        proposals = await scope.select(StepProposal, StepProposal.step).where(StepProposal.escalation == escalation_id)
        assert [row["step"] for row in proposals] == ["officiele_brief"]
        escalation = await scope.objects(Escalation).where(Escalation.id == escalation_id).first()
        assert escalation.current_step == "verzoek_plan_van_aanpak"  # nothing sent without a person


@pytest.mark.parametrize("broker_url", BROKERS, ids=["redis", "rabbitmq"])
async def test_after_a_day_down_the_scheduler_acts_on_every_missed_deadline_once_in_due_order(
    synced, tmp_path, broker_url
):
    # Due 23, 17, 9 and 2 hours ago: the scheduler was down all that time.
    scope, made = await open_due(4, [9, 23, 2, 17])
    fresh_queue(broker_url)
    processes = [start("scheduler", tmp_path, broker_url), start("worker", tmp_path, broker_url)]
    try:

        async def all_missed() -> bool:
            rows = await scope.select(Deadline, Deadline.status).where(Deadline.id.is_in([d for _, d in made]))
            return all(row["status"] == "missed" for row in rows)

        await wait_for(all_missed)
    finally:
        stop(*processes)
    entries = (
        await AuditEntry.select(AuditEntry.detail)
        .where(AuditEntry.action == "deadline.missed")
        .order_by(AuditEntry.at)
        .output(load_json=True)
    )
    acted = [entry["detail"]["deadline_id"] for entry in entries]
    hours_ago = [9, 23, 2, 17]
    oldest_first = [str(deadline) for _, (_, deadline) in sorted(zip(hours_ago, made, strict=True), reverse=True)]
    assert acted == oldest_first
