"""The engine's rules: refusals in Dutch, roles, idempotent double submits, ladder versions kept for life, the
append-only timeline, notes and messages, deadline lifecycle edge cases and exactly-once missed terms."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from apps.audit.tables import AuditEntry
from apps.escalations import services
from apps.escalations.services import EscalationError
from apps.escalations.tables import Deadline, Escalation, TimelineEvent
from apps.ladders.schema import LadderSpec
from apps.ladders.services import publish, spec_of
from apps.ladders.tables import Ladder, LadderVersion
from apps.notifications.tables import Notification
from core.actor import SYSTEM, Actor
from core.transactions import write_transaction
from tests.escalations.conftest import at, deadlines, due_day, events, kinds, last_sequence
from tests.letter_fields import STEP_FIELDS, opening


async def _open(scope, provider, actor, clock, ladder="kwaliteit", category="niet_veiligheid", **kwargs):
    return await services.open_escalation(
        scope, provider=provider, ladder_key=ladder, category=category, summary="Signaal.",
        motivation=kwargs.pop("motivation", "Raakt de DVO."), actor=actor, clock=clock, **kwargs,
        letter_fields=opening(category),
    )  # fmt: skip


# --- refusals -------------------------------------------------------------------------------------------------


async def test_illegal_transitions_are_refused_with_both_steps_and_the_allowed_ones(zl, provider, medewerker, clock):
    escalation = await _open(zl, provider, medewerker, clock)
    before = await last_sequence(zl, escalation.id)
    with pytest.raises(EscalationError) as refused:
        await services.transition(zl, escalation.id, "instroomstop", actor=medewerker, motivation="Nu.", clock=clock,
            letter_fields=STEP_FIELDS["instroomstop"])
    assert str(refused.value) == (
        "Van 'Aanbieder vragen om een plan van aanpak (mail of kwartaalgesprek)' kan niet naar "
        "'Instroomstop, op te volgen door alle gemeenten'. Toegestaan vanuit deze stap: "
        "'Team inkoop monitort het plan van aanpak', 'Officiële brief: plan van aanpak opleveren binnen twee weken'."
    )
    with pytest.raises(EscalationError, match="kent de stap 'bestaat_niet' niet"):
        await services.transition(zl, escalation.id, "bestaat_niet", actor=medewerker, motivation="x", clock=clock)
    with pytest.raises(EscalationError, match="^Geef een motivering: elk besluit wordt met motivering vastgelegd.$"):
        await services.transition(zl, escalation.id, "monitoren_plan", actor=medewerker, motivation="  ", clock=clock)
    with pytest.raises(EscalationError, match="^Deze escalatie bestaat niet.$"):
        await services.transition(zl, "0c6b1d9e-0000-4000-8000-000000000000", "monitoren_plan", actor=medewerker,
                                  motivation="x", clock=clock)  # fmt: skip
    assert await last_sequence(zl, escalation.id) == before  # refusals write nothing
    assert (await zl.get(Escalation, escalation.id)).current_step == "verzoek_plan_van_aanpak"


async def test_only_the_purchasing_team_decides(zl, provider, medewerker, waarnemer, provider_user, clock):
    with pytest.raises(EscalationError, match="^Alleen het team inkoop mag een escalatie openen.$"):
        await _open(zl, provider, waarnemer, clock)
    escalation = await _open(zl, provider, medewerker, clock)
    for actor in (waarnemer, provider_user, Actor(label="Niemand")):
        with pytest.raises(EscalationError, match="^Alleen het team inkoop mag een stap zetten in een escalatie.$"):
            await services.transition(zl, escalation.id, "monitoren_plan", actor=actor, motivation="x", clock=clock)
        with pytest.raises(EscalationError, match="Alleen het team inkoop mag een escalatie afsluiten"):
            await services.close_escalation(zl, escalation.id, actor=actor, outcome="x", motivation="x", clock=clock)
    plan = (await deadlines(zl, escalation.id))["plan_binnen"]
    with pytest.raises(EscalationError, match="Alleen het team inkoop mag een termijn opschorten"):
        await services.suspend_deadline(zl, plan.id, actor=provider_user, reason="x", clock=clock)
    # The system actor (workers, CLI) may decide.
    result = await services.transition(zl, escalation.id, "monitoren_plan", actor=SYSTEM, motivation="Test.",
                                       clock=clock)  # fmt: skip
    assert result.event.actor_label == "Systeem" and result.event.actor is None


async def test_opening_is_refused_with_dutch_reasons(zl, provider, medewerker, clock):
    with pytest.raises(EscalationError, match="^Deze regio heeft geen ladder 'toewijzing'.$"):
        await _open(zl, provider, medewerker, clock, ladder="toewijzing", category="geschil")
    with pytest.raises(EscalationError, match="kent de categorie 'geschil' niet"):
        await _open(zl, provider, medewerker, clock, category="geschil")
    with pytest.raises(EscalationError, match="kent 'vog_werknemers' niet"):
        await _open(zl, provider, medewerker, clock, subcategory="vog_werknemers")
    with pytest.raises(EscalationError, match="Geef een motivering"):
        await _open(zl, provider, medewerker, clock, motivation="")
    assert await zl.count(Escalation) == 0


async def test_closing_by_hand_needs_outcome_and_motivation_and_cancels_running_terms(zl, provider, medewerker, clock):
    escalation = await _open(zl, provider, medewerker, clock)
    with pytest.raises(EscalationError, match="Geef de uitkomst"):
        await services.close_escalation(zl, escalation.id, actor=medewerker, outcome="", motivation="x", clock=clock)
    with pytest.raises(EscalationError, match="Geef een motivering"):
        await services.close_escalation(zl, escalation.id, actor=medewerker, outcome="ingetrokken", motivation="",
                                        clock=clock)  # fmt: skip
    closed = await services.close_escalation(zl, escalation.id, actor=medewerker, outcome="ingetrokken",
                                             motivation="Signaal bleek onjuist.", clock=clock)  # fmt: skip
    assert (closed.status, closed.outcome, closed.current_step) == ("closed", "ingetrokken", "verzoek_plan_van_aanpak")
    assert (await deadlines(zl, escalation.id))["plan_binnen"].status == "cancelled"
    last = (await events(zl, escalation.id))[-1]
    assert last.kind == "escalatie_gesloten" and last.payload["termijnen_vervallen"] == ["plan_binnen"]
    with pytest.raises(EscalationError, match="is al afgesloten"):
        await services.close_escalation(zl, escalation.id, actor=medewerker, outcome="x", motivation="x", clock=clock)
    plan = (await deadlines(zl, escalation.id))["plan_binnen"]
    with pytest.raises(EscalationError, match="is afgesloten; termijnen lopen niet meer"):
        await services.suspend_deadline(zl, plan.id, actor=medewerker, reason="x", clock=clock)
    audit = await AuditEntry.select(AuditEntry.action, AuditEntry.actor_label, AuditEntry.detail).where(
        AuditEntry.action == "escalation.close").output(load_json=True)  # fmt: skip
    assert audit == [{"action": "escalation.close", "actor_label": "Mira Medewerker", "detail": {
        "referentie": "ZL-2026-0001", "uitkomst": "ingetrokken", "motivering": "Signaal bleek onjuist."}}]  # fmt: skip


# --- double submits -------------------------------------------------------------------------------------------


async def test_a_double_submit_with_the_same_key_is_a_no_op_returning_the_same_result(zl, provider, medewerker, clock):
    escalation = await _open(zl, provider, medewerker, clock)
    kwargs = dict(actor=medewerker, motivation="Plan blijft uit.", clock=clock, idempotency_key="form-7f3a")
    first = await services.transition(zl, escalation.id, "officiele_brief", **kwargs,
        letter_fields=STEP_FIELDS["officiele_brief"])
    mark, outbox = await last_sequence(zl, escalation.id), await zl.count(Notification)
    again = await services.transition(zl, escalation.id, "officiele_brief", **kwargs,
        letter_fields=STEP_FIELDS["officiele_brief"])
    assert again.replayed and not first.replayed
    assert again.event.id == first.event.id and again.escalation.current_step == "officiele_brief"
    assert await last_sequence(zl, escalation.id) == mark and await zl.count(Notification) == outbox
    assert first.event.idempotency_key and "form-7f3a" not in first.event.idempotency_key  # bound to region+case
    with pytest.raises(EscalationError, match="al verwerkt voor een andere stap"):
        await services.transition(zl, escalation.id, "monitoren_plan", **kwargs)
    # The same key on another escalation is another request.
    other = await _open(zl, provider, medewerker, clock)
    assert not (await services.transition(zl, other.id, "officiele_brief", **kwargs,
        letter_fields=STEP_FIELDS["officiele_brief"])).replayed


async def test_concurrent_double_submits_move_once(zl, provider, medewerker, clock):
    """Two submits at once (a double click): on PostgreSQL the row lock, on SQLite the write lock taken up front
    (BEGIN IMMEDIATE) makes the second wait and then find the first one's result."""
    escalation = await _open(zl, provider, medewerker, clock)

    async def submit():
        return await services.transition(zl, escalation.id, "officiele_brief", actor=medewerker, motivation="Dubbel.",
                                         clock=clock, idempotency_key="double-click",
                                         letter_fields=STEP_FIELDS["officiele_brief"])  # fmt: skip

    results = await asyncio.gather(submit(), submit())
    assert sorted(r.replayed for r in results) == [False, True]
    assert len({r.event.id for r in results}) == 1
    assert (await kinds(zl, escalation.id)).count("stap_gewijzigd") == 1


