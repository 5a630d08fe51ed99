"""The contract non-compliance ladder (seed 002): applied situationally (free order), measures combinable,
every decision motivated; here in Lekstroom (5 municipalities)."""

from __future__ import annotations

from datetime import date

import pytest

from apps.escalations import services, signals
from apps.escalations.context import load_context
from apps.escalations.letters import previews
from apps.escalations.preconditions import step_options
from apps.escalations.services import EscalationError
from apps.escalations.tables import Escalation
from apps.ladders.schema import LadderSpec
from apps.ladders.services import publish
from apps.providers.tables import Contract
from tests.escalations.conftest import (
    MISSED_NOTIFY_SUGGEST,
    at,
    deadlines,
    due_day,
    events,
    kinds,
    last_sequence,
    measures,
    notices,
)
from tests.letter_fields import LETTER_FIELDS, opening

LEKSTROOM_TODAY = {"GM0321", "GM0353", "GM0331", "GM0356", "GM1961"}  # Houten, IJsselstein, Lopik, Nieuwegein,
# Vijfheerenlanden (Vianen, GM0620, ended in 2019)


def of_kinds(found: list, *kinds: str) -> list:
    """The measures of these kinds, in this order: measures started at one frozen moment have no order of their own
    (PostgreSQL returns them as it finds them)."""
    return [next(m for m in found if m.kind == kind) for kind in kinds]


