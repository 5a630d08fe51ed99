"""The sweep acts on deadlines with only time moving (a frozen clock, no sleeps): reminders before a term
ends, the ladder's action when it is missed — once, however many schedulers run, and in due order after
the scheduler was down."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from apps.audit.tables import AuditEntry
from apps.escalations import deadlines as deadline_service
from apps.escalations import missed as missed_terms
from apps.escalations import transitions as transition_service
from apps.escalations.services import open_escalation
from apps.escalations.tables import Deadline, Escalation, StepProposal, TimelineEvent
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from apps.workers.services import run_sweep
from core.actor import SYSTEM
from core.broker import configure_broker
from core.clock import AMSTERDAM, FrozenClock
from core.tenancy import RegionScope
from tests.letter_fields import opening


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AMSTERDAM)


@pytest.fixture(autouse=True)
def stub_broker():
    broker = configure_broker("stub://")
    broker.flush_all()
    yield broker
    broker.flush_all()


async def zuid_limburg() -> RegionScope:
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    return RegionScope(region.id)


async def open_non_safety(scope: RegionScope, clock: FrozenClock, kvk: str = "90000042") -> Escalation:
    provider = Provider(kvk_number=kvk, name=f"Aanbieder {kvk}")
    await provider.save()
    return await open_escalation(
        scope, provider=provider, ladder_key="kwaliteit", category="niet_veiligheid", subcategory="administratief",
        summary="Kwartaalrapportages ontbreken", motivation="Signaal van de toegang", actor=SYSTEM, clock=clock,
        letter_fields=opening("niet_veiligheid"),
    )  # fmt: skip


async def events(scope: RegionScope, escalation_id) -> list[str]:
    rows = (
        await scope.select(TimelineEvent, TimelineEvent.kind)
        .where(TimelineEvent.escalation == escalation_id)
        .order_by(TimelineEvent.sequence)
    )
    return [row["kind"] for row in rows]


async def test_seed_000_missed_plan_term_runs_by_itself_as_time_moves(synced):
    """Opened Monday 2 March 2026: plan of action due Monday 16 March; reminder 3 working days before, at
    09:00 on Wednesday 11 March; missed → the official letter demanding the plan within two weeks."""
    scope = await zuid_limburg()
    clock = FrozenClock(at(3, 2))
    escalation = await open_non_safety(scope, clock)
    assert escalation.current_step == "verzoek_plan_van_aanpak"

    clock.set(at(3, 11, 8, 59))
    assert (await run_sweep(1, clock))["reminded"] == 0
    clock.set(at(3, 11, 9, 0))
    assert (await run_sweep(2, clock))["reminded"] == 1
    assert "herinnering_verstuurd" in await events(scope, escalation.id)
    reminder = await scope.objects(Notification).where(Notification.template == "termijn_herinnering").first()
    assert reminder.recipient == f"provider:{escalation.provider}"
    assert reminder.payload["vervaldatum"] == "16 maart 2026"

    clock.set(at(3, 16, 23, 59))
    assert (await run_sweep(3, clock))["missed"] == 0  # due at the end of 16 March, not before
    clock.set(at(3, 17, 0, 1))
    assert (await run_sweep(4, clock))["missed"] == 1
    # The missed term proposes the official letter; the sweep sends no letter on its own.
    after = await scope.get(Escalation, escalation.id)
    assert after.current_step == "verzoek_plan_van_aanpak"
    timeline = await events(scope, escalation.id)
    assert timeline.index("termijn_verlopen") < timeline.index("volgende_stap_voorgesteld")
    assert "brief_verstuurd" not in timeline[timeline.index("termijn_verlopen"):]
    assert await scope.count(StepProposal).where(StepProposal.escalation == escalation.id) == 1
    again = await run_sweep(5, clock)
    assert again["missed"] == 0 and again["reminded"] == 0
    assert (await events(scope, escalation.id)).count("termijn_verlopen") == 1


async def test_two_schedulers_sweeping_at_once_act_once(synced):
    scope = await zuid_limburg()
    clock = FrozenClock(at(3, 2))
    escalation = await open_non_safety(scope, clock)
    clock.set(at(3, 17, 0, 1))
    results = await asyncio.gather(run_sweep(10, clock), run_sweep(10, clock))
    assert sorted(r["missed"] for r in results) == [0, 1]
    assert (await events(scope, escalation.id)).count("termijn_verlopen") == 1
    assert (await events(scope, escalation.id)).count("volgende_stap_voorgesteld") == 1
    assert await scope.count(StepProposal).where(StepProposal.escalation == escalation.id) == 1


async def test_after_a_day_down_every_missed_deadline_acts_once_in_due_order(synced, monkeypatch):
    scope = await zuid_limburg()
    clock = FrozenClock(at(3, 2, 9))
    opened = []
    for index, day in enumerate((2, 3, 4)):  # due 16, 17 and 18 March
        clock.set(at(3, day, 9))
        opened.append(await open_non_safety(scope, clock, kvk=f"9100000{index}"))
    acted: list = []
    original = transition_service.act_on_missed_deadline

    async def recording(scope_, deadline_id, clock_=None, **kwargs):
        result = await original(scope_, deadline_id, clock_, **kwargs)
        if result:
            acted.append(deadline_id)
        return result

    monkeypatch.setattr(transition_service, "act_on_missed_deadline", recording)
    clock.set(at(3, 20, 12))  # the scheduler was down from before the 16th until the 20th
    assert (await run_sweep(20, clock))["missed"] == 3
    is_plan_term = Deadline.step == "verzoek_plan_van_aanpak"
    due_order = [
        (await scope.objects(Deadline).where((Deadline.escalation == e.id) & is_plan_term).first()).id for e in opened
    ]
    assert acted == due_order
    assert (await run_sweep(21, clock))["missed"] == 0
    for escalation in opened:
        assert (await events(scope, escalation.id)).count("termijn_verlopen") == 1


async def test_one_sweep_works_through_more_than_one_batch(synced, monkeypatch):
    """After a long outage more may be due than one query returns; the sweep keeps going until none is left."""
    scope = await zuid_limburg()
    clock = FrozenClock(at(3, 2, 9))
    opened = [await open_non_safety(scope, clock, kvk=f"9200000{i}") for i in range(5)]
    original = deadline_service.due_deadlines

    async def small_batches(clock_=None, **kwargs):
        return (await original(clock_, **kwargs))[:2]

    monkeypatch.setattr(deadline_service, "due_deadlines", small_batches)
    clock.set(at(3, 20, 12))
    assert (await run_sweep(30, clock))["missed"] == 5
    for escalation in opened:
        assert await scope.count(StepProposal).where(StepProposal.escalation == escalation.id) == 1


async def test_a_sweep_out_of_time_stops_inside_a_batch_and_the_next_run_goes_on(synced, monkeypatch):
    """Five deadlines due in one batch, time for two per run: each run stops mid-batch, the next one takes the
    rest in due order; no deadline is lost and none is acted on twice."""
    from apps.escalations import jobs

    scope = await zuid_limburg()
    clock = FrozenClock(at(3, 2, 9))
    opened = [await open_non_safety(scope, clock, kvk=f"9300000{i}") for i in range(5)]
    ticks = iter(range(0, 10_000, 20))  # every look at the clock: 20 s later (the budget is 45 s)
    monkeypatch.setattr(jobs, "monotonic", lambda: next(ticks))
    clock.set(at(3, 20, 12))
    per_run = [(await run_sweep(40 + n, clock))["missed"] for n in range(4)]
    assert per_run == [2, 2, 1, 0]
    for escalation in opened:
        assert (await events(scope, escalation.id)).count("termijn_verlopen") == 1
        assert await scope.count(StepProposal).where(StepProposal.escalation == escalation.id) == 1


async def as_set(scope: RegionScope, deadline_ids: list) -> list[missed_terms.MissedTerm]:
    """The quiet terms as the sweep hands them to a set (read by ``split_batch``)."""
    due = [deadline_service.DueDeadline(scope.region_id, deadline_id) for deadline_id in deadline_ids]
    quiet, acting = (await missed_terms.split_batch(due, missed_terms.Ladders()))[scope.region_id]
    assert not acting and [term.deadline_id for term in quiet] == deadline_ids
    return quiet


async def add_quiet_terms(scope: RegionScope, escalation: Escalation, clock: FrozenClock, count: int) -> list:
    """Terms of the escalation's step that the ladder does nothing about when missed (no ``on_missed``)."""
    rows = []
    for n in range(count):
        row = scope.new(Deadline, escalation=escalation.id, step=escalation.current_step, key=f"stil_{n}",
                        term="1 week", met_by="", starts_at=clock.now(), due_at=at(3, 5, 9, n), status="open",
                        reasons=[])  # fmt: skip
        await row.save()
        rows.append(row.id)
    return rows


