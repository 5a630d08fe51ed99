"""Issue 15 point 2, the rules: either party scales up ("los op of schaal op", seed 001 §2.1). The provider opens a
dispute for a municipality of a region where it has a contract; the municipality's people (a role held for that
municipality) read and act on their municipality's disputes only (``MunicipalityScope``); the lokale aanstuurder
decides step 2 and the step counts as agreed only with both parties' agreement on record; the Zi2T advises in step
3; step 4 names the subcommittee. Financial disagreements are marked. Notices reach that municipality only."""

from __future__ import annotations

from datetime import date

import pytest

from apps.accounts.roles import Role
from apps.accounts.tables import Membership, User
from apps.escalations import disputes, services
from apps.escalations.cases import case_out
from apps.escalations.dispute_state import load_state
from apps.escalations.tables import Escalation, Signal, TimelineEvent
from apps.ladders.schema import LadderSpec
from apps.ladders.tables import LadderVersion
from apps.notifications.tables import Notification
from apps.providers.tables import Contract
from apps.tenancy.tables import Municipality
from core.actor import Actor
from core.tenancy import MunicipalityScope, ProviderScope, ScopeError
from tests.escalations.conftest import events
from tests.letter_fields import STEP_FIELDS

ROOSENDAAL, BERGEN = "GM1674", "GM0748"
POSITION = "De PIC past niet bij de zorgvraag; wij vragen eerst de analyse van de toegang."


@pytest.fixture
async def wbw(scopes):
    return scopes["west-brabant-west"]


@pytest.fixture
async def contracted(wbw, provider):
    await wbw.new(Contract, provider=provider.id, reference="WBW-PROEF", valid_from=date(2026, 1, 1)).save()
    return provider


async def _municipality(wbw, code: str) -> Municipality:
    return await wbw.objects(Municipality).where(Municipality.cbs_code == code).first()


async def _municipality_person(wbw, code: str, name: str):
    """A person holding the access-team role for one municipality, and their read scope and actor."""
    municipality = await _municipality(wbw, code)
    user = User(issuer="https://idp.example", subject=name.lower(), name=name, email=f"{name.lower()}@gemeente.example")
    await user.save()
    await Membership(user=user.id, region=wbw.region_id, role=Role.GEMEENTE_MEDEWERKER,
                     municipality=municipality.id).save()  # fmt: skip
    actor = Actor(label=name, user_id=user.id, roles=frozenset({Role.GEMEENTE_MEDEWERKER}))
    return MunicipalityScope(wbw.region_id, [municipality.id]), actor


async def _open(provider, provider_user, wbw, clock, code=ROOSENDAAL, **changes):
    scope = await ProviderScope.for_provider(provider.id)
    municipality = await _municipality(wbw, code)
    fields = {"place": f"{wbw.region_id}:{municipality.id}", "subcategory": "pic", "reference": "RSD-2026-0413",
              "professionals": "Jeugdprofessional toegang, gedragswetenschapper aanbieder",
              "summary": "Geen overeenstemming over de PIC voor een nieuwe cliënt.", "position": POSITION,
              "financial": False, **changes}  # fmt: skip
    return scope, await disputes.open_by_provider(scope, actor=provider_user, clock=clock, **fields)


async def _recipients(wbw) -> set[str]:
    return {n.recipient for n in await wbw.objects(Notification).where(Notification.channel == "email")}


async def _other_municipalities(wbw) -> set[str]:
    found = set()
    for m in await wbw.objects(Municipality).where(Municipality.cbs_code != ROOSENDAAL):
        found |= {m.access_team_email, *(c["email"] for c in m.contacts)}
    return found