async def test_contract_ladder_end_to_end(scopes, provider, medewerker, lead, clock):
    lek = scopes["lekstroom"]
    move = services.transition
    escalation = await services.open_escalation(
        lek, provider=provider, ladder_key="contract", category="contract", subcategory="onrechtmatig_declareren",
        summary="Declaraties zonder geleverde zorg.", motivation="Data-analyse Q4 wijkt sterk af.", actor=medewerker,
        clock=clock,
    )  # fmt: skip
    assert escalation.reference == "L-2026-0001" and escalation.current_step == "analyse"
    await move(lek, escalation.id, "gesprek_verbeterplan", actor=medewerker, motivation="Toelichting nodig.",
               clock=clock)  # fmt: skip
    plan = (await deadlines(lek, escalation.id))["verbeterplan"]
    assert due_day(plan) == date(2026, 3, 30)  # 4 weken from Monday 2 March

    # Missed: the ladder tells the purchasing team (internal) and suggests the notice of default.
    clock.set(at(2026, 3, 31, 8))
    mark = await last_sequence(lek, escalation.id)
    assert await services.act_on_missed_deadline(lek, plan.id, clock)
    assert await kinds(lek, escalation.id, mark) == MISSED_NOTIFY_SUGGEST
    missed, notice, suggestion = (await events(lek, escalation.id))[mark:]
    assert missed.visibility == "shared"
    assert notice.visibility == "internal" and [n.recipient for n in await notices(lek, notice.id)] == [
        "inkoop@lekstroom.example"
    ]
    assert suggestion.visibility == "internal" and suggestion.payload["stap"] == "ingebrekestelling"
    assert (await lek.get(Escalation, escalation.id)).current_step == "gesprek_verbeterplan"  # only suggested

    # The improvement plan arrives a day late: accepted, recorded as late.
    clock.set(at(2026, 4, 1, 9))
    [met] = await services.meet_deadlines_for_document(lek, escalation.id, "verbeterplan", clock.now())
    assert met.id == plan.id and met.status == "met"
    assert (await events(lek, escalation.id))[-1].payload["te_laat"] is True

    await move(lek, escalation.id, "ingebrekestelling", actor=medewerker, motivation="Plan onvoldoende concreet.",
               clock=clock, letter_fields=LETTER_FIELDS["ingebrekestelling"])  # fmt: skip
    term = (await deadlines(lek, escalation.id))["herstel_na_ingebrekestelling"]
    assert due_day(term) == date(2026, 4, 29)  # 4 weken from Wednesday 1 April
    # The region sets the "redelijke termijn" at 6 weeks, counted from the same start.
    term = await services.extend_deadline(lek, term.id, actor=medewerker, new_term="6 weken",
                                          reason="Redelijke termijn vastgesteld op 6 weken", clock=clock)  # fmt: skip
    assert due_day(term) == date(2026, 5, 13) and term.term == "6 weken"
    assert term.reasons == ["verlengd: Redelijke termijn vastgesteld op 6 weken (van 29 april 2026 naar 13 mei 2026)"]
    term = await services.extend_deadline(lek, term.id, actor=medewerker, days=3, reason="Bestuurder ziek",
                                          clock=clock)  # fmt: skip
    assert due_day(term) == date(2026, 5, 18)
    assert term.reasons[1:] == [
        "verlengd: Bestuurder ziek (van 13 mei 2026 naar 18 mei 2026)",
        "verschoven: zaterdag (16 mei 2026)",
        "verschoven: zondag (17 mei 2026)",
    ]
    extended = (await events(lek, escalation.id))[-1]
    assert extended.kind == "termijn_verlengd" and extended.motivation == "Bestuurder ziek"
    assert extended.payload["oude_vervaldatum"] == "2026-05-13" and extended.payload["vervaldatum"] == "2026-05-18"
    with pytest.raises(EscalationError, match="eindigt niet later dan de huidige vervaldatum"):
        await services.extend_deadline(lek, term.id, actor=medewerker, new_term="2 weken", reason="x", clock=clock)
    with pytest.raises(EscalationError, match="Geef een reden voor de verlenging"):
        await services.extend_deadline(lek, term.id, actor=medewerker, days=2, reason=" ", clock=clock)
    with pytest.raises(EscalationError, match="nieuwe termijn óf een aantal dagen"):
        await services.extend_deadline(lek, term.id, actor=medewerker, days=2, new_term="8 weken", reason="x",
                                       clock=clock)  # fmt: skip
    with pytest.raises(EscalationError, match="'8 wekn' is geen termijn"):
        await services.extend_deadline(lek, term.id, actor=medewerker, new_term="8 wekn", reason="x", clock=clock)

    clock.set(at(2026, 5, 19, 7))
    assert [d.deadline_id for d in await services.due_deadlines(clock)] == [term.id]
    assert await services.act_on_missed_deadline(lek, term.id, clock)
    assert (await events(lek, escalation.id))[-1].payload["stap"] == "verzuim"  # suggested
    await move(lek, escalation.id, "verzuim", actor=medewerker, motivation="Gebreken niet verholpen.", clock=clock)

    # Measures 5a-5d, combinable and out of order; only a lead imposes them.
    await move(lek, escalation.id, "clientenstop", actor=lead, motivation="Proportioneel na verzuim.", clock=clock,
               letter_fields=LETTER_FIELDS["clientenstop"])  # fmt: skip
    await move(lek, escalation.id, "boete", actor=lead, motivation="Art. 20.2 Resultaatovereenkomst.", clock=clock,
               letter_fields=LETTER_FIELDS["boete"])  # fmt: skip
    stop, fine = of_kinds(await measures(lek, escalation.id), "clientenstop", "boete")
    assert set(stop.scope) == LEKSTROOM_TODAY and set(fine.scope) == LEKSTROOM_TODAY
    clock.advance(days=14)
    await move(lek, escalation.id, "clientenstop_opheffen", actor=lead, motivation="Wachtlijst opgelost.", clock=clock)
    stop, fine = of_kinds(await measures(lek, escalation.id), "clientenstop", "boete")
    assert stop.ended_at == clock.now() and fine.ended_at is None
    await move(lek, escalation.id, "clientenstop", actor=lead, motivation="Opnieuw wachtlijst.", clock=clock,
               letter_fields=LETTER_FIELDS["clientenstop"])  # fmt: skip
    assert len(await measures(lek, escalation.id)) == 3

    # A second active fine on the same escalation is refused, and the refused move leaves no trace.
    mark = await last_sequence(lek, escalation.id)
    with pytest.raises(EscalationError, match=r"geldt al een boete \(sinds 19 mei 2026\)"):
        await move(lek, escalation.id, "boete", actor=lead, motivation="Nog een boete.", clock=clock,
                   letter_fields=LETTER_FIELDS["boete"])  # fmt: skip
    assert await last_sequence(lek, escalation.id) == mark
    assert (await lek.get(Escalation, escalation.id)).current_step == "clientenstop"
    assert len(await measures(lek, escalation.id)) == 3

    result = await move(lek, escalation.id, "afgesloten", actor=medewerker, motivation="Verplichtingen nagekomen.",
                        clock=clock)  # fmt: skip
    assert result.escalation.status == "closed" and result.escalation.outcome == "nagekomen"
    closing = (await events(lek, escalation.id))[-1]
    assert closing.kind == "escalatie_gesloten"
    assert closing.payload["maatregelen_van_kracht"] == ["boete", "clientenstop"]  # ended only on purpose

    with pytest.raises(EscalationError, match="Alleen een teamleider inkoop"):
        await services.end_measure(lek, escalation.id, "boete", actor=medewerker, motivation="Betaald.", clock=clock)
    with pytest.raises(EscalationError, match="Geef een motivering"):
        await services.end_measure(lek, escalation.id, "boete", actor=lead, motivation="", clock=clock)
    ended = await services.end_measure(lek, escalation.id, "boete", actor=lead, motivation="Boete betaald.",
                                       clock=clock)  # fmt: skip
    assert ended.kind == "boete" and ended.end_motivation == "Boete betaald." and ended.ended_at == clock.now()
    lifted = (await events(lek, escalation.id))[-1]
    assert lifted.kind == "maatregel_beeindigd" and lifted.actor_label == "Lotte Leider"
    with pytest.raises(EscalationError, match="geldt geen boete om op te heffen"):
        await services.end_measure(lek, escalation.id, "boete", actor=lead, motivation="Nogmaals.", clock=clock)