async def test_missed_terms_without_ladder_actions_are_recorded_as_a_set_and_once(synced, monkeypatch):
    """Three quiet terms and one whose ladder acts, all missed: the quiet ones are claimed and recorded together
    (one event and one audit entry each, the escalation's sequence numbers in due order), the acting one goes one
    by one and proposes its step; a second sweep finds nothing; a second claim of the same set claims none."""
    scope = await zuid_limburg()
    clock = FrozenClock(at(3, 2, 9))
    escalation = await open_non_safety(scope, clock)
    quiet = await add_quiet_terms(scope, escalation, clock, 3)
    one_by_one: list = []
    original = transition_service.act_on_missed_deadline

    async def recording(scope_, deadline_id, clock_, **kwargs):
        one_by_one.append(deadline_id)
        return await original(scope_, deadline_id, clock_, **kwargs)

    monkeypatch.setattr(transition_service, "act_on_missed_deadline", recording)
    clock.set(at(3, 20, 12))
    assert (await run_sweep(50, clock))["missed"] == 4
    assert len(one_by_one) == 1 and one_by_one[0] not in quiet
    rows = (
        await scope.select(TimelineEvent, TimelineEvent.sequence, TimelineEvent.kind, TimelineEvent.payload)
        .where(TimelineEvent.escalation == escalation.id)
        .order_by(TimelineEvent.sequence)
    )
    assert [r["sequence"] for r in rows] == list(range(1, len(rows) + 1))  # no gap, no double
    recorded = [r["payload"]["termijn"] for r in rows if r["kind"] == "termijn_verlopen"]
    assert recorded[:3] == ["stil_0", "stil_1", "stil_2"] and len(recorded) == 4
    audited = await scope.select(AuditEntry, AuditEntry.detail).where(AuditEntry.action == "deadline.missed")
    assert sorted(a["detail"]["termijn"] for a in audited if a["detail"]["termijn"].startswith("stil_")) == [
        "stil_0", "stil_1", "stil_2",
    ]  # fmt: skip
    assert all(a["detail"]["referentie"] == escalation.reference for a in audited)
    assert await scope.count(StepProposal).where(StepProposal.escalation == escalation.id) == 1  # the acting one
    assert {(await scope.get(Deadline, d)).status for d in quiet} == {"missed"}
    assert (await run_sweep(51, clock))["missed"] == 0
    assert await missed_terms.claim_quiet_together(scope, await as_set(scope, quiet), missed_terms.Ladders(),
                                                   clock) == 0  # fmt: skip


