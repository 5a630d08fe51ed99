"""The VNG continuity ladder (seed 004): three weeks, account-holding region, OZJ, Jeugdautoriteit; and a
fixed date in the past (1 April 2021, one round of agreements)."""

from __future__ import annotations

from datetime import date

from apps.escalations import services
from apps.escalations.tables import Deadline
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


async def _open(scope, provider, actor, clock, category="continuiteit", subcategory="meerkosten"):
    return await services.open_escalation(
        scope, provider=provider, ladder_key="continuiteit", category=category, subcategory=subcategory,
        summary="Geen overeenstemming over meerkosten.", motivation="Eerste contactmoment op 2 maart.",
        actor=actor, clock=clock, letter_fields=opening(category)
    )  # fmt: skip


async def test_continuity_ladder_up_to_the_jeugdautoriteit(zl, provider, medewerker, clock):
    escalation = await _open(zl, provider, medewerker, clock)
    terms = await deadlines(zl, escalation.id)
    assert list(terms) == ["escalatie_mogelijk"]  # "1 april 2021" lies in the past: no deadline made
    assert due_day(terms["escalatie_mogelijk"]) == date(2026, 3, 23)
    opened = (await events(zl, escalation.id))[0]
    assert opened.payload["overgeslagen_termijnen"] == [
        {
            "termijn": "streefdatum_2020",
            "titel": "Streefdatum overeenstemming continuïteitsbijdrage en meerkosten 2020 (alleen afspraakronde 2020)",
            "reden": "de vaste datum 1 april 2021 ligt vóór het begin van deze stap",
        }
    ]

    clock.set(at(2026, 3, 24, 3))
    mark = await last_sequence(zl, escalation.id)
    assert await services.act_on_missed_deadline(zl, terms["escalatie_mogelijk"].id, clock)
    assert await kinds(zl, escalation.id, mark) == MISSED_NOTIFY_SUGGEST
    notice = (await events(zl, escalation.id))[-2]
    assert sorted(n.recipient for n in await notices(zl, notice.id)) == [
        "inkoop@zuid-limburg.example", f"provider:{provider.id}",
    ]  # fmt: skip

    for step, mailbox in [
        ("accounthoudende_regio", "accounthouder@zuid-limburg.example"),
        ("ozj", "ozj@zuid-limburg.example"),
        ("jeugdautoriteit", "jeugdautoriteit@zuid-limburg.example"),
    ]:
        await services.transition(zl, escalation.id, step, actor=medewerker, motivation=f"Opschalen: {step}.",
                                  clock=clock)  # fmt: skip
        assert [n.recipient for n in await notices(zl, (await events(zl, escalation.id))[-1].id)] == [mailbox]
    result = await services.transition(zl, escalation.id, "bestuurlijke_maatregelen", actor=medewerker,
                                       motivation="Jeugdautoriteit bereidt maatregelen voor.", clock=clock)  # fmt: skip
    assert result.escalation.status == "closed" and result.escalation.outcome == "bestuurlijke_maatregelen"


async def test_agreement_within_three_weeks_meets_the_term(zl, provider, medewerker, clock):
    escalation = await _open(zl, provider, medewerker, clock)
    clock.advance(days=5)
    result = await services.transition(zl, escalation.id, "overeenstemming", actor=medewerker,
                                       motivation="Continuïteitsbijdrage afgesproken.", clock=clock,
                                       letter_fields=STEP_FIELDS["overeenstemming"])  # fmt: skip
    assert result.event.payload["termijnen_gehaald"] == ["escalatie_mogelijk"]
    assert await kinds(zl, escalation.id) == ["escalatie_geopend", "stap_gewijzigd", "brief_verstuurd",
                                              "escalatie_gesloten"]  # fmt: skip
    assert result.escalation.outcome == "overeenstemming"
    assert await zl.count(Deadline).where(Deadline.status == "open") == 0


async def test_wmo_and_non_crucial_care_without_a_formal_ladder(zl, provider, medewerker, clock):
    escalation = await _open(zl, provider, medewerker, clock, "niet_cruciaal", "")
    assert escalation.current_step == "regio_adviseur"
    result = await services.transition(zl, escalation.id, "geen_overeenstemming", actor=medewerker,
                                       motivation="Regio-adviseur kon niet bemiddelen.", clock=clock)  # fmt: skip
    assert result.escalation.outcome == "geen_overeenstemming"