# --- ladder versions ------------------------------------------------------------------------------------------


async def test_a_ladder_edit_leaves_running_escalations_on_their_version(zl, provider, medewerker, clock):
    running = await _open(zl, provider, medewerker, clock)
    ladder = await zl.objects(Ladder).where(Ladder.key == "kwaliteit").first()
    v1 = await zl.objects(LadderVersion).where(LadderVersion.ladder == ladder.id).first()
    # Version 2 drops the official letter: no second term, the plan term is 3 weeks and only suggests monitoring.
    definition = spec_of(v1).model_dump(mode="json")
    definition["steps"] = [s for s in definition["steps"] if s["key"] != "officiele_brief"]
    start = next(s for s in definition["steps"] if s["key"] == "verzoek_plan_van_aanpak")
    start["next"] = ["monitoren_plan"]
    start["terms"][0]["term"] = "3 weken"
    start["terms"][0]["on_missed"] = [{"action": "suggest_step", "step": "monitoren_plan"}]
    published = await publish(zl, LadderSpec.model_validate(definition), note="test: zonder officiële brief",
                              clock=clock)  # fmt: skip
    assert published.version == 2 and published.created

    newer = await _open(zl, provider, medewerker, clock)
    assert (await events(zl, newer.id))[0].payload["versie"] == 2
    assert due_day((await deadlines(zl, newer.id))["plan_binnen"]) == date(2026, 3, 23)  # 3 weken
    with pytest.raises(EscalationError, match=r"\(versie 2\) kent de stap 'officiele_brief' niet"):
        await services.transition(zl, newer.id, "officiele_brief", actor=medewerker, motivation="x", clock=clock,
            letter_fields=STEP_FIELDS["officiele_brief"])

    # The running escalation keeps version 1: its plan term is still 2 weeks and its missed term still proposes
    # the official letter, a step version 2 no longer has; a person takes it.
    assert (await zl.get(Escalation, running.id)).ladder_version == v1.id
    plan = (await deadlines(zl, running.id))["plan_binnen"]
    assert due_day(plan) == date(2026, 3, 16)
    clock.set(at(2026, 3, 17))
    assert await services.act_on_missed_deadline(zl, plan.id, clock)
    assert (await events(zl, running.id))[-1].payload["stap"] == "officiele_brief"
    await services.transition(zl, running.id, "officiele_brief", actor=medewerker, motivation="Brief.", clock=clock,
        letter_fields=STEP_FIELDS["officiele_brief"])
    assert "plan_binnen_na_brief" in await deadlines(zl, running.id)
    result = await services.transition(zl, running.id, "formeel_gesprek", actor=medewerker,
                                       motivation="Ook na de brief geen plan.", clock=clock,
                                       letter_fields=STEP_FIELDS["formeel_gesprek"])  # fmt: skip
    assert result.escalation.ladder_version == v1.id