async def test_a_set_of_missed_terms_moves_the_escalations_next_deadline(synced):
    """The quiet terms claimed as a set are no longer open: the escalation's next deadline (what the overview sorts
    on and calls "verlopen") becomes the earliest term still open, in the same transaction."""
    scope = await zuid_limburg()
    clock = FrozenClock(at(3, 2, 9))
    escalation = await open_non_safety(scope, clock)
    quiet = await add_quiet_terms(scope, escalation, clock, 3)
    await deadline_service.refresh_next_due(scope, escalation.id)
    assert (await scope.get(Escalation, escalation.id)).next_due_at == at(3, 5, 9, 0)
    clock.set(at(3, 5, 12))
    assert await missed_terms.claim_quiet_together(scope, await as_set(scope, quiet), missed_terms.Ladders(),
                                                   clock) == 3  # fmt: skip
    still_open = await scope.select(Deadline, Deadline.due_at).where(
        (Deadline.escalation == escalation.id) & (Deadline.status == "open") & Deadline.due_at.is_not_null()
    )  # fmt: skip
    expected = min((row["due_at"] for row in still_open), default=None)
    assert expected != at(3, 5, 9, 0) and (await scope.get(Escalation, escalation.id)).next_due_at == expected


async def test_two_workers_claiming_the_same_set_record_each_term_once(synced):
    scope = await zuid_limburg()
    clock = FrozenClock(at(3, 2, 9))
    escalation = await open_non_safety(scope, clock)
    quiet = await add_quiet_terms(scope, escalation, clock, 5)
    clock.set(at(3, 20, 12))
    terms = await as_set(scope, quiet)
    claimed = await asyncio.gather(
        *(missed_terms.claim_quiet_together(scope, terms, missed_terms.Ladders(), clock, worker=f"w{n}")
          for n in range(2))
    )  # fmt: skip
    assert sorted(claimed) == [0, 5] or sum(claimed) == 5
    kinds = [row["kind"] for row in await scope.select(TimelineEvent, TimelineEvent.kind).where(
        TimelineEvent.escalation == escalation.id)]  # fmt: skip
    assert kinds.count("termijn_verlopen") == 5