async def test_free_order_still_never_leaves_a_final_step(scopes, provider, medewerker, clock):
    lek = scopes["lekstroom"]
    escalation = await services.open_escalation(
        lek, provider=provider, ladder_key="contract", category="contract", summary="x", motivation="y",
        actor=medewerker, clock=clock,
    )  # fmt: skip
    # Free order: straight from the analysis to a written warning, skipping the talk.
    result = await services.transition(lek, escalation.id, "schriftelijke_waarschuwing", actor=medewerker,
                                       motivation="Ernstige afwijking.", clock=clock,
                                       letter_fields=LETTER_FIELDS["schriftelijke_waarschuwing"])  # fmt: skip
    assert result.escalation.current_step == "schriftelijke_waarschuwing"
    await services.transition(lek, escalation.id, "afgesloten", actor=medewerker, motivation="Opgelost.", clock=clock)
    with pytest.raises(EscalationError, match="is afgesloten"):
        await services.transition(lek, escalation.id, "analyse", actor=medewerker, motivation="Opnieuw.", clock=clock)


async def test_verzuim_and_dissolution_follow_bw_6_81_to_6_83(scopes, provider, medewerker, lead, clock):
    """Free order, but never around the law: verzuim only after a notice whose term has passed; opzegging and
    ontbinding only after verzuim, unless the decider records a BW 6:83 exception; the page's options say why."""
    lek = scopes["lekstroom"]
    move = services.transition
    escalation = await services.open_escalation(
        lek, provider=provider, ladder_key="contract", category="contract", summary="Declaraties zonder zorg.",
        motivation="Data-analyse.", actor=medewerker, clock=clock,
    )  # fmt: skip
    mark = await last_sequence(lek, escalation.id)
    with pytest.raises(EscalationError, match="Verzuim treedt pas in na een ingebrekestelling"):
        await move(lek, escalation.id, "verzuim", actor=medewerker, motivation="Direct verzuim.", clock=clock)
    with pytest.raises(EscalationError, match=r"vereist dat de Opdrachtnemer in verzuim is \(artikel 6:265 BW\)"):
        await move(lek, escalation.id, "ontbinding", actor=lead, motivation="Ontbinden.", clock=clock)
    assert await last_sequence(lek, escalation.id) == mark  # a refusal leaves no trace
    options = {o.key: o for o in await step_options(await load_context(lek, escalation.id, clock))}
    assert options["ingebrekestelling"].open and not options["verzuim"].open
    assert options["verzuim"].label == "eerst ingebrekestelling, termijn verstreken"
    assert options["opzegging"].label == options["ontbinding"].label == "eerst verzuim"
    assert [g for g, _ in options["ontbinding"].exceptions] == [
        "fatale_termijn", "nakoming_blijvend_onmogelijk", "weigering_nakoming"
    ]

    await move(lek, escalation.id, "ingebrekestelling", actor=medewerker, motivation="Ernstig.", clock=clock,
               letter_fields=LETTER_FIELDS["ingebrekestelling"])  # fmt: skip
    with pytest.raises(EscalationError, match="termijn is verstreken"):  # due 30 March: not yet
        await move(lek, escalation.id, "verzuim", actor=medewerker, motivation="Te vroeg.", clock=clock)
    clock.set(at(2026, 3, 31, 9))
    [letter] = await previews(lek, escalation.id, "verzuim", "Niet hersteld.", clock)
    assert "Bij onze brief van 2 maart 2026 (‘Ingebrekestelling’)" in letter.body_html
    assert "tot en met 30 maart 2026 (4 weken)" in letter.body_html
    with pytest.raises(EscalationError, match="geen uitzondering nodig"):
        await move(lek, escalation.id, "verzuim", actor=medewerker, motivation="x", clock=clock,
                   legal_exception="fatale_termijn")  # fmt: skip
    await move(lek, escalation.id, "verzuim", actor=medewerker, motivation="Niet hersteld.", clock=clock)
    result = await move(lek, escalation.id, "opzegging", actor=lead, motivation="Opzeggen.", clock=clock,
                        letter_fields=LETTER_FIELDS["opzegging"])  # fmt: skip
    assert result.escalation.outcome == "beeindigd"