# --- the timeline ---------------------------------------------------------------------------------------------


async def test_timeline_is_append_only_newest_first_and_hides_internal_events(
    scopes, zl, provider, medewerker, provider_user, clock
):
    escalation = await _open(zl, provider, medewerker, clock)
    snapshot = [(e.id, e.sequence, e.kind, e.payload, e.occurred_at) for e in await events(zl, escalation.id)]

    clock.advance(hours=1)
    note = await services.add_note(zl, escalation.id, actor=medewerker, text="Aanbieder belde: plan volgt.",
                                   clock=clock)  # fmt: skip
    assert note.visibility == "internal" and note.payload == {"tekst": "Aanbieder belde: plan volgt."}
    message = await services.post_message(zl, escalation.id, actor=provider_user, text="Plan volgt vrijdag.",
                                          clock=clock)  # fmt: skip
    assert message.visibility == "shared" and message.payload == {"van": "aanbieder", "tekst": "Plan volgt vrijdag."}
    reply = await services.post_message(zl, escalation.id, actor=medewerker, text="Prima.", clock=clock)
    assert reply.payload["van"] == "regio" and reply.actor_label == "Mira Medewerker"
    clock.set(at(2026, 3, 17))
    await services.act_on_missed_deadline(zl, (await deadlines(zl, escalation.id))["plan_binnen"].id, clock)

    everything = await events(zl, escalation.id)
    assert [e.sequence for e in everything] == list(range(1, len(everything) + 1))
    assert all(a.occurred_at <= b.occurred_at for a, b in zip(everything, everything[1:], strict=False))
    assert [(e.id, e.sequence, e.kind, e.payload, e.occurred_at) for e in everything[: len(snapshot)]] == snapshot

    newest = await services.timeline(zl, escalation.id, include_internal=True, limit=4)
    assert [e.sequence for e in newest] == [len(everything) - i for i in range(4)]
    paged, before = [], None
    while page := await services.timeline(zl, escalation.id, include_internal=True, before_sequence=before, limit=3):
        paged.extend(page)
        before = page[-1].sequence
    assert [e.sequence for e in paged] == list(range(len(everything), 0, -1))

    shared = await services.timeline(zl, escalation.id, include_internal=False, limit=200)
    assert "notitie" not in {e.kind for e in shared} and {e.visibility for e in shared} == {"shared"}
    assert len(shared) == len([e for e in everything if e.visibility == "shared"])
    assert {"notitie"} <= {e.kind for e in everything if e.visibility == "internal"}

    # Another region's scope sees nothing of it, and the services offer no way to change or remove events.
    assert await services.timeline(scopes["lekstroom"], escalation.id, include_internal=True) == []
    assert not [name for name in dir(services) if any(w in name for w in ("update", "delete", "edit", "remove"))]


