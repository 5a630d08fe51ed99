"""West-Brabant West's allocation-dispute route (seed 001): talk, local access manager, Zi2T, dispute
committee; working-day terms, suspension while waiting on a third party. A dispute is about one case: the
municipality, the access team's pseudonymous reference, the discussion point and the professionals are recorded,
and its notices reach that municipality's lokale aanstuurder (and the Zi2T), never the other municipalities."""

from __future__ import annotations

from datetime import date

import pytest

from apps.accounts.roles import Role
from apps.accounts.tables import Membership, User
from apps.escalations import cases, disputes, services
from apps.escalations.api_views import escalation_detail
from apps.escalations.tables import Escalation
from apps.ladders.schema import LadderSpec
from apps.ladders.services import latest_version
from apps.ladders.tables import Ladder
from apps.notifications.tables import Notification
from apps.providers.tables import Contract
from apps.tenancy.tables import Municipality
from core.actor import Actor
from core.tenancy import MunicipalityScope, ProviderScope
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

ROOSENDAAL = "GM1674"
ROOSENDAAL_CONTACT = "kwaliteitjeugd.roosendaal@wbw.example"  # tenants/west-brabant-west.toml, from seed 001
ZI2T = "zi2t@wbw.example"
CASE = {"municipality": ROOSENDAAL, "case_reference": "RSD-2026-0413",
        "professionals": "Jeugdprofessional toegang Roosendaal, gedragswetenschapper aanbieder"}  # fmt: skip


async def _open(scope, provider, actor, clock, **changes):
    fields = {"subcategory": "pic", **CASE, **changes}
    return await services.open_escalation(
        scope, provider=provider, ladder_key="toewijzing", category="geschil",
        summary="Geen overeenstemming over de PIC voor een nieuwe cliënt.",
        motivation="Jeugdprofessional en aanbieder komen er niet uit.", actor=actor, clock=clock, **fields,
    )  # fmt: skip


async def _all_recipients(scope) -> set[str]:
    return {n.recipient for n in await scope.objects(Notification)}


async def _other_municipalities_addresses(scope) -> set[str]:
    addresses = set()
    for m in await scope.objects(Municipality).where(Municipality.cbs_code != ROOSENDAAL):
        addresses |= {m.access_team_email, *(c["email"] for c in m.contacts)}
    return addresses