async def test_a_bw_6_83_exception_is_stored_and_the_verzuim_letter_claims_no_notice(
    scopes, provider, medewerker, lead, clock
):
    lek = scopes["lekstroom"]
    escalation = await services.open_escalation(
        lek, provider=provider, ladder_key="contract", category="contract", summary="Zorg gestopt.",
        motivation="Signaal.", actor=medewerker, clock=clock,
    )  # fmt: skip
    with pytest.raises(EscalationError, match="geen uitzondering van artikel 6:83 BW"):
        await services.transition(lek, escalation.id, "verzuim", actor=medewerker, motivation="x", clock=clock,
                                  legal_exception="omdat_het_moet")  # fmt: skip
    [plain] = await previews(lek, escalation.id, "verzuim", "Weigering.", clock)
    assert "Bij onze brief" not in plain.body_html and "ingebrekestelling" not in plain.body_html.lower()
    [letter] = await previews(lek, escalation.id, "verzuim", "Weigering.", clock, legal_exception="weigering_nakoming")
    assert "Een ingebrekestelling is niet nodig, omdat u heeft ons laten weten" in letter.body_html
    result = await services.transition(lek, escalation.id, "verzuim", actor=medewerker, motivation="Weigering.",
                                       clock=clock, legal_exception="weigering_nakoming")  # fmt: skip
    assert result.event.payload["uitzondering"]["grond"] == "weigering_nakoming"
    sent = [e for e in await events(lek, escalation.id) if e.kind == "brief_verstuurd"][-1]
    assert sent.payload["brief"] == "verzuim"