async def test_either_party_scales_up_to_the_committee_and_only_roosendaal_hears_of_it(
    wbw, contracted, provider_user, medewerker, clock
):
    roos_scope, roos = await _municipality_person(wbw, ROOSENDAAL, "Roos")
    portal, escalation = await _open(contracted, provider_user, wbw, clock)
    assert escalation.current_step == "gesprek_jeugdprofessional" and escalation.contract is not None
    opened = await events(wbw, escalation.id)
    assert [e.kind for e in opened] == ["escalatie_geopend", "geschil_standpunt"]
    assert opened[0].actor_label == "Anna Aanbieder (Jeugdzorg De Proef B.V.)" and opened[0].motivation == POSITION
    # Roosendaal's person reads it through her municipality's scope, and is told (in the app and by mail).
    assert await roos_scope.get(Escalation, escalation.id) is not None
    assert "roos@gemeente.example" in await _recipients(wbw)

    # Step 1 -> 2: the provider scales up itself, with its motivation.
    with pytest.raises(disputes.DisputeError, match="motivering") as refused:
        await disputes.scale_up(portal, escalation.id, actor=provider_user, motivation="", clock=clock)
    assert refused.value.field == "motivering"
    await disputes.scale_up(portal, escalation.id, actor=provider_user, motivation="Wij komen er niet uit.",
                            clock=clock)  # fmt: skip
    # The municipality answers with its position; only its lokale aanstuurder decides step 2, never the provider.
    await disputes.record_position(roos_scope, escalation.id, actor=roos, clock=clock,
                                   text="De analyse staat in het gezinsplan; de PIC volgt daaruit.")  # fmt: skip
    with pytest.raises(disputes.DisputeError, match="beslist de lokale aanstuurder"):
        await disputes.put_solution(portal, escalation.id, actor=provider_user, text="Wij beslissen.", clock=clock)
    decision = await disputes.put_solution(roos_scope, escalation.id, actor=roos, clock=clock,
                                           text="PIC 3 met een evaluatie na acht weken.")  # fmt: skip
    state = await load_state(wbw, await wbw.get(Escalation, escalation.id), LadderSpec.model_validate(
        (await wbw.get(LadderVersion, escalation.ladder_version)).definition).dispute)  # fmt: skip
    assert state.solution.id == decision.id and not state.agreed
    assert state.answers["gemeente"].actor_label == "Roos (gemeente Roosendaal)"  # who, and when (occurred_at)
    # The team may not take the agreement step while the provider has not agreed.
    with pytest.raises(services.EscalationError, match="nog niet akkoord: de aanbieder"):
        await services.transition(wbw, escalation.id, "overeenstemming", actor=medewerker, motivation="Eens.",
                                  clock=clock)  # fmt: skip
    with pytest.raises(disputes.DisputeError, match="waarom u niet akkoord"):
        await disputes.answer(portal, escalation.id, actor=provider_user, agrees=False, reason="", clock=clock)
    await disputes.answer(portal, escalation.id, actor=provider_user, agrees=False, clock=clock,
                          reason="Acht weken is te kort voor deze problematiek.")  # fmt: skip

    # Step 2 -> 3 by the municipality; the Zi2T advises (not a party: it gives no position, takes no party step).
    await disputes.scale_up(roos_scope, escalation.id, actor=roos, motivation="Geen akkoord: naar het Zi2T.",
                            clock=clock)  # fmt: skip
    with pytest.raises(disputes.DisputeError, match="geeft het team"):
        await disputes.put_solution(roos_scope, escalation.id, actor=roos, text="Advies?", clock=clock)
    with pytest.raises(disputes.DisputeError, match="Alleen de aanbieder en de gemeente"):
        await disputes.record_position(wbw, escalation.id, actor=medewerker, text="Standpunt.", clock=clock)
    await disputes.put_solution(wbw, escalation.id, actor=medewerker, clock=clock,
                                text="Het Zi2T adviseert PIC 3 met evaluatie na twaalf weken.")  # fmt: skip
    # Step 3 -> 4 by the provider: the subcommittee is named.
    with pytest.raises(disputes.DisputeError, match="subcommissie") as refused:
        await disputes.scale_up(portal, escalation.id, actor=provider_user, motivation="Advies niet gevolgd.",
                                clock=clock)  # fmt: skip
    assert refused.value.field == "subcommissie"
    moved = await disputes.scale_up(portal, escalation.id, actor=provider_user, motivation="Advies niet gevolgd.",
                                    subcommittee="inkoop", clock=clock)  # fmt: skip
    assert moved.current_step == "geschillencommissie"
    with pytest.raises(disputes.DisputeError, match="laatste stap"):
        await disputes.scale_up(portal, escalation.id, actor=provider_user, motivation="Nog verder.", clock=clock)
    kinds = [e.kind for e in await events(wbw, escalation.id)]
    assert kinds.count("stap_gewijzigd") == 3 and kinds[-1] in ("geschil_subcommissie", "melding_verstuurd")
    chosen = [e for e in await events(wbw, escalation.id) if e.kind == "geschil_subcommissie"]
    assert chosen[0].payload == {"subcommissie": "inkoop",
                                 "naam": "Subcommissie Sociaal Domein: Inkoop Jeugdwet en Wmo"}  # fmt: skip
    audited = {row["action"] for row in await _audit_actions(wbw)}
    assert {"dispute.open", "dispute.position", "dispute.solution", "dispute.answer", "dispute.subcommittee",
            "escalation.transition"} <= audited  # fmt: skip

    # Notices over the whole route: Roosendaal's person, the Zi2T, the committee and the provider; no other
    # municipality's address.
    recipients = await _recipients(wbw)
    assert {"roos@gemeente.example", "zi2t@wbw.example", f"provider:{contracted.id}"} <= recipients
    assert not recipients & await _other_municipalities(wbw)


