"""A letter per legal kind (issue 16 point 1): the decider fills the kind's fields (measures 5a-5d of the contract
ladder), the service refuses the step without them in Dutch per field, the decision stores them (event and audit)
and the letter the provider reads prints them -- with no placeholder and no ladder comment."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from apps.audit.tables import AuditEntry
from apps.documents.tables import Document
from apps.escalations import services
from apps.escalations.context import load_context
from apps.escalations.letter_fields import LetterFieldsError, page_fields, step_fields
from apps.escalations.letters import letter_storage, previews
from apps.escalations.tables import TimelineEvent
from apps.ladders.letter_kinds import KINDS, check_fields, parse_amount
from apps.ladders.schema import SendLetter, StepSpec
from tests.escalations.conftest import at
from tests.letter_fields import (
    CLIENTS,
    CONSEQUENCE,
    GROUNDS,
    IMPROVEMENT,
    INSTRUCTIONS,
    LETTER_FIELDS,
    SHORTCOMING,
)
from tests.plain_dutch import leaks


async def _opened(lek, provider, medewerker, clock):
    return await services.open_escalation(
        lek, provider=provider, ladder_key="contract", category="contract", subcategory="onrechtmatig_declareren",
        summary="Declaraties zonder geleverde zorg.", motivation="Data-analyse.", actor=medewerker, clock=clock,
    )  # fmt: skip


async def _sent_text(lek, escalation_id) -> str:
    """The text of the last letter sent, read from the stored PDF the provider downloads (plain Dutch)."""
    rows = await lek.objects(TimelineEvent).where(
        (TimelineEvent.escalation == escalation_id) & (TimelineEvent.kind == "brief_verstuurd")
    ).order_by(TimelineEvent.sequence)
    document = await lek.get(Document, rows[-1].payload["document_id"])
    data = b"".join(letter_storage().open(document.object_key))
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)
    assert leaks(text) == [], text  # plain Dutch: no field key, no code word, no id
    return text


def test_amounts_dates_and_payment_terms_are_read_as_a_dutch_decider_types_them():
    assert parse_amount("12.500,00") == Decimal("12500.00") and parse_amount("€ 12500,5") == Decimal("12500.5")
    assert parse_amount("1234.56") == Decimal("1234.56") and parse_amount("1.234") == Decimal("1234")
    assert parse_amount("twaalf") is None and parse_amount("1,2,3") is None
    today = date(2026, 12, 8)
    checked = check_fields(KINDS["terugvordering"], {"bedrag": "-5", "periode": "2026", "rente_en_kosten": "misschien",
                                                     "betaaltermijn": "30 dagen"}, today)  # fmt: skip
    assert checked.errors == {"bedrag": "‘-5’ is geen bedrag. Schrijf een bedrag in euro, bijvoorbeeld ‘12.500,00’.",
                              "rente_en_kosten": "Kies ‘ja’ of ‘nee’ bij wettelijke rente en kosten."}  # fmt: skip
    assert checked.texts["betaaltermijn"] == "binnen 30 dagen na de datum van deze brief, dus uiterlijk 7 januari 2027"
    one_day = check_fields(KINDS["boete"], {"betaaltermijn": "1 dag"}, today).texts["betaaltermijn"]
    assert one_day == "binnen 1 dag na de datum van deze brief, dus uiterlijk 9 december 2026"
    dates = check_fields(KINDS["ontbinding"], {"ingangsdatum": "7-12-2026"}, today)
    assert dates.errors["ingangsdatum"] == "Deze datum kan niet vóór vandaag (8 december 2026) liggen."
    assert dates.errors["gronden"].startswith("Vul de gronden in")
    assert check_fields(KINDS["boete"], {"betaaltermijn": "8-12-2026"}, today).errors["betaaltermijn"] == (
        "De betaaltermijn moet na vandaag eindigen.")  # fmt: skip


def test_a_letter_field_refuses_control_characters_but_a_text_keeps_its_line_breaks():
    today = date(2026, 12, 7)
    checked = check_fields(KINDS["boete"], {"artikel": "artikel 20.2\nvan de overeenkomst"}, today)
    assert checked.errors["artikel"] == "Deze regel mag geen regelovergang, tab of ander stuurteken bevatten."
    grounds = check_fields(KINDS["ontbinding"], {"gronden": "Eerste grond.\r\nTweede grond.\x00"}, today)
    assert grounds.errors["gronden"] == "Deze tekst bevat een stuurteken dat niet in een brief kan staan."
    kept = check_fields(KINDS["ontbinding"], {"gronden": "Eerste grond.\r\nTweede grond."}, today)
    assert "gronden" not in kept.errors and kept.texts["gronden"] == "Eerste grond.\r\nTweede grond."


async def test_recovery_needs_amount_period_interest_and_term_and_the_letter_prints_them(
    scopes, provider, medewerker, lead, clock
):
    lek = scopes["lekstroom"]
    escalation = await _opened(lek, provider, medewerker, clock)
    before = len(await lek.objects(TimelineEvent).where(TimelineEvent.escalation == escalation.id))
    with pytest.raises(LetterFieldsError) as refused:
        await services.transition(lek, escalation.id, "terugvordering", actor=lead, motivation="Onrechtmatig.",
                                  clock=clock,
                                  letter_fields={"bedrag": "twaalfduizend", "periode": "Q1 2026"})  # fmt: skip
    assert refused.value.errors == {
        "bedrag": "‘twaalfduizend’ is geen bedrag. Schrijf een bedrag in euro, bijvoorbeeld ‘12.500,00’.",
        "rente_en_kosten": "Kies of de regio wettelijke rente en kosten rekent.",
        "betaaltermijn": "Vul de betaaltermijn in.",
    }
    assert len(await lek.objects(TimelineEvent).where(TimelineEvent.escalation == escalation.id)) == before

    [preview] = await previews(lek, escalation.id, "terugvordering", "Onrechtmatig.", clock,
                               fields={"bedrag": "12.500"})  # fmt: skip
    assert "<strong>€ 12.500,00</strong>" in preview.body_html and "[in te vullen: periode]" in preview.body_html

    result = await services.transition(lek, escalation.id, "terugvordering", actor=lead, motivation="Onrechtmatig.",
                                       clock=clock, letter_fields=LETTER_FIELDS["terugvordering"])  # fmt: skip
    recorded = result.event.payload["brief_velden"]
    assert recorded["bedrag"] == {"veld": "Bedrag", "waarde": "12500.00", "tekst": "€ 12.500,00"}
    assert recorded["betaaltermijn"]["waarde"] == {"dagen": 30, "datum": "2026-04-01"}
    entries = await lek.objects(AuditEntry).where(AuditEntry.action == "escalation.transition")
    [audit] = [e for e in entries if e.detail.get("naar") == "terugvordering"]
    assert audit.detail["brief_velden"]["periode"]["tekst"] == "1 januari 2026 tot en met 30 juni 2026"
    text = await _sent_text(lek, escalation.id)
    assert "Wij hebben besloten een bedrag van € 12.500,00 van u terug te vorderen" in text
    assert "over de periode 1 januari 2026 tot en met 30 juni 2026" in text
    assert "binnen 30 dagen na de datum van deze brief, dus uiterlijk 1 april 2026" in text
    assert "wettelijke rente (artikel 6:119 BW)" in text and "kosten van de invordering" in text
    assert "in te vullen" not in text and "inclusief de mogelijkheid" not in text  # no placeholder, no ladder note


async def test_set_off_fine_and_client_stop_print_their_substance(scopes, provider, medewerker, lead, clock):
    lek = scopes["lekstroom"]
    escalation = await _opened(lek, provider, medewerker, clock)
    await services.transition(lek, escalation.id, "verrekening", actor=lead, motivation="Verrekenen.", clock=clock,
                              letter_fields=LETTER_FIELDS["verrekening"])  # fmt: skip
    text = await _sent_text(lek, escalation.id)
    assert "een bedrag van € 8.250,50 te verrekenen met uw toekomstige declaraties" in text
    assert "Wij verrekenen vanaf 1 juni 2030" in text and "geen wettelijke rente en geen kosten" in text

    await services.transition(lek, escalation.id, "boete", actor=lead, motivation="Boete.", clock=clock,
                              letter_fields=LETTER_FIELDS["boete"])  # fmt: skip
    text = await _sent_text(lek, escalation.id)
    assert "op grond van artikel 20.2 van de Resultaatovereenkomst een boete op van € 5.000,00" in text
    assert "te betalen uiterlijk 1 juli 2030" in text

    with pytest.raises(LetterFieldsError, match="Reikwijdte: Vul de reikwijdte van de cliëntenstop in."):
        await services.transition(lek, escalation.id, "clientenstop", actor=lead, motivation="Stop.", clock=clock,
                                  letter_fields={"ingangsdatum": "1-6-2030"})  # fmt: skip
    await services.transition(lek, escalation.id, "clientenstop", actor=lead, motivation="Stop.", clock=clock,
                              letter_fields=LETTER_FIELDS["clientenstop"])  # fmt: skip
    text = await _sent_text(lek, escalation.id)
    assert "met ingang van 1 juni 2030 een cliëntenstop op" in text
    await services.transition(lek, escalation.id, "overdracht_clienten", actor=lead, motivation="Overdragen.",
                              clock=clock, letter_fields=LETTER_FIELDS["overdracht_clienten"])  # fmt: skip
    transfer = await _sent_text(lek, escalation.id)
    assert "over te dragen aan een andere aanbieder: alle cliënten met ambulante jeugd-GGZ" in transfer
    assert "De overdracht moet uiterlijk 1 juni 2030 zijn afgerond." in transfer
    assert "De cliëntenstop geldt voor: alle nieuwe cliënten, alle producten." in text


async def test_dissolution_is_an_unequivocal_declaration_with_grounds_date_and_clients(
    scopes, provider, medewerker, lead, clock
):
    """BW 6:267: the letter itself dissolves the contract, says why, from when, and what happens to the clients."""
    lek = scopes["lekstroom"]
    escalation = await _opened(lek, provider, medewerker, clock)
    clock.set(at(2026, 3, 10))
    with pytest.raises(LetterFieldsError) as refused:
        await services.transition(lek, escalation.id, "ontbinding", actor=lead, motivation="Weigert.", clock=clock,
                                  legal_exception="weigering_nakoming",
                                  letter_fields={**LETTER_FIELDS["ontbinding"], "ingangsdatum": "9-3-2026",
                                                 "gronden": ""})  # fmt: skip
    assert refused.value.errors == {
        "gronden": "Vul de gronden in: de brief zegt waarop het besluit rust.",
        "ingangsdatum": "Deze datum kan niet vóór vandaag (10 maart 2026) liggen.",
    }
    with pytest.raises(services.EscalationError, match="geen veld 'bedrag'"):
        await services.transition(lek, escalation.id, "ontbinding", actor=lead, motivation="Weigert.", clock=clock,
                                  legal_exception="weigering_nakoming",
                                  letter_fields={**LETTER_FIELDS["ontbinding"], "bedrag": "10"})  # fmt: skip
    result = await services.transition(lek, escalation.id, "ontbinding", actor=lead, motivation="Weigert.",
                                       clock=clock, legal_exception="weigering_nakoming",
                                       letter_fields={**LETTER_FIELDS["ontbinding"],
                                                      "ingangsdatum": "10-3-2026"})  # fmt: skip
    assert result.escalation.outcome == "ontbonden"
    assert result.event.payload["brief_velden"]["ingangsdatum"]["waarde"] == "2026-03-10"
    text = await _sent_text(lek, escalation.id)
    assert "ontbindt hiermee de overeenkomst met" in text and "met ingang van 10 maart 2026" in text
    assert f"Wij doen dit op de volgende gronden: {GROUNDS}" in text
    assert f"Wat dit betekent voor de cliënten die nu bij u in zorg zijn: {CLIENTS}" in text
    assert "is de stap" not in text and "in te vullen" not in text


async def test_lifting_a_client_stop_and_closing_send_their_own_letters(scopes, provider, medewerker, lead, clock):
    lek = scopes["lekstroom"]
    escalation = await _opened(lek, provider, medewerker, clock)
    await services.transition(lek, escalation.id, "boete", actor=lead, motivation="Boete.", clock=clock,
                              letter_fields=LETTER_FIELDS["boete"])  # fmt: skip
    await services.transition(lek, escalation.id, "clientenstop", actor=lead, motivation="Stop.", clock=clock,
                              letter_fields=LETTER_FIELDS["clientenstop"])  # fmt: skip
    clock.set(at(2026, 3, 16))
    await services.transition(lek, escalation.id, "clientenstop_opheffen", actor=lead, motivation="Wachtlijst weg.",
                              clock=clock)  # fmt: skip
    text = await _sent_text(lek, escalation.id)
    assert "Opheffing van de cliëntenstop" in text
    assert "Wij heffen de cliëntenstop die wij u hebben opgelegd met ingang van 16 maart 2026 op." in text
    assert "De volgende maatregelen blijven van kracht: boete." in text and "loopt door" in text
    result = await services.transition(lek, escalation.id, "afgesloten", actor=medewerker, motivation="Nagekomen.",
                                       clock=clock)  # fmt: skip
    assert result.escalation.status == "closed"
    text = await _sent_text(lek, escalation.id)
    assert "Afsluiting van de escalatie" in text and "Wij sluiten de escalatie met kenmerk L-2026-0001" in text
    assert "blijven van kracht totdat wij u schriftelijk iets anders laten weten: boete." in text


def test_a_ladder_version_stored_without_kinds_still_asks_for_the_fields_its_letter_prints():
    """Escalations keep the ladder version they were opened under: a fine letter of an older version (no ``kind``)
    asks for the article and amount too; a region's own letter of no kind asks only for the provider's reference
    (never required), like every letter; a step without a letter asks for nothing."""
    old = StepSpec(key="boete", title="Boete", on_enter=[SendLetter(action="send_letter", letter="maatregel_boete")])
    assert [f.key for f in step_fields(old)] == ["artikel", "bedrag", "betaaltermijn", "uw_kenmerk"]
    own = StepSpec(key="brief", title="Brief", on_enter=[SendLetter(action="send_letter", letter="eigen_brief")])
    assert [(f.key, f.required) for f in step_fields(own)] == [("uw_kenmerk", False)]
    assert step_fields(StepSpec(key="stil", title="Stil")) == []
    notice = StepSpec(key="ib", title="Ingebrekestelling",
                      on_enter=[SendLetter(action="send_letter", letter="ingebrekestelling")])  # fmt: skip
    assert [f.key for f in step_fields(notice)] == ["tekortkoming", "verbetering", "gevolg", "uw_kenmerk"]


def test_a_ladder_gives_a_letter_field_its_first_text_only_for_a_field_the_letter_has():
    letter = {"action": "send_letter", "letter": "ingebrekestelling", "kind": "ingebrekestelling"}
    assert SendLetter.model_validate({**letter, "defaults": {"gevolg": "Wij ontbinden dan."}}).defaults == {
        "gevolg": "Wij ontbinden dan."}  # fmt: skip
    for defaults, message in (({"bedrag": "10"}, "heeft geen veld 'bedrag'"), ({"gevolg": " "}, "is leeg")):
        with pytest.raises(ValueError, match=message):
            SendLetter.model_validate({**letter, "defaults": defaults})


async def test_an_ingebrekestelling_names_the_shortcoming_the_improvement_the_term_and_the_consequence(
    scopes, provider, medewerker, clock
):
    """BW 6:82: the letter says plainly it is a notice of default, what falls short, what the provider must do by
    which date, and what follows when the term passes; the consequence starts with the ladder's text."""
    lek = scopes["lekstroom"]
    escalation = await _opened(lek, provider, medewerker, clock)
    step = (await load_context(lek, escalation.id, clock)).step("ingebrekestelling")
    gevolg = next(f for f in page_fields(step) if f["key"] == "gevolg")
    assert gevolg["label"] == "Gevolg als de termijn verstrijkt"
    assert gevolg["default"].startswith("Wij kunnen dan de maatregelen nemen die de overeenkomst en de wet ons bieden")
    with pytest.raises(LetterFieldsError) as refused:
        await services.transition(lek, escalation.id, "ingebrekestelling", actor=medewerker, motivation="Ernstig.",
                                  clock=clock, letter_fields={"gevolg": CONSEQUENCE})  # fmt: skip
    assert refused.value.errors == {
        "tekortkoming": "Beschrijf de tekortkoming: wat komt de aanbieder niet na?",
        "verbetering": "Beschrijf wat de aanbieder binnen de termijn moet doen.",
    }
    [preview] = await previews(lek, escalation.id, "ingebrekestelling", "Ernstig.", clock,
                               fields={"tekortkoming": SHORTCOMING})  # fmt: skip
    assert "[in te vullen: wat de aanbieder binnen de termijn moet doen]" in preview.body_html

    result = await services.transition(lek, escalation.id, "ingebrekestelling", actor=medewerker,
                                       motivation="Ernstig.", clock=clock,
                                       term_overrides={"herstel_na_ingebrekestelling": "6 weken"},
                                       letter_fields=LETTER_FIELDS["ingebrekestelling"])  # fmt: skip
    assert result.event.payload["brief_velden"]["tekortkoming"] == {"veld": "De tekortkoming", "waarde": SHORTCOMING,
                                                                    "tekst": SHORTCOMING}  # fmt: skip
    entries = await lek.objects(AuditEntry).where(AuditEntry.action == "escalation.transition")
    [audit] = [e for e in entries if e.detail.get("naar") == "ingebrekestelling"]
    assert audit.detail["brief_velden"]["gevolg"]["tekst"] == CONSEQUENCE
    text = await _sent_text(lek, escalation.id)
    assert "Met deze brief stellen wij u in gebreke in de zin van artikel 6:82 van het Burgerlijk Wetboek" in text
    assert f"Het gaat om de volgende tekortkoming: {SHORTCOMING}" in text
    # through the portal the letter arrives the day it goes: the term counts from today (BW 3:37 lid 3)
    assert ("binnen een redelijke termijn van 6 weken na ontvangst van deze brief, dus uiterlijk 13 april 2026: u "
            "ontvangt deze brief vandaag in Trede, met een bericht per e-mail.") in text
    assert f"Wij vragen u binnen die termijn het volgende: {IMPROVEMENT}" in text
    assert f"zonder nadere ingebrekestelling in verzuim. Het gevolg daarvan is: {CONSEQUENCE}" in text
    assert "in te vullen" not in text and "standaardwaarde" not in text and "is de stap" not in text