async def test_dispute_route_with_suspension_and_escalation_to_the_committee(scopes, provider, medewerker, clock):
    wbw = scopes["west-brabant-west"]
    escalation = await _open(wbw, provider, medewerker, clock)
    terms = await deadlines(wbw, escalation.id)
    # Seed 001 §1.3 in order: the arrangement 3 weeks after the first talk; the municipality's reaction
    # 10 working days after the arrangement was delivered -- so that term waits, without a due date.
    assert {key: due_day(d) for key, d in terms.items() if d.due_at} == {
        "gezinsplan_gereed": date(2026, 4, 28),  # 8 weken: Monday 27 April is Koningsdag
        "gezinsplan_bij_aanbieder": date(2027, 3, 2),
        "gezinsplan_geldig": date(2027, 3, 2),
        "arrangement_gereed": date(2026, 3, 23),
    }
    assert terms["gezinsplan_gereed"].reasons == ["verschoven: Koningsdag (27 april 2026)"]
    reaction = terms["reactie_arrangement"]
    assert (reaction.status, reaction.due_at, reaction.starts) == ("waiting", None, "document:arrangement")
    opened = (await events(wbw, escalation.id))[0].payload
    waiting = next(t for t in opened["nieuwe_termijnen"] if t["termijn"] == "reactie_arrangement")
    assert waiting["vervaldatum"] is None and waiting["wacht_op"] == "wacht op levering van het arrangement"

    # Waiting on a third party (the Expertteam): the arrangement's term stops on Wednesday 4 March; the
    # reaction has not started, so there is nothing to suspend.
    clock.set(at(2026, 3, 4, 11))
    arrangement = await services.suspend_deadline(wbw, terms["arrangement_gereed"].id, actor=medewerker,
                                                  reason="Advies Expertteam gevraagd.", clock=clock)  # fmt: skip
    assert (await events(wbw, escalation.id))[-1].payload["resterend"] == "19 dagen"
    with pytest.raises(services.EscalationError, match="status 'wacht' kan niet worden opgeschort"):
        await services.suspend_deadline(wbw, reaction.id, actor=medewerker, reason="Advies.", clock=clock)
    clock.set(at(2026, 3, 18))
    assert await services.due_deadlines(clock) == []  # neither a suspended nor a waiting term is ever missed
    clock.set(at(2026, 3, 9, 8))

    # ... and runs on from Monday 9 March with the budget that was left.
    arrangement = await services.resume_deadline(wbw, arrangement.id, actor=medewerker, clock=clock)
    assert due_day(arrangement) == date(2026, 3, 30)  # 9 March + 19 days = Saturday 28 March
    assert arrangement.reasons == [
        "opgeschort van 4 maart 2026 tot 9 maart 2026",
        "verschoven: zaterdag (28 maart 2026)",
        "verschoven: zondag (29 maart 2026)",
    ]
    resumed = (await events(wbw, escalation.id))[-1]
    assert resumed.kind == "termijn_hervat" and resumed.payload["oude_vervaldatum"] == "2026-03-23"
    assert resumed.payload["vervaldatum"] == "2026-03-30" and resumed.payload["resterend"] == "19 dagen"

    # The arrangement arrives on Wednesday 25 March, in time; now the municipality's 10 working days run:
    # 26, 27, 30, 31 March, 1, 2 April, (Good Friday and Easter Monday skipped) 7, 8, 9, 10 April.
    clock.set(at(2026, 3, 25, 10))
    [met] = await services.meet_deadlines_for_document(wbw, escalation.id, "arrangement", clock.now())
    assert met.key == "arrangement_gereed"
    gehaald, gestart = (await events(wbw, escalation.id))[-2:]
    assert gehaald.kind == "termijn_gehaald" and gehaald.payload["te_laat"] is False
    assert gestart.kind == "termijn_gestart" and gestart.visibility == "shared"
    assert gestart.payload["termijn"] == "reactie_arrangement" and gestart.payload["vervaldatum"] == "2026-04-10"
    reaction = (await deadlines(wbw, escalation.id))["reactie_arrangement"]
    assert reaction.status == "open" and reaction.starts_at == clock.now() and due_day(reaction) == date(2026, 4, 10)
    assert reaction.remind_at == at(2026, 4, 7, 9)  # 3 working days before

    # The municipality does not react in time: notify Roosendaal's lokale aanstuurder (only that municipality's:
    # the dispute is about one case) and the provider, and suggest scaling up ("los op of schaal op").
    clock.set(at(2026, 4, 11, 1))
    assert [d.deadline_id for d in await services.due_deadlines(clock)] == [reaction.id]
    mark = await last_sequence(wbw, escalation.id)
    assert await services.act_on_missed_deadline(wbw, reaction.id, clock)
    assert await kinds(wbw, escalation.id, mark) == MISSED_NOTIFY_SUGGEST
    notice = (await events(wbw, escalation.id))[-2]
    assert notice.visibility == "shared" and notice.payload["aantal"] == 2
    assert [n.recipient for n in await notices(wbw, notice.id)] == [ROOSENDAAL_CONTACT, f"provider:{provider.id}"]

    result = await services.transition(wbw, escalation.id, "lokale_aanstuurder", actor=medewerker,
                                       motivation="Los op of schaal op: opschalen.", clock=clock)  # fmt: skip
    assert sorted(result.event.payload["termijnen_vervallen"]) == [
        "gezinsplan_bij_aanbieder", "gezinsplan_geldig", "gezinsplan_gereed",
    ]  # fmt: skip
    assert {d.status for d in (await deadlines(wbw, escalation.id)).values()} == {"cancelled", "missed", "met"}
    assert [n.recipient for n in await notices(wbw, (await events(wbw, escalation.id))[-1].id)] == [ROOSENDAAL_CONTACT]
    await services.transition(wbw, escalation.id, "zi2t_advies", actor=medewerker, motivation="Geen besluit.",
                              clock=clock)  # fmt: skip
    assert [n.recipient for n in await notices(wbw, (await events(wbw, escalation.id))[-1].id)] == ["zi2t@wbw.example"]
    await services.transition(wbw, escalation.id, "geschillencommissie", actor=medewerker,
                              motivation="Zi2T-advies niet gevolgd.", clock=clock)  # fmt: skip
    notice = (await events(wbw, escalation.id))[-1]
    assert sorted(n.recipient for n in await notices(wbw, notice.id)) == [
        "geschillencommissie@wbw.example", "zi2t@wbw.example",
    ]  # fmt: skip
    result = await services.transition(wbw, escalation.id, "uitspraak", actor=medewerker,
                                       motivation="Uitspraak ontvangen.", clock=clock)  # fmt: skip
    assert result.escalation.status == "closed" and result.escalation.outcome == "uitspraak"
    final_notice = (await events(wbw, escalation.id))[-2]
    assert [n.recipient for n in await notices(wbw, final_notice.id)] == [
        ROOSENDAAL_CONTACT, f"provider:{provider.id}", ZI2T,
    ]  # fmt: skip
    # Over the whole route: Roosendaal's contact, the Zi2T, the committee and the provider; no other municipality.
    assert await _all_recipients(wbw) == {
        ROOSENDAAL_CONTACT, ZI2T, "geschillencommissie@wbw.example", f"provider:{provider.id}",
    }  # fmt: skip
    assert not await _all_recipients(wbw) & await _other_municipalities_addresses(wbw)