async def test_the_decider_sets_the_reasonable_term_of_the_ingebrekestelling(scopes, provider, medewerker, clock):
    """BW 6:82: the notice of default gives a reasonable term; the ladder's 4 weken is the default, the decider may
    set another. The deadline counts from it, the letter prints it, event and audit record it."""
    lek = scopes["lekstroom"]
    escalation = await services.open_escalation(
        lek, provider=provider, ladder_key="contract", category="contract", summary="Declaraties zonder zorg.",
        motivation="Data-analyse.", actor=medewerker, clock=clock,
    )  # fmt: skip
    key = "herstel_na_ingebrekestelling"
    [preview] = await previews(lek, escalation.id, "ingebrekestelling", "Ernstig.", clock, terms={key: "6 weken"})
    assert "6 weken na ontvangst van deze brief, dus uiterlijk <strong>13 april 2026</strong>" in preview.body_html
    for bad, message in (("zes weken lang", "geen termijn"), ("1 april", "geen termijn")):
        with pytest.raises(EscalationError, match=message):
            await services.transition(lek, escalation.id, "ingebrekestelling", actor=medewerker, motivation="x",
                                      clock=clock, term_overrides={key: bad})  # fmt: skip
    with pytest.raises(EscalationError, match="geen termijn 'onbekend' die u zelf kunt instellen"):
        await services.transition(lek, escalation.id, "ingebrekestelling", actor=medewerker, motivation="x",
                                  clock=clock, term_overrides={"onbekend": "6 weken"})  # fmt: skip
    result = await services.transition(lek, escalation.id, "ingebrekestelling", actor=medewerker, motivation="Ernstig.",
                                       clock=clock, term_overrides={key: "6 weken"},
                                       letter_fields=LETTER_FIELDS["ingebrekestelling"])  # fmt: skip
    term = (await deadlines(lek, escalation.id))[key]
    assert due_day(term) == date(2026, 4, 13) and term.term == "6 weken"
    assert result.event.payload["gekozen_termijnen"] == [
        {"termijn": key, "titel": "Gebreken verholpen binnen de termijn van de ingebrekestelling", "ladder": "4 weken",
         "gekozen": "6 weken"}
    ]  # fmt: skip
    assert result.event.payload["nieuwe_termijnen"][0]["termijn_tekst"] == "6 weken"
    sent = [e for e in await events(lek, escalation.id) if e.kind == "brief_verstuurd"][-1]
    assert sent.payload["brief"] == "ingebrekestelling"


async def test_a_term_before_the_contracts_end_counts_back_from_its_end_date(scopes, provider, medewerker, clock):
    """Issue 14 point 6: "3 maanden voor einde overeenkomst" counts back from the end date of the escalation's
    contract; a day that is no working day moves EARLIER (acting on it is in time); a contract without an end date,
    or a moment already past, makes no deadline and the opening event says why."""
    lek = scopes["lekstroom"]
    spec = LadderSpec.model_validate({
        "key": "verlenging", "name": "Verlenging overeenkomst",
        "categories": [{"key": "contract", "title": "Contract", "start_step": "bespreken"}],
        "steps": [
            {"key": "bespreken", "title": "Verlenging bespreken", "next": ["besloten"],
             "terms": [{"key": "besluit", "term": "3 maanden", "starts": "contract_end", "responsible": "regio",
                        "title": "Besluit over verlenging (3 maanden voor einde overeenkomst)"}]},
            {"key": "besloten", "title": "Besloten", "final": True, "outcome": "besloten"},
        ],
    })  # fmt: skip
    await publish(lek, spec, clock=clock)

    async def open_on(reference: str, until: date | None):
        contract = lek.new(Contract, provider=provider.id, reference=reference, kind="dvo",
                           valid_from=date(2025, 1, 1), valid_until=until)  # fmt: skip
        await contract.save()
        return await services.open_escalation(
            lek, provider=provider, ladder_key="verlenging", category="contract", summary="Verlenging.",
            motivation="Overeenkomst loopt af.", actor=medewerker, contract=contract, clock=clock,
        )  # fmt: skip

    ends_sunday = await open_on("DVO-2027", date(2027, 1, 3))  # 3 months before: Saturday 3 October 2026
    term = (await deadlines(lek, ends_sunday.id))["besluit"]
    assert due_day(term) == date(2026, 10, 2) and term.status == "open"
    assert term.reasons == ["vervroegd: zaterdag (3 oktober 2026)"]
    for reference, until, reason in (
        ("DVO-OPEN", None, "de overeenkomst van deze escalatie heeft geen einddatum"),
        ("DVO-2026", date(2026, 4, 30), "3 maanden vóór het einde van de overeenkomst (30 april 2026) was 30 januari "
                                       "2026, vóór het begin van deze stap"),
    ):  # fmt: skip
        escalation = await open_on(reference, until)
        assert "besluit" not in await deadlines(lek, escalation.id)
        opened = (await events(lek, escalation.id))[0].payload
        assert opened["overgeslagen_termijnen"] == [
            {"termijn": "besluit", "titel": "Besluit over verlenging (3 maanden voor einde overeenkomst)",
             "reden": reason}
        ]  # fmt: skip