async def _audit_actions(wbw):
    from apps.audit.tables import AuditEntry

    return await wbw.select(AuditEntry, AuditEntry.action)


async def test_the_step_counts_as_agreed_only_with_both_agreements_on_record(
    wbw, contracted, provider_user, medewerker, clock
):
    roos_scope, roos = await _municipality_person(wbw, ROOSENDAAL, "Roos")
    portal, escalation = await _open(contracted, provider_user, wbw, clock)
    # Step 1: a proposal by the provider (it agrees with its own proposal); the municipality agrees too.
    await disputes.put_solution(portal, escalation.id, actor=provider_user, text="Eerst de analyse, dan de PIC.",
                                clock=clock)  # fmt: skip
    with pytest.raises(services.EscalationError, match="nog niet akkoord: de gemeente"):
        await services.transition(wbw, escalation.id, "overeenstemming", actor=medewerker, motivation="Eens.",
                                  clock=clock)  # fmt: skip
    await disputes.answer(roos_scope, escalation.id, actor=roos, agrees=True, reason="", clock=clock)
    with pytest.raises(disputes.DisputeError, match="akkoord met de oplossing: opschalen is niet meer nodig"):
        await disputes.scale_up(portal, escalation.id, actor=provider_user, motivation="Toch op.", clock=clock)
    # The team confirms the agreement (the ladder's step with its letter): now allowed.
    result = await services.transition(wbw, escalation.id, "overeenstemming", actor=medewerker,
                                       motivation="Beide partijen akkoord; afspraken per brief bevestigd.",
                                       clock=clock, letter_fields=STEP_FIELDS["overeenstemming"])  # fmt: skip
    assert result.escalation.current_step == "overeenstemming"
    # A party never takes the agreement step or any other step than the next one of the route.
    with pytest.raises(disputes.DisputeError, match="laatste stap|afgesloten|geschillenroute"):
        await disputes.scale_up(portal, escalation.id, actor=provider_user, motivation="Op.", clock=clock)
    # The team confirms the agreement through the letter; every answer stays on the timeline with who and when.
    answers = [e for e in await events(wbw, escalation.id) if e.kind == "geschil_akkoord"]
    assert [(a.payload["partij"], a.payload["akkoord"]) for a in answers] == [("aanbieder", True), ("gemeente", True)]
    assert answers[1].actor_label == "Roos (gemeente Roosendaal)" and answers[1].occurred_at is not None