async def _both_agree(wbw, provider, escalation, clock) -> None:
    """Seed 001: "Zowel de jeugdprofessional en de jeugdhulpaanbieder moeten akkoord zijn": the provider proposes a
    solution (and so agrees with it), Roosendaal's person agrees (issue 15 point 2, ``apps.escalations.disputes``)."""
    await wbw.new(Contract, provider=provider.id, reference="WBW-PROEF", valid_from=date(2026, 1, 1)).save()
    roosendaal = await wbw.objects(Municipality).where(Municipality.cbs_code == ROOSENDAAL).first()
    user = User(issuer="https://idp.example", subject="roos", name="Roos")
    await user.save()
    await Membership(user=user.id, region=wbw.region_id, role=Role.GEMEENTE_MEDEWERKER,
                     municipality=roosendaal.id).save()  # fmt: skip
    party = Actor(label="Anna", roles=frozenset({Role.AANBIEDER_MEDEWERKER}), provider_id=provider.id)
    await disputes.put_solution(await ProviderScope.for_provider(provider.id), escalation.id, actor=party,
                                text="PIC 3, per mail bevestigd.", clock=clock)  # fmt: skip
    roos = Actor(label="Roos", user_id=user.id, roles=frozenset({Role.GEMEENTE_MEDEWERKER}))
    await disputes.answer(MunicipalityScope(wbw.region_id, [roosendaal.id]), escalation.id, actor=roos, agrees=True,
                          reason="", clock=clock)  # fmt: skip


async def test_agreement_meets_the_care_start_term(scopes, provider, medewerker, clock):
    wbw = scopes["west-brabant-west"]
    escalation = await _open(wbw, provider, medewerker, clock)
    await _both_agree(wbw, provider, escalation, clock)
    await services.transition(wbw, escalation.id, "overeenstemming", actor=medewerker,
                              motivation="Akkoord over PIC, per mail bevestigd.", clock=clock,
                              letter_fields=STEP_FIELDS["overeenstemming"])  # fmt: skip
    assert (await events(wbw, escalation.id))[-1].payload["brief"] == "bevestiging_afspraken"
    # Seed 001 §1.3: care starts within 3 weeks of the approved arrangement -- counted from the agreement (Monday
    # 2 March), not from the first talk: the third term of the route, after the arrangement and the reaction.
    start = (await deadlines(wbw, escalation.id))["start_zorg"]
    assert start.starts_at == clock.now() and due_day(start) == date(2026, 3, 23)
    clock.advance(days=10)
    result = await services.transition(wbw, escalation.id, "opgelost", actor=medewerker, motivation="Zorg gestart.",
                                       clock=clock)  # fmt: skip
    assert result.event.payload["termijnen_gehaald"] == ["start_zorg"]
    assert result.event.payload["termijnen_vervallen"] == ["einde_zorg_duurzaam"]
    assert (await wbw.get(Escalation, escalation.id)).outcome == "opgelost"


