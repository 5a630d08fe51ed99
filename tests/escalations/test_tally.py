"""The region's tally of escalations (``escalation_tally``, kept by database triggers) agrees with a full count of
the escalations after every kind of change: opening, a step, closing by the ladder and by hand, reopening, a change
of category, a deletion; the home page's and overview's counts read it (issue 20)."""

from __future__ import annotations

from collections import Counter

from apps.escalations import services
from apps.escalations.tables import Escalation, EscalationTally
from apps.escalations.tally import region_tally
from apps.tenancy.tables import Region
from core.tenancy import RegionScope
from tests.letter_fields import STEP_FIELDS


async def full_counts() -> Counter:
    """Every region's escalations counted the slow way: what the tally must say."""
    counted: Counter = Counter()
    for region in await Region.select(Region.id):
        scope = RegionScope(region["id"])
        for row in await scope.select(Escalation, Escalation.ladder_version, Escalation.current_step,
                                      Escalation.category, Escalation.subcategory, Escalation.status):  # fmt: skip
            counted[(str(region["id"]), str(row["ladder_version"]), row["current_step"], row["category"],
                     row["subcategory"], row["status"])] += 1  # fmt: skip
    return counted


async def tallied() -> Counter:
    counted: Counter = Counter()
    for region in await Region.select(Region.id):
        for row in await RegionScope(region["id"]).select(EscalationTally, EscalationTally.ladder_version,
                                                          EscalationTally.current_step, EscalationTally.category,
                                                          EscalationTally.subcategory, EscalationTally.status,
                                                          EscalationTally.escalations):  # fmt: skip
            if row["escalations"]:
                counted[(str(region["id"]), str(row["ladder_version"]), row["current_step"], row["category"],
                         row["subcategory"], row["status"])] += row["escalations"]  # fmt: skip
    return counted


async def _open(scope, provider, actor, clock, subcategory="meerkosten"):
    return await services.open_escalation(
        scope, provider=provider, ladder_key="continuiteit", category="continuiteit", subcategory=subcategory,
        summary="Geen overeenstemming over meerkosten.", motivation="Eerste contactmoment.", actor=actor, clock=clock,
    )  # fmt: skip


async def test_the_tally_agrees_with_a_full_count_after_every_kind_of_change(zl, provider, medewerker, clock):
    first = await _open(zl, provider, medewerker, clock)
    second = await _open(zl, provider, medewerker, clock)
    third = await _open(zl, provider, medewerker, clock)
    assert await tallied() == await full_counts() and (await region_tally(zl)).open_total() == 3

    await services.transition(zl, first.id, "accounthoudende_regio", actor=medewerker, motivation="Opschalen.",
                              clock=clock)  # fmt: skip
    assert await tallied() == await full_counts()
    result = await services.transition(zl, second.id, "overeenstemming", actor=medewerker,
                                       motivation="Afgesproken.", clock=clock,
                                       letter_fields=STEP_FIELDS["overeenstemming"])  # fmt: skip
    assert result.escalation.status == "closed"  # a final step closes it
    await services.close_escalation(zl, third.id, actor=medewerker, outcome="ingetrokken", motivation="Opgelost.")
    assert await tallied() == await full_counts() and (await region_tally(zl)).open_total() == 1

    # reopened (a correction in the database), another discussion point, removed: the same writes as any other
    reopen = {Escalation.status: "open", Escalation.closed_at: None}
    await zl.update(Escalation, reopen).where(Escalation.id == third.id)
    await zl.update(Escalation, {Escalation.subcategory: "continuiteitsbijdrage"}).where(Escalation.id == first.id)
    await zl.update(Escalation, {Escalation.summary: "Alleen de tekst."}).where(Escalation.id == first.id)
    assert await tallied() == await full_counts() and (await region_tally(zl)).open_total() == 2
    await zl.delete(Escalation).where(Escalation.id == second.id)
    assert await tallied() == await full_counts()
    tally = await region_tally(zl)
    assert tally.open_total() == 2 and sum(row["escalations"] for row in tally.rows) == 2