async def test_a_municipality_reads_its_own_disputes_only(wbw, contracted, provider_user, medewerker, clock):
    roos_scope, roos = await _municipality_person(wbw, ROOSENDAAL, "Roos")
    bergen_scope, tamara = await _municipality_person(wbw, BERGEN, "Tamara")
    _, roosendaal = await _open(contracted, provider_user, wbw, clock)
    portal, bergen = await _open(contracted, provider_user, wbw, clock, code=BERGEN, reference="BOZ-2026-0077")
    await services.add_note(wbw, roosendaal.id, actor=medewerker, text="Alleen voor het team.")
    assert [r["id"] for r in await roos_scope.select(Escalation, Escalation.id)] == [roosendaal.id]
    assert await roos_scope.get(Escalation, bergen.id) is None
    shown = await roos_scope.select(TimelineEvent, TimelineEvent.escalation, TimelineEvent.visibility)
    assert {e["escalation"] for e in shown} == {roosendaal.id} and {e["visibility"] for e in shown} == {"shared"}
    for table in (Signal, Municipality, Contract, Membership):
        with pytest.raises(ScopeError):
            roos_scope.select(table)
    with pytest.raises(disputes.DisputeNotFound):
        await disputes.record_position(roos_scope, bergen.id, actor=roos, text="Niet van ons.", clock=clock)
    with pytest.raises(ScopeError):
        roos_scope.region_scope(bergen)
    # Bergen op Zoom's person acts on Bergen's; a person without a municipality reads nothing.
    await disputes.record_position(bergen_scope, bergen.id, actor=tamara, text="Ons standpunt.", clock=clock)
    assert await MunicipalityScope(wbw.region_id, []).select(Escalation, Escalation.id) == []


async def test_a_provider_opens_only_where_it_has_a_contract_and_the_case_stays_pseudonymous(
    wbw, scopes, provider, provider_user, clock
):
    with pytest.raises(disputes.DisputeError, match="lopend contract") as refused:
        await _open(provider, provider_user, wbw, clock)  # no contract in West-Brabant West
    assert refused.value.field == "gemeente"
    await wbw.new(Contract, provider=provider.id, reference="WBW-PROEF", valid_from=date(2026, 1, 1)).save()
    with pytest.raises(disputes.DisputeError, match="burgerservicenummer") as refused:
        await _open(provider, provider_user, wbw, clock, reference="111222333")
    assert refused.value.field == "kenmerk"
    someone_else = Actor(label="Ander", roles=frozenset({Role.AANBIEDER_MEDEWERKER}), provider_id=None)
    with pytest.raises(disputes.DisputeError, match="aanbieder zelf"):
        await disputes.open_by_provider(await ProviderScope.for_provider(provider.id), actor=someone_else,
                                        place="", subcategory="pic", reference="R-1", professionals="x",
                                        summary="x", position="x", financial=False, clock=clock)  # fmt: skip
    assert await wbw.count(Escalation) == 0


async def test_a_financial_disagreement_is_marked_wherever_the_case_is_shown(wbw, contracted, provider_user, clock):
    _, second_half = await _open(contracted, provider_user, wbw, clock, subcategory="tweede_50_procent")
    _, marked = await _open(contracted, provider_user, wbw, clock, financial=True)
    _, plain = await _open(contracted, provider_user, wbw, clock)
    assert (second_half.case_financial, marked.case_financial, plain.case_financial) == (True, True, False)
    spec = LadderSpec.model_validate((await wbw.get(LadderVersion, plain.ladder_version)).definition)
    shown = await case_out(wbw, second_half, spec)
    assert shown["financial"] is True and "nooit met de jeugdige of het gezin besproken" in shown["financial_notice"]
    assert (await case_out(wbw, plain, spec))["financial"] is False