async def test_a_receipt_entered_later_counts_from_its_day_and_is_dated_when_entered(
    scopes, provider, medewerker, clock
):
    wbw = scopes["west-brabant-west"]
    escalation = await _open(wbw, provider, medewerker, clock)
    clock.set(at(2026, 3, 19, 11))  # entered on Thursday 19 March: the arrangement came by mail on 6 March
    await services.record_receipt(wbw, escalation.id, kind="arrangement", received_on=date(2026, 3, 6),
                                  channel="email", actor=medewerker, clock=clock)  # fmt: skip
    reaction = (await deadlines(wbw, escalation.id))["reactie_arrangement"]
    assert reaction.starts_at == at(2026, 3, 6, 0) and due_day(reaction) == date(2026, 3, 20)
    assert reaction.remind_at is None  # 3 working days before 20 March lies before today: no reminder in the past
    entered = (await events(wbw, escalation.id))[-3:]
    assert [e.kind for e in entered] == ["ontvangst_vastgelegd", "termijn_gehaald", "termijn_gestart"]
    assert {e.occurred_at for e in entered} == {clock.now()}  # the timeline shows when it was recorded
    with pytest.raises(services.EscalationError, match="ligt in de toekomst"):
        await services.record_receipt(wbw, escalation.id, kind="arrangement", received_on=date(2026, 3, 20),
                                      channel="email", actor=medewerker, clock=clock)  # fmt: skip


async def test_a_dispute_records_its_case_and_shows_it_pseudonymous(scopes, provider, medewerker, clock):
    wbw = scopes["west-brabant-west"]
    escalation = await _open(wbw, provider, medewerker, clock, subcategory="tweede_50_procent")
    stored = await wbw.get(Escalation, escalation.id)
    roosendaal = await wbw.objects(Municipality).where(Municipality.cbs_code == ROOSENDAAL).first()
    assert (stored.case_municipality, stored.case_reference, stored.subcategory, stored.case_professionals) == (
        roosendaal.id, "RSD-2026-0413", "tweede_50_procent", CASE["professionals"],
    )  # fmt: skip
    opened = (await events(wbw, escalation.id))[0].payload
    assert opened["casus"] == {"gemeente": ROOSENDAAL, "gemeente_naam": "Roosendaal", "kenmerk": "RSD-2026-0413",
                               "professionals": CASE["professionals"], "financieel": True}  # fmt: skip
    # The escalation's detail (the API; the page shows the same block): municipality with its lokale aanstuurder
    # from the region file, the reference marked pseudonymous, the discussion point of seed 001 §2.2.
    case = (await escalation_detail(wbw, wbw, stored, clock.now()))["case"]
    assert case == {
        "municipality": {"cbs_code": ROOSENDAAL, "name": "Roosendaal"},
        "contacts": [{"function": "Coördinerend kwaliteitsmedewerker Jeugd", "email": ROOSENDAAL_CONTACT,
                      "phone": "0165 579111"}],
        "reference": "RSD-2026-0413",
        "reference_label": "Kenmerk van de toegang (pseudoniem)",
        "pseudonymous": True,
        "discussion_point": {"key": "tweede_50_procent", "title": "Geen overeenstemming over uitbetaling van de "
                             "tweede 50% van het arrangement als doelen niet bereikt zijn"},
        "professionals": CASE["professionals"],
        # The second 50% is a financial disagreement (the ladder's [dispute] financial): never with the family.
        "financial": True,
        "financial_notice": "Financieel knelpunt: verschil van mening over geld wordt nooit met de jeugdige of het "
                            "gezin besproken; dat is de verantwoordelijkheid van gemeente en aanbieder.",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"case_reference": "111222333"}, "lijkt een burgerservicenummer \\(BSN\\)"),
        ({"case_reference": "1112 22 333"}, "lijkt een burgerservicenummer \\(BSN\\)"),
        ({"case_reference": "Jan de Vries"}, "‘Jan’ lijkt een naam of woord"),
        ({"case_reference": "RSD-jansen-2026"}, "‘jansen’ lijkt een naam of woord"),
        ({"case_reference": ""}, "^Vul het kenmerk van de toegang in"),
        ({"municipality": ""}, "^Kies de gemeente waarvan de toegang"),
        ({"municipality": "GM0935"}, "^Kies een gemeente die nu tot deze regio hoort"),  # Maastricht: Zuid-Limburg
        ({"subcategory": ""}, "^Kies het discussiepunt"),
        ({"professionals": ""}, "^Vul de betrokken professionals in"),
        ({"professionals": "Jeugdprofessional\nGedragswetenschapper"}, "mag geen regelovergang"),
    ],
)
async def test_a_dispute_without_its_case_or_with_a_bsn_or_a_name_is_refused(
    scopes, provider, medewerker, clock, changes, message
):
    wbw = scopes["west-brabant-west"]
    with pytest.raises(services.EscalationError, match=message):
        await _open(wbw, provider, medewerker, clock, **changes)
    assert await wbw.count(Escalation) == 0