async def test_notes_and_messages_are_refused_to_the_wrong_people(scopes, zl, provider, medewerker, waarnemer, clock):
    from apps.providers.tables import Provider
    from tests.escalations.conftest import _person

    escalation = await _open(zl, provider, medewerker, clock)
    other = Provider(kvk_number="90000043", name="Andere Zorg B.V.")
    await other.save()
    stranger = await _person("Sam Vreemd", "aanbieder_medewerker", provider_id=other.id)
    with pytest.raises(EscalationError, match="U mag geen berichten plaatsen bij deze escalatie."):
        await services.post_message(zl, escalation.id, actor=stranger, text="Hallo", clock=clock)
    with pytest.raises(EscalationError, match="U mag geen berichten plaatsen"):
        await services.post_message(zl, escalation.id, actor=waarnemer, text="Hallo", clock=clock)
    with pytest.raises(EscalationError, match="Alleen het team inkoop mag interne notities maken"):
        await services.add_note(zl, escalation.id, actor=stranger, text="x", clock=clock)
    with pytest.raises(EscalationError, match="Een bericht mag niet leeg zijn."):
        await services.post_message(zl, escalation.id, actor=medewerker, text="   ", clock=clock)
    with pytest.raises(EscalationError, match="Deze escalatie bestaat niet"):
        await services.add_note(scopes["lekstroom"], escalation.id, actor=medewerker, text="x", clock=clock)