async def test_a_signal_opens_on_the_providers_latest_contract(scopes, provider, medewerker, clock):
    """The contract's dates anchor its terms: the triage takes the latest contract, as the API does."""
    lek = scopes["lekstroom"]
    old = lek.new(Contract, provider=provider.id, reference="DVO-2023", valid_from=date(2023, 1, 1),
                  valid_until=date(2024, 12, 31))  # fmt: skip
    await old.save()
    new = lek.new(Contract, provider=provider.id, reference="DVO-2025", valid_from=date(2025, 1, 1))
    await new.save()
    signal = await signals.file_signal(lek, actor=medewerker, reported_by="Toegang Houten",
                                       description="Declaraties zonder geleverde zorg.", provider_id=provider.id,
                                       clock=clock)  # fmt: skip
    _, escalation = await signals.escalate_signal(
        lek, signal.id, actor=medewerker, ladder_key="contract", category="contract", subcategory="",
        summary="Declaraties zonder zorg.", motivation="Raakt de overeenkomst.", clock=clock,
    )  # fmt: skip
    assert escalation.contract == new.id


async def test_a_met_term_moves_on_where_the_ladder_says_so_and_else_proposes(scopes, provider, medewerker, clock):
    """Issue 14 point 4: ``on_met`` with ``move_to_step`` takes the step when the ladder marks it automatic; into a
    step with a letter it is only proposed ("Te beoordelen"), and ``notify`` tells people."""
    lek = scopes["lekstroom"]
    spec = LadderSpec.model_validate({
        "key": "reactie", "name": "Reacties",
        "categories": [{"key": "c", "title": "C", "start_step": "plan_gevraagd"},
                       {"key": "d", "title": "D", "start_step": "verbeterplan_gevraagd"}],
        "steps": [
            {"key": "plan_gevraagd", "title": "Plan gevraagd", "actor": "aanbieder", "next": ["monitoren"],
             "terms": [{"key": "plan", "term": "2 weken", "met_by": "document:plan_van_aanpak",
                        "on_met": [{"action": "move_to_step", "step": "monitoren"},
                                   {"action": "notify", "roles": ["inkoop"], "message": "Plan ontvangen."}]}]},
            {"key": "monitoren", "title": "Team inkoop monitort", "automatic": True, "next": ["klaar"]},
            {"key": "verbeterplan_gevraagd", "title": "Verbeterplan gevraagd", "next": ["bevestigen"],
             "terms": [{"key": "verbeterplan", "term": "2 weken", "met_by": "document:verbeterplan",
                        "on_met": [{"action": "move_to_step", "step": "bevestigen"}]}]},
            {"key": "bevestigen", "title": "Afspraken bevestigen", "next": ["klaar"],
             "on_enter": [{"action": "send_letter", "letter": "bevestiging_afspraken"}]},
            {"key": "klaar", "title": "Klaar", "final": True, "outcome": "hersteld"},
        ],
    })  # fmt: skip
    await publish(lek, spec, clock=clock)

    async def opened(category: str):
        return await services.open_escalation(lek, provider=provider, ladder_key="reactie", category=category,
                                              summary="Plan nodig.", motivation="Signaal.", actor=medewerker,
                                              clock=clock, letter_fields=opening(category))  # fmt: skip

    moves = await opened("c")
    clock.set(at(2026, 3, 10, 11))
    [met] = await services.meet_deadlines_for_document(lek, moves.id, "plan_van_aanpak", clock.now())
    assert met.key == "plan"
    assert (await lek.get(Escalation, moves.id)).current_step == "monitoren"  # taken by the ladder itself
    moved = next(e for e in await events(lek, moves.id) if e.kind == "stap_gewijzigd")
    assert moved.payload["automatisch"] is True and moved.actor_label == "Systeem"
    told = [e for e in await events(lek, moves.id) if e.kind == "melding_verstuurd"]
    assert told and told[-1].payload["bericht"] == "Plan ontvangen."

    proposes = await opened("d")
    [met] = await services.meet_deadlines_for_document(lek, proposes.id, "verbeterplan", clock.now())
    assert (await lek.get(Escalation, proposes.id)).current_step == "verbeterplan_gevraagd"  # a letter: a person
    after = [e.kind for e in await events(lek, proposes.id)]
    assert after[-2:] == ["termijn_gehaald", "volgende_stap_voorgesteld"] and "brief_verstuurd" not in after
