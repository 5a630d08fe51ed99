"""Zuid-Limburg's quality escalation model (seed 000), walked end to end through the services."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from apps.audit.tables import AuditEntry
from apps.documents.tables import Document
from apps.documents.uploads import ReceivedFile
from apps.escalations import services
from apps.escalations.context import load_context
from apps.escalations.letters import letter_storage
from apps.escalations.preconditions import check_not_early, step_options
from apps.escalations.services import EscalationError
from apps.escalations.tables import Escalation, StepProposal
from apps.ladders.deadlines import calendar_for_region_file, due_date_for
from apps.notifications.tables import Notification
from apps.tenancy.services import text_values
from apps.tenancy.tables import Municipality, Region
from core.tenancy import RegionScope
from tests.escalations.conftest import at, deadlines, due_day, events, kinds, last_sequence, measures, notices
from tests.letter_fields import STEP_FIELDS, opening

MERGED_IN_2019 = {"GM0951", "GM0881", "GM0962"}  # Nuth, Onderbanken, Schinnen: now Beekdaelen


async def _open(scope, provider, actor, clock, category="niet_veiligheid", subcategory="administratief"):
    return await services.open_escalation(
        scope,
        provider=provider,
        ladder_key="kwaliteit",
        category=category,
        subcategory=subcategory,
        summary="Kwartaalrapportages ontbreken.",
        motivation="Signaal van de toegang Heerlen; raakt de DVO.",
        actor=actor,
        clock=clock, letter_fields=opening(category)
    )


async def _current_codes(scope: RegionScope) -> set[str]:
    rows = await scope.select(Municipality, Municipality.cbs_code)
    return {r["cbs_code"] for r in rows} - MERGED_IN_2019


async def test_safety_branch_talk_intake_stop_inspectorate_resolved_and_closed(zl, provider, medewerker, lead, clock):
    escalation = await _open(zl, provider, medewerker, clock, "veiligheid", "vog_werknemers")
    assert escalation.current_step == "gesprek_direct"
    assert escalation.reference == "ZL-2026-0001"
    step = services.transition

    await step(zl, escalation.id, "afspraken_per_brief", actor=medewerker, motivation="Gesprek gevoerd op 2 maart.",
               clock=clock, letter_fields=STEP_FIELDS["afspraken_per_brief"])  # fmt: skip

    # Only a purchasing team lead imposes the intake stop.
    with pytest.raises(EscalationError, match="Alleen een teamleider inkoop mag maatregelen opleggen"):
        await step(zl, escalation.id, "instroomstop", actor=medewerker, motivation="VOG's ontbreken.", clock=clock)
    clock.advance(hours=1)
    result = await step(zl, escalation.id, "instroomstop", actor=lead, motivation="Drie medewerkers zonder VOG.",
                        clock=clock, letter_fields=STEP_FIELDS["instroomstop"])  # fmt: skip
    assert result.escalation.current_step == "instroomstop" and not result.replayed

    [stop] = await measures(zl, escalation.id)
    assert stop.kind == "instroomstop" and stop.ended_at is None
    assert set(stop.scope) == await _current_codes(zl) and len(stop.scope) == 16
    assert stop.start_motivation == "Drie medewerkers zonder VOG."

    after_stop = [e for e in await events(zl, escalation.id) if e.sequence > result.event.sequence]
    # The intake stop's own notice goes to every current access team (16), the GI's and the purchasing team
    # ("op te volgen door alle gemeenten"); the ladder's notify of this step reaches nobody new, so it
    # sends no second mail.
    assert [e.kind for e in after_stop] == ["maatregel_gestart", "melding_verstuurd", "brief_verstuurd"]
    started, notice, letter = after_stop
    assert started.visibility == "shared" and started.payload["aantal_gemeenten"] == 16
    assert {g["cbs_code"] for g in started.payload["gemeenten"]} == set(stop.scope)
    # The step's letter is really issued: a PDF stored as a document of the escalation, named on the timeline.
    assert {k: letter.payload[k] for k in ("brief", "status", "stap", "aanleiding")} == {
        "brief": "instroomstop_bericht", "status": "verstuurd", "stap": "instroomstop",
        "aanleiding": "stap 'Instroomstop, op te volgen door alle gemeenten' is ingegaan",
    }  # fmt: skip
    document = await zl.objects(Document).where(Document.id == letter.payload["document_id"]).first()
    assert document.kind == "brief" and document.content_type == "application/pdf"
    assert document.sha256 == letter.payload["sha256"] and letter.payload["bestandsnaam"].endswith(".pdf")
    rows = await notices(zl, notice.id)
    [told] = [n for n in rows if n.recipient.startswith("provider:")]  # the provider's people hear of it too
    assert told.payload["rol"] == "aanbieder" and told.template == "instroomstop_gestart"
    rows = [n for n in rows if n is not told]
    assert len(rows) == 18 == notice.payload["aantal"]
    access = await zl.select(Municipality, Municipality.access_team_email, Municipality.cbs_code)
    expected = {m["access_team_email"] for m in access if m["cbs_code"] not in MERGED_IN_2019}
    assert {n.recipient for n in rows} == expected | {"gi@zuid-limburg.example", "inkoop@zuid-limburg.example"}
    assert "toegang.nuth@zuid-limburg.example" not in {n.recipient for n in rows}
    assert all(n.channel == "email" and n.template == "instroomstop_gestart" and n.status == "pending" for n in rows)
    assert (
        rows[0].payload["escalatie"] == "ZL-2026-0001" and rows[0].payload["provider_name"] == "Jeugdzorg De Proef B.V."
    )
    assert rows[0].payload["kvk_number"] == "90000042" and len(rows[0].payload["municipalities"]) == 16

    await step(zl, escalation.id, "zittende_clienten", actor=medewerker, motivation="Toegang en GI's geïnformeerd.",
               clock=clock)  # fmt: skip
    result = await step(zl, escalation.id, "inspectie", actor=medewerker, motivation="Inspectie vragen te visiteren.",
                        clock=clock)  # fmt: skip
    inspectorate = (await events(zl, escalation.id))[-1]
    assert inspectorate.kind == "melding_verstuurd" and inspectorate.payload["rollen"] == ["inspectie"]
    assert [n.recipient for n in await notices(zl, inspectorate.id)] == ["inspectie@zuid-limburg.example"]

    clock.set(at(2026, 4, 20))
    await step(zl, escalation.id, "herstel_beoordelen", actor=medewerker, motivation="Nieuwe VOG's aangeleverd.",
               clock=clock)  # fmt: skip
    with pytest.raises(EscalationError, match="teamleider"):
        await step(zl, escalation.id, "opheffen_en_afsluiten", actor=medewerker, motivation="Hersteld.", clock=clock)
    result = await step(zl, escalation.id, "opheffen_en_afsluiten", actor=lead,
                        motivation="Alle VOG's geldig en niet ouder dan 3 jaar.", clock=clock)  # fmt: skip
    closed = result.escalation
    assert closed.status == "closed" and closed.outcome == "hersteld"
    assert closed.closed_at == clock.now()
    [stop] = await measures(zl, escalation.id)
    assert stop.ended_at == clock.now() and stop.end_motivation == "Alle VOG's geldig en niet ouder dan 3 jaar."

    assert await kinds(zl, escalation.id) == [
        "escalatie_geopend",
        "stap_gewijzigd", "brief_verstuurd",  # afspraken per brief
        "stap_gewijzigd", "maatregel_gestart", "melding_verstuurd", "brief_verstuurd",  # instroomstop
        "stap_gewijzigd", "melding_verstuurd", "melding_verstuurd",  # zittende cliënten: toegang+GI, aanbieder
        "stap_gewijzigd", "melding_verstuurd",  # inspectie
        "stap_gewijzigd", "document_gevraagd",  # herstel beoordelen: bewijsstukken
        "stap_gewijzigd", "maatregel_beeindigd", "melding_verstuurd", "brief_verstuurd",  # the lift, by letter
        "escalatie_gesloten",
    ]  # fmt: skip
    everything = await events(zl, escalation.id)
    assert all(e.visibility == "shared" for e in everything)
    assert [e.sequence for e in everything] == list(range(1, 20))
    lifted = everything[-3]
    assert lifted.payload["aanleiding"] == "maatregel_beeindigd"
    lifted_rows = [n for n in await notices(zl, lifted.id) if not n.recipient.startswith("provider:")]
    assert len(lifted_rows) == 18  # 16 access teams + GI's + inkoop (and the provider, besides)
    assert {n.template for n in lifted_rows} == {"instroomstop_beeindigd"}
    letters = [e for e in everything if e.kind == "brief_verstuurd"]
    assert len(letters) == 3  # the confirmation of the agreements, the intake stop notice and its lift
    assert letters[-1].payload["titel"] == "Opheffing van de instroomstop"
    # Lifting the stop and closing the escalation are two notices to every municipality (issue 14 point 7), as the
    # intake-stop letter promises: the closure reaches each of the 16 access teams of today too.
    closure = everything[-1]
    access_mailboxes = {m.access_team_email for m in await zl.objects(Municipality)
                        if m.cbs_code in await _current_codes(zl)}  # fmt: skip
    closed_rows = [n for n in await zl.objects(Notification) if n.template == "escalatie_gesloten"]
    assert {n.recipient for n in closed_rows} == access_mailboxes | {f"provider:{provider.id}"}
    assert len(access_mailboxes) == 16 and all(n.payload["event_id"] == str(closure.id) for n in closed_rows)
    # each letter to the provider, and the provider's people hear of the stop, its lift and the closure
    assert await zl.count(Notification) == 18 + 17 + 1 + 1 + 18 + 16 + len(letters) + 3
    provider_notice = [n for n in await zl.objects(Notification) if n.recipient.startswith("provider:")]
    assert [n.recipient for n in provider_notice] == [f"provider:{provider.id}"] * (1 + len(letters) + 3)
    letter_documents = {n.payload.get("document_id") for n in provider_notice} - {None}
    assert letter_documents == {e.payload["document_id"] for e in letters}

    actions = [e["action"] for e in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.target_id == str(escalation.id)).order_by(AuditEntry.at)]  # fmt: skip
    assert actions.count("escalation.transition") == 6
    assert {"escalation.open", "measure.start", "measure.end", "escalation.close"} <= set(actions)

    with pytest.raises(EscalationError, match="ZL-2026-0001 is afgesloten"):
        await step(zl, escalation.id, "ontbinding", actor=lead, motivation="Toch ontbinden.", clock=clock)


async def test_safety_branch_the_lead_imposes_the_intake_stop_at_once_beside_the_talk(
    zl, provider, medewerker, lead, clock
):
    """Seed 000's safety branch runs in parallel: the intake stop needs no letter first. It is imposed once (the
    step after the letter is then closed: 'instroomstop geldt al'), and current clients are placed elsewhere
    only under an intake stop. The intake-stop letter gives the grounds and what happens to current clients as the
    decider filled them in (the form starts from what the ladder says about current clients)."""
    escalation = await _open(zl, provider, medewerker, clock, "veiligheid", "vog_werknemers")
    context = await load_context(zl, escalation.id, clock)
    assert [o.key for o in await step_options(context)] == ["afspraken_per_brief", "instroomstop"]
    await services.transition(zl, escalation.id, "instroomstop", actor=lead, motivation="Geen VOG's, direct.",
                              clock=clock, letter_fields=STEP_FIELDS["instroomstop"])  # fmt: skip
    [stop] = await measures(zl, escalation.id)
    assert stop.kind == "instroomstop" and stop.ended_at is None
    letter = next(e for e in await events(zl, escalation.id) if e.kind == "brief_verstuurd")
    document = await zl.objects(Document).where(Document.id == letter.payload["document_id"]).first()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(b"".join(letter_storage().open(
        document.object_key)))).pages)  # fmt: skip
    text = " ".join(text.split())
    assert STEP_FIELDS["instroomstop"]["gronden"] in text and STEP_FIELDS["instroomstop"]["zittende_clienten"] in text
    assert "loopt door" not in text

    await services.transition(zl, escalation.id, "afspraken_per_brief", actor=medewerker,
                              motivation="Afspraken uit het gesprek van 2 maart.", clock=clock,
                              letter_fields=STEP_FIELDS["afspraken_per_brief"])  # fmt: skip
    options = {o.key: o for o in await step_options(await load_context(zl, escalation.id, clock))}
    assert not options["instroomstop"].open and options["instroomstop"].label == "instroomstop geldt al"
    assert options["zittende_clienten"].open
    with pytest.raises(EscalationError, match=r"geldt al een instroomstop \(sinds 2 maart 2026\)"):
        await services.transition(zl, escalation.id, "instroomstop", actor=lead, motivation="Nog eens.", clock=clock,
            letter_fields=STEP_FIELDS["instroomstop"])
    await services.transition(zl, escalation.id, "zittende_clienten", actor=medewerker,
                              motivation="Toegang en GI's geïnformeerd.", clock=clock)  # fmt: skip
    assert len(await measures(zl, escalation.id)) == 1

    # Without an intake stop, current clients are not placed elsewhere: the letter first, then the stop.
    other = await _open(zl, provider, medewerker, clock, "veiligheid", "vog_werknemers")
    await services.transition(zl, other.id, "afspraken_per_brief", actor=medewerker, motivation="Gesprek gevoerd.",
                              clock=clock, letter_fields=STEP_FIELDS["afspraken_per_brief"])  # fmt: skip
    with pytest.raises(EscalationError, match="leg eerst de instroomstop op"):
        await services.transition(zl, other.id, "zittende_clienten", actor=medewerker, motivation="Nu.", clock=clock)


async def _letter_text(scope, escalation_id) -> str:
    letter = [e for e in await events(scope, escalation_id) if e.kind == "brief_verstuurd"][-1]
    document = await scope.objects(Document).where(Document.id == letter.payload["document_id"]).first()
    data = b"".join(letter_storage().open(document.object_key))
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


async def test_the_official_letter_says_the_term_was_missed_only_once_it_has_passed(zl, provider, medewerker, clock):
    """Taken before the plan's 2 weeks have passed, the official letter needs a motivation and says the plan has
    not come yet; taken after, it says the plan did not come within the term."""
    early = await _open(zl, provider, medewerker, clock)
    with pytest.raises(EscalationError, match="loopt nog tot 16 maart 2026. Motiveer waarom u de stap"):
        context = await load_context(zl, early.id, clock)
        await check_not_early(context, context.step("officiele_brief"), "  ")
    clock.set(at(2026, 3, 9))
    await services.transition(zl, early.id, "officiele_brief", actor=medewerker,
                              motivation="De aanbieder liet weten geen plan te maken.", clock=clock,
                              letter_fields=STEP_FIELDS["officiele_brief"])  # fmt: skip
    text = await _letter_text(zl, early.id)
    assert "nog niet ontvangen" in text and "niet binnen de gestelde termijn" not in text

    clock.set(at(2026, 3, 2))
    late = await _open(zl, provider, medewerker, clock)
    clock.set(at(2026, 3, 17, 9))
    await services.transition(zl, late.id, "officiele_brief", actor=medewerker, motivation="Geen plan ontvangen.",
                              clock=clock, letter_fields=STEP_FIELDS["officiele_brief"])  # fmt: skip
    assert "niet binnen de gestelde termijn ontvangen" in await _letter_text(zl, late.id)


async def test_non_safety_branch_missed_plan_term_leads_to_the_official_letter(zl, provider, medewerker, clock):
    escalation = await _open(zl, provider, medewerker, clock)
    assert escalation.current_step == "verzoek_plan_van_aanpak"
    assert await kinds(zl, escalation.id) == ["escalatie_geopend", "brief_verstuurd", "document_gevraagd"]
    opened, letter, demand = await events(zl, escalation.id)
    assert opened.actor_label == "Mira Medewerker" and opened.actor == medewerker.user_id
    assert opened.payload["versie"] == 1 and opened.payload["stap"] == "verzoek_plan_van_aanpak"
    assert letter.payload["brief"] == "verzoek_plan_van_aanpak"
    assert demand.payload["document"] == "plan_van_aanpak" and demand.payload["vervaldatum"] == "2026-03-16"

    plan = (await deadlines(zl, escalation.id))["plan_binnen"]
    # Opened Monday 2 March 2026: "2 weken" ends Monday 16 March 2026 (end of the day, Dutch time).
    assert due_day(plan) == date(2026, 3, 16) and plan.reasons == []
    assert plan.due_at == at(2026, 3, 16, 23, 59).replace(second=59, microsecond=999999)
    assert plan.remind_at == at(2026, 3, 11, 9)  # 3 working days before: Wednesday 11 March, 09:00
    assert plan.met_by == "document:plan_van_aanpak" and plan.status == "open"

    clock.set(at(2026, 3, 16, 23))
    assert await services.due_deadlines(clock) == []
    clock.set(at(2026, 3, 17, 0, 5))
    due = await services.due_deadlines(clock)
    assert [(d.region_id, d.deadline_id) for d in due] == [(zl.region_id, plan.id)]
    assert await services.act_on_missed_deadline(zl, plan.id, clock) is True
    assert await services.act_on_missed_deadline(zl, plan.id, clock) is False  # claimed once only

    # The ladder proposes the official letter; it goes out only once a person has seen it and decided.
    escalation = await zl.get(type(escalation), escalation.id)
    assert escalation.current_step == "verzoek_plan_van_aanpak"
    later = (await events(zl, escalation.id))[3:]
    assert [e.kind for e in later] == ["termijn_verlopen", "volgende_stap_voorgesteld"]
    missed, proposed = later
    assert missed.actor_label == "Systeem" and missed.payload["termijn"] == "plan_binnen"
    assert missed.payload["vervaldatum"] == "2026-03-16"
    assert proposed.visibility == "internal" and proposed.payload["te_beoordelen"] is True
    assert proposed.payload["brief"] == "officiele_brief_plan_van_aanpak"
    [proposal] = await zl.objects(StepProposal).where(StepProposal.escalation == escalation.id)
    assert (proposal.step, proposal.status) == ("officiele_brief", "open")
    assert proposal.reason == "termijn 'Plan van aanpak binnen?' (2 weken) is verlopen"
    assert await services.act_on_missed_deadline(zl, plan.id, clock) is False  # no second proposal either

    await services.transition(zl, escalation.id, "officiele_brief", actor=medewerker,
                              motivation="Geen plan ontvangen; officiële brief.", clock=clock,
                              letter_fields=STEP_FIELDS["officiele_brief"])  # fmt: skip
    moved, official, demand = (await events(zl, escalation.id))[5:]
    assert moved.actor_label == "Mira Medewerker" and moved.payload["automatisch"] is False
    assert official.payload["brief"] == "officiele_brief_plan_van_aanpak"
    assert (await zl.get(StepProposal, proposal.id)).status == "followed"
    assert demand.payload["termijn"] == "plan_binnen_na_brief"
    assert demand.payload["vervaldatum"] == "2026-03-31"  # 17 March + 2 weeks: Tuesday 31 March
    terms = await deadlines(zl, escalation.id)
    assert terms["plan_binnen"].status == "missed" and terms["plan_binnen"].claimed_by == "sweep"
    assert terms["plan_binnen_na_brief"].status == "open"

    # The plan arrives within the second term: that term is met, on time.
    clock.set(at(2026, 3, 20, 14))
    met = await services.meet_deadlines_for_document(zl, escalation.id, "plan_van_aanpak", clock.now())
    assert [d.key for d in met] == ["plan_binnen_na_brief"]
    event, reaction = (await events(zl, escalation.id))[-2:]
    assert event.kind == "termijn_gehaald" and event.payload["te_laat"] is False
    # The ladder's reaction to a plan received: it proposes monitoring; the team member assesses and decides.
    assert reaction.kind == "volgende_stap_voorgesteld" and reaction.payload["stap"] == "monitoren_plan"
    [proposal] = await zl.objects(StepProposal).where(
        (StepProposal.escalation == escalation.id) & (StepProposal.status == "open"))  # fmt: skip
    assert proposal.step == "monitoren_plan" and "is gehaald" in proposal.reason
    assert (await zl.get(type(escalation), escalation.id)).current_step == "officiele_brief"
    assert (await deadlines(zl, escalation.id))["plan_binnen"].status == "missed"  # history of step 1 stays

    clock.set(at(2026, 3, 23))
    await services.transition(zl, escalation.id, "monitoren_plan", actor=medewerker,
                              motivation="Plan beoordeeld: doelen en acties zijn concreet.", clock=clock)  # fmt: skip
    recovered = (await deadlines(zl, escalation.id))["hersteld"]
    assert due_day(recovered) == date(2026, 6, 23)  # 3 maanden from Monday 23 March: Tuesday 23 June
    clock.set(at(2026, 5, 4))
    result = await services.transition(zl, escalation.id, "registreren_afsluiten", actor=medewerker,
                                       motivation="Doelen gehaald.", clock=clock)  # fmt: skip
    assert result.event.payload["termijnen_gehaald"] == ["hersteld"]
    assert (await deadlines(zl, escalation.id))["hersteld"].status == "met"
    assert result.escalation.status == "closed" and result.escalation.outcome == "hersteld"
    informed = (await events(zl, escalation.id))[-2]
    assert informed.kind == "melding_verstuurd" and len(await notices(zl, informed.id)) == 17  # inkoop + 16
    # The ladder says "{gemeenten}": the notice counts the region's municipalities on the day it is sent.
    assert informed.payload["bericht"].startswith("Team inkoop en de 16 gemeenten informeren:")
    assert all(n.payload["bericht"] == informed.payload["bericht"] for n in await notices(zl, informed.id))


async def test_a_ladder_text_counts_the_municipalities_of_its_day(zl):
    """Before the merger into Beekdaelen (2019) the region had 18 municipalities, since then 16: the same
    ladder text says what was true on the day."""
    region = await Region.objects().where(Region.id == zl.region_id).first()
    before_the_merger = await text_values(zl, region.name, date(2018, 6, 1))
    assert before_the_merger == {"regio": "Jeugdhulp Zuid-Limburg", "gemeenten": "18 gemeenten"}
    assert (await text_values(zl, region.name, date(2026, 12, 3)))["gemeenten"] == "16 gemeenten"


async def test_not_recovered_in_three_months_moves_on_its_own_to_the_october_check(zl, provider, medewerker, clock):
    """The October check sends no letter and imposes nothing: the ladder marks it automatic, so a missed
    "hersteld < 3 mnd" takes it without a person -- unlike the official letter, which is only proposed."""
    escalation = await _open(zl, provider, medewerker, clock)
    await services.transition(zl, escalation.id, "monitoren_plan", actor=medewerker, motivation="Plan akkoord.",
                              clock=clock)  # fmt: skip
    recovered = (await deadlines(zl, escalation.id))["hersteld"]
    clock.set(at(2026, 6, 3))  # 3 maanden from Monday 2 March: Tuesday 2 June
    assert await services.act_on_missed_deadline(zl, recovered.id, clock)
    moved = await zl.get(Escalation, escalation.id)
    assert moved.current_step == "controle_oktober"
    assert await zl.count(StepProposal).where(StepProposal.escalation == escalation.id) == 0
    october = (await deadlines(zl, escalation.id))["tekortkomingen_oktober"]
    assert due_day(october) == date(2026, 10, 1)  # this year's October


async def test_the_october_check_entered_on_3_october_2026_falls_due_in_october_2026(zl, provider, medewerker, clock):
    """Issue 14 point 6: "Zijn tekortkomingen nog aanwezig in oktober?" entered on Saturday 3 October 2026 is this
    October's check, due Monday 5 October 2026 -- what ``trede calendar add 2026-10-03 oktober`` prints
    (tests/test_cli.py) -- and not October 2027."""
    escalation = await _open(zl, provider, medewerker, clock)
    await services.transition(zl, escalation.id, "monitoren_plan", actor=medewerker, motivation="Plan akkoord.",
                              clock=clock)  # fmt: skip
    recovered = (await deadlines(zl, escalation.id))["hersteld"]
    clock.set(at(2026, 10, 3, 10))  # the sweep acts on the missed recovery term only now: the step starts today
    assert await services.act_on_missed_deadline(zl, recovered.id, clock)
    assert (await zl.get(Escalation, escalation.id)).current_step == "controle_oktober"
    october = (await deadlines(zl, escalation.id))["tekortkomingen_oktober"]
    cli = due_date_for(date(2026, 10, 3), "oktober", calendar_for_region_file(None, None))  # what the CLI prints
    assert due_day(october) == cli.due_date == date(2026, 10, 5)
    assert october.reasons == ["verschoven: zaterdag (3 oktober 2026)", "verschoven: zondag (4 oktober 2026)"]


async def test_a_plan_handed_over_in_the_quarterly_talk_meets_the_term_and_stops_the_follow_up(
    zl, provider, medewerker, clock
):
    """Issue 14 point 3: the region records a delivery it received outside the portal (date, channel, optional
    file): it meets the provider's term, the ladder's reaction follows (point 4: propose monitoring), and the
    automatic follow-up stops -- no missed term, no official letter proposed when the term would have ended."""
    escalation = await _open(zl, provider, medewerker, clock)
    storage = letter_storage()
    key = "documents/2026-ontvangst-plan"
    stored = storage.put(key, io.BytesIO(b"%PDF-1.4 plan van aanpak"), "application/pdf")
    received = ReceivedFile(key, stored.size, stored.sha256, "application/pdf", "plan-van-aanpak.pdf")
    clock.set(at(2026, 3, 12, 15))
    [met] = await services.record_receipt(zl, escalation.id, kind="plan_van_aanpak", received_on=date(2026, 3, 10),
                                          channel="overleg", note="Overhandigd in het kwartaalgesprek.",
                                          received=received, actor=medewerker, clock=clock)  # fmt: skip
    assert met.key == "plan_binnen" and met.status == "met" and met.met_at == at(2026, 3, 10, 0)
    recorded, gehaald, reaction = (await events(zl, escalation.id))[-3:]
    assert recorded.kind == "ontvangst_vastgelegd" and recorded.visibility == "shared"
    assert recorded.payload["kanaal"] == "overleg" and recorded.payload["bestandsnaam"] == "plan-van-aanpak.pdf"
    [document] = await zl.objects(Document).where(
        (Document.escalation == escalation.id) & (Document.kind != "brief"))  # fmt: skip
    assert (document.kind, document.object_key, document.uploaded_by) == ("plan_van_aanpak", key,
                                                                          medewerker.user_id)  # fmt: skip
    assert recorded.payload["document_id"] == str(document.id)
    assert gehaald.kind == "termijn_gehaald" and gehaald.payload["te_laat"] is False
    assert reaction.kind == "volgende_stap_voorgesteld" and reaction.payload["stap"] == "monitoren_plan"

    clock.set(at(2026, 3, 17, 0, 5))  # the day after the plan's term would have ended
    assert await services.due_deadlines(clock) == []
    mark = await last_sequence(zl, escalation.id)
    assert await services.act_on_missed_deadline(zl, met.id, clock) is False
    assert await last_sequence(zl, escalation.id) == mark
    proposals = await zl.objects(StepProposal).where(StepProposal.escalation == escalation.id)
    assert [p.step for p in proposals] == ["monitoren_plan"]  # never the official letter


async def test_a_plan_delivered_before_the_sweep_ran_is_met_and_recorded_late(zl, provider, medewerker, clock):
    escalation = await _open(zl, provider, medewerker, clock)
    plan = (await deadlines(zl, escalation.id))["plan_binnen"]
    clock.set(at(2026, 3, 18, 9))  # the worker was down; the term ended on 16 March
    met = await services.meet_deadlines_for_document(zl, escalation.id, "plan_van_aanpak", clock.now())
    assert [d.id for d in met] == [plan.id] and met[0].status == "met" and met[0].met_at == clock.now()
    event = (await events(zl, escalation.id))[-2]
    assert event.kind == "termijn_gehaald" and event.payload["te_laat"] is True and event.visibility == "shared"
    assert await services.act_on_missed_deadline(zl, plan.id, clock) is False  # nothing to act on any more
    assert await services.due_deadlines(clock) == []
    assert (await zl.get(type(escalation), escalation.id)).current_step == "verzoek_plan_van_aanpak"
    before = await last_sequence(zl, escalation.id)
    assert await services.meet_deadlines_for_document(zl, escalation.id, "plan_van_aanpak", clock.now()) == []
    assert await last_sequence(zl, escalation.id) == before


async def test_due_dates_follow_the_atw_and_the_regions_closed_days(zl, provider, medewerker, clock):
    clock.set(at(2026, 3, 23))  # "2 weken" ends on Tweede Paasdag, 6 April 2026
    easter = await _open(zl, provider, medewerker, clock)
    plan = (await deadlines(zl, easter.id))["plan_binnen"]
    assert due_day(plan) == date(2026, 4, 7)
    assert plan.reasons == ["verschoven: Tweede Paasdag (6 april 2026)"]

    clock.set(at(2026, 2, 3))  # ends on Zuid-Limburg's own closed day, Carnavalsdinsdag 17 February 2026
    carnival = await _open(zl, provider, medewerker, clock)
    plan = (await deadlines(zl, carnival.id))["plan_binnen"]
    assert due_day(plan) == date(2026, 2, 18)
    assert plan.reasons == ["verschoven: Carnavalsdinsdag (kantoren gesloten) (17 februari 2026)"]
    opened = (await events(zl, carnival.id))[0]
    assert opened.payload["nieuwe_termijnen"][0]["redenen"] == plan.reasons