# --- deadlines ------------------------------------------------------------------------------------------------


async def test_suspension_rules_and_a_term_suspended_on_its_last_day(zl, provider, medewerker, waarnemer, clock):
    escalation = await _open(zl, provider, medewerker, clock)
    plan = (await deadlines(zl, escalation.id))["plan_binnen"]
    with pytest.raises(EscalationError, match="Geef een reden voor de opschorting"):
        await services.suspend_deadline(zl, plan.id, actor=medewerker, reason="", clock=clock)
    with pytest.raises(EscalationError, match="Alleen het team inkoop"):
        await services.suspend_deadline(zl, plan.id, actor=waarnemer, reason="x", clock=clock)
    with pytest.raises(EscalationError, match="Deze termijn is niet opgeschort"):
        await services.resume_deadline(zl, plan.id, actor=medewerker, clock=clock)

    clock.set(at(2026, 3, 16, 15))  # the last day of the term
    plan = await services.suspend_deadline(zl, plan.id, actor=medewerker, reason="Wacht op accountant.", clock=clock)
    assert (await events(zl, escalation.id))[-1].payload["resterend"] == "0 dagen"
    with pytest.raises(EscalationError, match="al opgeschort"):
        await services.suspend_deadline(zl, plan.id, actor=medewerker, reason="x", clock=clock)
    clock.set(at(2026, 3, 21, 12))  # resumed on Saturday 21 March: it ends on Monday 23 March
    plan = await services.resume_deadline(zl, plan.id, actor=medewerker, motivation="Accountant klaar.", clock=clock)
    assert due_day(plan) == date(2026, 3, 23)
    assert plan.reasons == [
        "opgeschort van 16 maart 2026 tot 21 maart 2026",
        "verschoven: zaterdag (21 maart 2026)",
        "verschoven: zondag (22 maart 2026)",
    ]
    clock.set(at(2026, 3, 24))
    with pytest.raises(EscalationError, match="al verstreken"):
        await services.suspend_deadline(zl, plan.id, actor=medewerker, reason="Te laat.", clock=clock)
    assert await services.act_on_missed_deadline(zl, plan.id, clock)
    with pytest.raises(EscalationError, match="status 'verlopen' kan niet worden verlengd"):
        await services.extend_deadline(zl, plan.id, actor=medewerker, days=3, reason="x", clock=clock)
    actions = {e["action"] for e in await AuditEntry.select(AuditEntry.action)}
    assert {"deadline.suspend", "deadline.resume", "deadline.missed"} <= actions