async def test_a_written_warning_has_its_own_letter_and_the_verzuim_letter_cites_the_notice_whose_term_passed(
    scopes, provider, medewerker, clock
):
    """The written warning says what falls short, the instructions and the term; a verzuim rests on it once its
    term has passed, and its letter never says that a later notice's term, still running, has passed."""
    lek = scopes["lekstroom"]
    escalation = await _opened(lek, provider, medewerker, clock)
    incomplete = {**LETTER_FIELDS["schriftelijke_waarschuwing"], "aanwijzingen": ""}
    with pytest.raises(LetterFieldsError, match="Aanwijzingen: Vul de aanwijzingen in"):
        await services.transition(lek, escalation.id, "schriftelijke_waarschuwing", actor=medewerker,
                                  motivation="Afwijking.", clock=clock, letter_fields=incomplete)  # fmt: skip
    await services.transition(lek, escalation.id, "schriftelijke_waarschuwing", actor=medewerker,
                              motivation="Afwijking.", clock=clock,
                              letter_fields=LETTER_FIELDS["schriftelijke_waarschuwing"])  # fmt: skip
    text = await _sent_text(lek, escalation.id)
    assert "Schriftelijke waarschuwing" in text and "Met deze brief geven wij u een schriftelijke waarschuwing." in text
    assert f"Het gaat om de volgende tekortkoming: {SHORTCOMING}" in text
    assert f"Wij geven u de volgende aanwijzingen om de tekortkoming te herstellen: {INSTRUCTIONS}" in text
    assert "te herstellen binnen 4 weken na ontvangst van deze brief, dus uiterlijk 30 maart 2026" in text
    assert f"in verzuim. Het gevolg daarvan is: {CONSEQUENCE}" in text
    assert "is de stap" not in text and "standaardwaarde" not in text

    clock.set(at(2026, 3, 31))  # the warning's term has passed; a notice of default follows, its term runs
    await services.transition(lek, escalation.id, "ingebrekestelling", actor=medewerker, motivation="Ernstig.",
                              clock=clock, letter_fields=LETTER_FIELDS["ingebrekestelling"])  # fmt: skip
    [letter] = await previews(lek, escalation.id, "verzuim", "Niet hersteld.", clock)
    assert "Bij onze brief van 2 maart 2026 (‘Schriftelijke waarschuwing’)" in letter.body_html
    assert "tot en met 30 maart 2026 (4 weken)" in letter.body_html and "28 april 2026" not in letter.body_html