async def test_a_9_digit_number_that_fails_the_elfproef_is_a_reference(scopes, provider, medewerker, clock):
    escalation = await _open(scopes["west-brabant-west"], provider, medewerker, clock, case_reference="123456789")
    assert escalation.case_reference == "123456789"


async def test_a_ladder_about_no_case_refuses_case_fields(zl, provider, medewerker, clock):
    with pytest.raises(services.EscalationError, match="gaat niet over één casus"):
        await services.open_escalation(
            zl, provider=provider, ladder_key="kwaliteit", category="niet_veiligheid", summary="Klachten.",
            motivation="Signaal.", actor=medewerker, clock=clock, municipality="GM0935", case_reference="ZL-1",
            letter_fields=opening("niet_veiligheid"),
        )  # fmt: skip


async def test_roosendaals_lokale_aanstuurder_with_an_account_is_told_instead_of_the_mailbox(
    scopes, provider, medewerker, clock
):
    wbw = scopes["west-brabant-west"]
    roosendaal = await wbw.objects(Municipality).where(Municipality.cbs_code == ROOSENDAAL).first()
    bergen = await wbw.objects(Municipality).where(Municipality.cbs_code == "GM0748").first()
    for name, municipality in (("stacey", roosendaal), ("tamara", bergen)):
        user = User(issuer="https://idp.example", subject=name, name=name, email=f"{name}@wbw.example")
        await user.save()
        await Membership(user=user.id, region=wbw.region_id, role=Role.GEMEENTE_MEDEWERKER,
                         municipality=municipality.id).save()  # fmt: skip
    escalation = await _open(wbw, provider, medewerker, clock)
    await services.transition(wbw, escalation.id, "lokale_aanstuurder", actor=medewerker,
                              motivation="Los op of schaal op.", clock=clock)  # fmt: skip
    assert [n.recipient for n in await notices(wbw, (await events(wbw, escalation.id))[-1].id)] == [
        "stacey@wbw.example"
    ]
    assert "tamara@wbw.example" not in await _all_recipients(wbw)


async def test_an_optional_case_may_stay_empty_but_is_checked_when_given(scopes, provider, medewerker, clock):
    wbw = scopes["west-brabant-west"]
    ladder = await wbw.objects(Ladder).where(Ladder.key == "toewijzing").first()
    spec = LadderSpec.model_validate((await latest_version(wbw, ladder)).definition)
    optional = spec.model_copy(update={"case": spec.case.model_copy(update={"required": False})})
    category = optional.categories[0]
    empty = {"subcategory": "", "municipality": "", "reference": "", "professionals": ""}
    assert await cases.checked_case(wbw, optional, category, **empty, day=clock.today()) is None
    with pytest.raises(cases.CaseError, match="burgerservicenummer") as refused:
        given = {
            "subcategory": "pic",
            "municipality": ROOSENDAAL,
            "reference": "111.222.333",
            "professionals": "Toegang",
        }
        await cases.checked_case(wbw, optional, category, **given, day=clock.today())
    assert refused.value.field == "kenmerk"


async def test_each_party_meets_its_own_terms(scopes, provider, medewerker, provider_user, clock):
    """Seed 001 §1.3: the provider sends the arrangement, the municipality reacts to it. A reaction the
    provider uploads never meets the municipality's term; what reached the municipality does."""
    wbw = scopes["west-brabant-west"]
    escalation = await _open(wbw, provider, medewerker, clock)
    clock.set(at(2026, 3, 10, 10))
    [met] = await services.meet_deadlines_for_document(wbw, escalation.id, "arrangement", clock.now(),
                                                       actor=provider_user)  # fmt: skip
    assert met.key == "arrangement_gereed"
    assert await services.meet_deadlines_for_document(wbw, escalation.id, "reactie", clock.now(),
                                                      actor=provider_user) == []  # fmt: skip
    assert (await deadlines(wbw, escalation.id))["reactie_arrangement"].status == "open"
    clock.set(at(2026, 3, 12, 10))
    [reacted] = await services.meet_deadlines_for_document(wbw, escalation.id, "reactie", clock.now(),
                                                           actor=medewerker)  # fmt: skip
    assert reacted.key == "reactie_arrangement" and reacted.status == "met"