async def test_an_hours_term_keeps_its_exact_remaining_time(scopes, provider, medewerker, clock):
    lek = scopes["lekstroom"]
    escalation = await _open(lek, provider, medewerker, clock, category="crisishulp")
    term = (await deadlines(lek, escalation.id))["alternatief_binnen"]
    clock.advance(hours=6)
    await services.suspend_deadline(lek, term.id, actor=medewerker, reason="Wacht op GI.", clock=clock)
    assert (await events(lek, escalation.id))[-1].payload["resterend"] == "18 uur"
    clock.advance(days=2, minutes=30)
    term = await services.resume_deadline(lek, term.id, actor=medewerker, clock=clock)
    assert term.due_at == clock.now() + timedelta(hours=18)
    # A suspended deadline of a step that is left ends with the step.
    await services.suspend_deadline(lek, term.id, actor=medewerker, reason="Weer wachten.", clock=clock)
    result = await services.transition(lek, escalation.id, "crisis_opgevangen", actor=medewerker,
                                       motivation="Opgevangen.", clock=clock)  # fmt: skip
    assert result.event.payload["termijnen_gehaald"] == ["alternatief_binnen"]  # met_by step:crisis_opgevangen
    assert (await deadlines(lek, escalation.id))["alternatief_binnen"].status == "met"


async def test_missed_deadlines_are_claimed_exactly_once_across_regions(scopes, zl, provider, medewerker, clock):
    lek = scopes["lekstroom"]
    first = await _open(zl, provider, medewerker, clock)  # due 16 March
    clock.advance(days=1)
    second = await _open(lek, provider, medewerker, clock, category="kwaliteit")  # due 17 March
    clock.set(at(2026, 3, 18))
    due = await services.due_deadlines(clock)
    assert [(d.region_id, d.deadline_id) for d in due] == [
        (zl.region_id, (await deadlines(zl, first.id))["plan_binnen"].id),
        (lek.region_id, (await deadlines(lek, second.id))["overleg_binnen"].id),
    ]
    # Two workers race for the same deadline: one acts, the other finds it claimed.
    target = due[0].deadline_id
    claims = await asyncio.gather(
        services.act_on_missed_deadline(zl, target, clock, worker="w1"),
        services.act_on_missed_deadline(zl, target, clock, worker="w2"),
    )
    assert sorted(claims) == [False, True]
    assert (await kinds(zl, first.id)).count("termijn_verlopen") == 1
    assert await services.act_on_missed_deadline(lek, target, clock) is False  # another region's scope: not found
    assert [d.deadline_id for d in await services.due_deadlines(clock)] == [due[1].deadline_id]


async def test_a_caller_may_group_service_calls_in_one_transaction(zl, provider, medewerker, clock):
    """Services nest inside a caller's write transaction (the demo data does this); a refusal rolls back all."""
    with pytest.raises(EscalationError):
        async with write_transaction():
            escalation = await _open(zl, provider, medewerker, clock)
            await services.transition(zl, escalation.id, "instroomstop", actor=medewerker, motivation="x", clock=clock,
                letter_fields=STEP_FIELDS["instroomstop"])
    assert await zl.count(Escalation) == 0 and await zl.count(TimelineEvent) == 0 and await zl.count(Deadline) == 0


