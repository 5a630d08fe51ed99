"""Lekstroom's quality article (seed 003): consult within 2 weeks, improvement within 2 months, crisis care
within 24 hours."""

from __future__ import annotations

from datetime import date, timedelta

from apps.escalations import services
from apps.escalations.tables import Escalation, StepProposal
from tests.escalations.conftest import (
    MISSED_NOTIFY_SUGGEST,
    at,
    deadlines,
    due_day,
    events,
    kinds,
    last_sequence,
    notices,
)
from tests.letter_fields import STEP_FIELDS, opening


async def _open(scope, provider, actor, clock, category, subcategory=""):
    return await services.open_escalation(
        scope, provider=provider, ladder_key="kwaliteit", category=category, subcategory=subcategory,
        summary="Kwaliteit niet conform artikel 28.", motivation="Inspectierapport ontvangen.", actor=actor,
        clock=clock, letter_fields=opening(category)
    )  # fmt: skip


async def test_quality_article_improvement_without_result_in_two_months(scopes, provider, medewerker, clock):
    lek = scopes["lekstroom"]
    escalation = await _open(lek, provider, medewerker, clock, "kwaliteit", "professionele_standaarden")
    assert await kinds(lek, escalation.id) == ["escalatie_geopend", "brief_verstuurd"]
    consult = (await deadlines(lek, escalation.id))["overleg_binnen"]
    assert due_day(consult) == date(2026, 3, 16)

    # Consulting within the term meets it: its met_by is reaching the improvement trajectory.
    clock.set(at(2026, 3, 10))
    result = await services.transition(lek, escalation.id, "verbetertraject", actor=medewerker,
                                       motivation="Verbetertraject afgesproken op 10 maart.", clock=clock,
                                       letter_fields=STEP_FIELDS["verbetertraject"])  # fmt: skip
    assert result.event.payload["termijnen_gehaald"] == ["overleg_binnen"]
    terms = await deadlines(lek, escalation.id)
    assert terms["overleg_binnen"].status == "met" and terms["overleg_binnen"].met_at == clock.now()
    # 2 maanden from Tuesday 10 March ends on Sunday 10 May 2026: moved to Monday 11 May.
    trajectory = terms["resultaat_verbetertraject"]
    assert due_day(trajectory) == date(2026, 5, 11)
    assert trajectory.reasons == ["verschoven: zondag (10 mei 2026)"]
    assert result.event.payload["nieuwe_termijnen"] == [
        {
            "termijn": "resultaat_verbetertraject",
            "titel": "Resultaat verbetertraject binnen 2 maanden",
            "termijn_tekst": "2 maanden",
            "vervaldatum": "2026-05-11",
            "redenen": ["verschoven: zondag (10 mei 2026)"],
        }
    ]
    demand = (await events(lek, escalation.id))[-1]
    assert demand.kind == "document_gevraagd" and demand.payload["document"] == "verbeterplan"
    assert demand.payload["vervaldatum"] is None  # the ladder names no term for this document

    clock.set(at(2026, 5, 12, 6))
    mark = await last_sequence(lek, escalation.id)
    assert await services.act_on_missed_deadline(lek, trajectory.id, clock)
    # "Wordt geacht": the ladder proposes the step, but its letter goes only once a person has seen it.
    assert await kinds(lek, escalation.id, mark) == ["termijn_verlopen", "volgende_stap_voorgesteld"]
    assert (await lek.get(Escalation, escalation.id)).current_step == "verbetertraject"
    [proposal] = await lek.objects(StepProposal).where(StepProposal.escalation == escalation.id)
    assert (proposal.step, proposal.status) == ("tekortkoming", "open")
    assert proposal.letter == "tekortkoming_deelovereenkomst"
    assert "Resultaat verbetertraject binnen 2 maanden" in proposal.reason
    mark = await last_sequence(lek, escalation.id)
    await services.transition(lek, escalation.id, "tekortkoming", actor=medewerker,
                              motivation="Geen resultaat binnen 2 maanden.", clock=clock,
                              letter_fields=STEP_FIELDS["tekortkoming"])  # fmt: skip
    assert await kinds(lek, escalation.id, mark) == ["stap_gewijzigd", "brief_verstuurd", "melding_verstuurd"]
    proposal = await lek.get(StepProposal, proposal.id)
    assert (proposal.status, proposal.resolved_by) == ("followed", "Mira Medewerker")
    result = await services.transition(lek, escalation.id, "maatregelen_artikel_10", actor=medewerker,
                                       motivation="Artikel 10 lid 3 toepassen.", clock=clock)  # fmt: skip
    assert result.escalation.status == "closed" and result.escalation.outcome == "tekortkoming"


async def test_crisis_care_alternative_within_24_hours(scopes, provider, medewerker, clock):
    lek = scopes["lekstroom"]
    escalation = await _open(lek, provider, medewerker, clock, "crisishulp")
    notice = (await events(lek, escalation.id))[-1]
    assert notice.kind == "melding_verstuurd" and notice.payload["rollen"] == ["toegang", "inkoop"]
    recipients = [n.recipient for n in await notices(lek, notice.id)]
    assert len(recipients) == 6 and "inkoop@lekstroom.example" in recipients  # 5 access teams + inkoop
    assert "toegang.vianen@lekstroom.example" not in recipients  # Vianen ended in 2019

    term = (await deadlines(lek, escalation.id))["alternatief_binnen"]
    assert term.due_at == clock.now() + timedelta(hours=24) and term.reasons == []  # hours are never moved
    clock.advance(hours=23, minutes=59)
    assert await services.due_deadlines(clock) == []
    assert await services.act_on_missed_deadline(lek, term.id, clock) is False  # not due yet: no claim
    clock.advance(minutes=1)
    assert await services.act_on_missed_deadline(lek, term.id, clock)
    mark = 2
    assert await kinds(lek, escalation.id, mark) == MISSED_NOTIFY_SUGGEST
    notice = (await events(lek, escalation.id))[-2]
    assert len(await notices(lek, notice.id)) == 7  # 5 access teams, inkoop and the provider

    result = await services.transition(lek, escalation.id, "overleg_verbetertraject", actor=medewerker,
                                       motivation="Geen alternatief gevonden.", clock=clock,
                                       letter_fields=STEP_FIELDS["overleg_verbetertraject"])  # fmt: skip
    assert result.escalation.current_step == "overleg_verbetertraject"