async def test_roles_without_a_mailbox_are_recorded_and_looping_automatic_moves_are_refused(
    zl, provider, medewerker, clock
):
    spec = LadderSpec.model_validate(
        {
            "key": "lus",
            "name": "Testladder met een lus",
            "categories": [{"key": "test", "title": "Test", "start_step": "start"}],
            "steps": [
                {"key": "start", "title": "Start", "next": ["lus_a", "einde"],
                 "on_enter": [{"action": "notify", "roles": ["zi2t", "inkoop"], "message": "Gestart."}]},
                {"key": "lus_a", "title": "Lus A", "next": ["einde"], "automatic": True,
                 "on_enter": [{"action": "move_to_step", "step": "lus_b"}]},
                {"key": "lus_b", "title": "Lus B", "next": ["einde"], "automatic": True,
                 "on_enter": [{"action": "move_to_step", "step": "lus_a"}]},
                {"key": "einde", "title": "Einde", "final": True, "outcome": "klaar"},
            ],
        }
    )  # fmt: skip
    await publish(zl, spec, clock=clock)
    escalation = await _open(zl, provider, medewerker, clock, ladder="lus", category="test")
    notice = (await events(zl, escalation.id))[-1]
    assert notice.payload["geen_ontvanger"] == ["zi2t"]  # Zuid-Limburg has no Zi2T mailbox
    assert [r["adres"] for r in notice.payload["ontvangers"]] == ["inkoop@zuid-limburg.example"]
    mark = await last_sequence(zl, escalation.id)
    with pytest.raises(EscalationError, match="te veel stappen automatisch"):
        await services.transition(zl, escalation.id, "lus_a", actor=medewerker, motivation="Probeer.", clock=clock)
    assert await last_sequence(zl, escalation.id) == mark
    assert (await zl.get(Escalation, escalation.id)).current_step == "start"


async def test_two_escalations_opened_at_once_get_their_own_numbers(zl, provider, medewerker, clock):
    first, second = await asyncio.gather(_open(zl, provider, medewerker, clock), _open(zl, provider, medewerker, clock))
    assert {first.reference, second.reference} == {"ZL-2026-0001", "ZL-2026-0002"}


async def _next_due(scope, escalation_id):
    row = await scope.select(Escalation, Escalation.next_due_at).where(Escalation.id == escalation_id).first()
    return row["next_due_at"]


async def _earliest_open(scope, escalation_id):
    running = [d.due_at for d in (await deadlines(scope, escalation_id)).values() if d.status == "open"]
    return min(running) if running else None


async def test_the_next_deadline_on_the_escalation_follows_every_change_of_its_deadlines(
    scopes, provider, medewerker, clock
):
    """The lists sort on escalation.next_due_at: made, suspended, resumed, extended, missed, met by a step and
    ended by closing, it is always the earliest open deadline (None when none runs)."""
    lek = scopes["lekstroom"]
    escalation = await _open(lek, provider, medewerker, clock, category="crisishulp")
    term = (await deadlines(lek, escalation.id))["alternatief_binnen"]
    assert await _next_due(lek, escalation.id) == term.due_at == await _earliest_open(lek, escalation.id)
    await services.suspend_deadline(lek, term.id, actor=medewerker, reason="Wacht op GI.", clock=clock)
    assert await _next_due(lek, escalation.id) == await _earliest_open(lek, escalation.id)  # suspended: not running
    clock.advance(hours=30)
    term = await services.resume_deadline(lek, term.id, actor=medewerker, clock=clock)
    assert await _next_due(lek, escalation.id) == await _earliest_open(lek, escalation.id)
    term = await services.extend_deadline(lek, term.id, actor=medewerker, days=3, reason="Ruimte.", clock=clock)
    assert await _next_due(lek, escalation.id) == await _earliest_open(lek, escalation.id) <= term.due_at
    await services.transition(lek, escalation.id, "crisis_opgevangen", actor=medewerker, motivation="Opgevangen.",
                              clock=clock)  # fmt: skip
    assert await _next_due(lek, escalation.id) == await _earliest_open(lek, escalation.id)

    zl = scopes["zuid-limburg"]
    other = await _open(zl, provider, medewerker, clock)
    plan = (await deadlines(zl, other.id))["plan_binnen"]
    clock.set(plan.due_at + timedelta(days=1))
    assert await services.act_on_missed_deadline(zl, plan.id, clock)
    assert await _next_due(zl, other.id) == await _earliest_open(zl, other.id)
    await services.close_escalation(zl, other.id, actor=medewerker, outcome="ingetrokken", motivation="Klaar.",
                                    clock=clock)  # fmt: skip
    assert await _next_due(zl, other.id) is None
