"""The escalation page's step forms (issue 14): a step the ladder allows but whose precondition does not hold shows
why it is closed, and goes on only on a BW 6:83 exception the ladder allows; the decider sets the reasonable term of
an ingebrekestelling on the confirm step, and the letter and the deadline follow it."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from apps.documents.tables import Document
from apps.escalations.tables import Deadline, LetterDelivery, TimelineEvent
from core.clock import FrozenClock
from core.tenancy import RegionScope
from tests.accounts.support import app_client, login
from tests.api.conftest import KOMPAS_KVK, at
from tests.browser_support import NuChecker
from tests.letter_fields import form_fields, step_form
from tests.plain_dutch import leaks
from tests.workspace.support import ZL, escalation_of, field_error, post_form, textarea_value
from tests.workspace.test_processes_html import LEK, Browser

TERM = "herstel_na_ingebrekestelling"  # the contract ladder's term of the ingebrekestelling (4 weken)


def step_block(html: str, key: str) -> str:
    """The step's block on the page (its <details>)."""
    return re.search(rf'<details class="trede-actie" id="stap-{key}".*?</details>', html, re.S).group(0)


def textbox_value(html: str, field_id: str) -> str:
    match = re.search(rf'<input type="text"[^>]* id="{re.escape(field_id)}"[^>]* value="([^"]*)"', html)
    return match.group(1) if match else ""


@pytest.fixture
async def lotte(world, oidc_settings):
    """Lekstroom's purchasing officer on 2 March 2026, with a new contract escalation (at step "analyse")."""
    async with app_client(oidc_settings) as http:
        await login(http, "lek-inkoop")
        browser = Browser(http, FrozenClock(at(2026, 3, 2)))
        url = await browser.open_by_triage(LEK, KOMPAS_KVK, "contract/contract/onrechtmatig_declareren",
                                           "Declaraties zonder geleverde zorg.")  # fmt: skip
        yield browser, url


async def test_a_closed_step_says_why_and_has_no_submit_button(world, oidc_settings):
    escalation = await escalation_of("90000001")  # demo: Zuid-Limburg safety ladder, at "gesprek_direct"
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        await post_form(http, f"{url}/stap", {"naar": "afspraken_per_brief", "motivering": "Afspraken vastgelegd.",
                                              "bevestigd": "ja", **step_form("afspraken_per_brief")})  # fmt: skip
        closed = step_block((await http.get(url)).text, "zittende_clienten")
        assert "nog niet mogelijk: eerst instroomstop" in closed
        assert "leg eerst de instroomstop op" in closed and 'type="submit"' not in closed
        assert "Uitzondering van artikel 6:83 BW" not in closed  # the ladder allows none here
        forged = await post_form(http, f"{url}/stap", {"naar": "zittende_clienten", "motivering": "Toch."})
        assert forged.status_code == 422 and "leg eerst de instroomstop op" in forged.text
        assert 'type="submit"' not in step_block(forged.text, "zittende_clienten")


async def test_verzuim_on_a_recorded_bw_6_83_exception_from_the_page(lotte):
    browser, url = lotte
    http = browser.http
    verzuim = step_block((await http.get(url)).text, "verzuim")
    assert "nog niet mogelijk: eerst ingebrekestelling, termijn verstreken" in verzuim
    assert "Verzuim treedt pas in na een ingebrekestelling" in verzuim
    assert "<legend" in verzuim and "Uitzondering van artikel 6:83 BW</legend>" in verzuim
    assert re.findall(r'name="uitzondering" value="([a-z_]+)"', verzuim) == [
        "fatale_termijn",
        "nakoming_blijvend_onmogelijk",
        "weigering_nakoming",
    ]
    assert "U heeft ons laten weten dat u de verplichting niet zult nakomen" in verzuim
    assert 'type="submit"' in verzuim  # the exception opens the way on

    form = {"naar": "verzuim", "motivering": "De bestuurder schreef op 1 maart dat zij niet herstellen.",
            "sleutel": "verzuim-1"}  # fmt: skip
    refused = await post_form(http, f"{url}/stap", form)  # no exception chosen
    assert refused.status_code == 422
    assert "Verzuim treedt pas in na een ingebrekestelling" in field_error(refused.text, "uitzondering-verzuim")
    assert textarea_value(refused.text, "motivering-verzuim") == form["motivering"]  # nothing typed is lost
    htmx = await post_form(http, f"{url}/stap", form, htmx=True)
    assert htmx.status_code == 200 and htmx.headers["HX-Retarget"] == "#stap-verzuim"
    assert "Verzuim treedt pas in" in field_error(htmx.text, "uitzondering-verzuim")

    chosen = {**form, "uitzondering": "weigering_nakoming"}
    confirm = await post_form(http, f"{url}/stap", chosen)
    assert confirm.status_code == 200 and "Bevestig: stap ‘4. Verzuim’" in confirm.text
    assert "Uitzondering van artikel 6:83 BW:</span> U heeft ons laten weten" in confirm.text
    assert "Een ingebrekestelling is niet nodig, omdat u heeft ons laten weten" in confirm.text  # the preview
    assert confirm.text.count('name="uitzondering" value="weigering_nakoming"') == 2  # PDF preview and confirm
    pdf = await post_form(http, f"{url}/brief-voorbeeld", {**chosen, "brief": "verzuim"})
    assert "Een ingebrekestelling is niet nodig" in pdf_text(pdf.content)
    done = await post_form(http, f"{url}/stap", {**chosen, "bevestigd": "ja"})
    assert done.status_code == 303
    page = (await http.get(url)).text
    assert "Uitzondering van artikel 6:83 BW vastgelegd: u heeft ons laten weten" in page  # the timeline
    escalation_id = url.rsplit("/", 1)[1]
    moves = TimelineEvent.objects().where(
        (TimelineEvent.escalation == escalation_id) & (TimelineEvent.kind == "stap_gewijzigd"))  # fmt: skip
    [move] = await moves.output(load_json=True)
    assert move.payload["uitzondering"]["grond"] == "weigering_nakoming"
    assert "Een ingebrekestelling is niet nodig, omdat u heeft ons laten weten" in await sent_letter(http, url)

    # an exception where none is needed is refused next to the field
    ontbinding = {"naar": "ingebrekestelling", "motivering": "Nog een brief.", "uitzondering": "fatale_termijn"}
    refused = await post_form(http, f"{url}/stap", ontbinding)
    assert refused.status_code == 422 and "geen uitzondering nodig" in refused.text


async def test_the_decider_sets_the_reasonable_term_of_the_ingebrekestelling(lotte):
    browser, url = lotte
    http = browser.http
    field = f"termijn-ingebrekestelling-{TERM}"
    form = {"naar": "ingebrekestelling", "motivering": "Ernstige afwijking in de declaraties.", "sleutel": "ib-1"}
    confirm = await post_form(http, f"{url}/stap", form)
    assert confirm.status_code == 200 and "Redelijke termijn" in confirm.text
    assert textbox_value(confirm.text, field) == "4 weken"  # the ladder's term
    assert "4 weken na ontvangst van deze brief, dus uiterlijk <strong>30 maart 2026</strong>" in confirm.text
    # the consequence starts with the ladder's text, the shortcoming with the summary typed at opening (which the
    # letter prints only once the decider confirms it here); what to do is the decider's to write
    assert textarea_value(confirm.text, "veld-ingebrekestelling-gevolg").startswith("Wij kunnen dan de maatregelen")
    assert textarea_value(confirm.text, "veld-ingebrekestelling-tekortkoming") == "Declaraties zonder geleverde zorg."
    assert textarea_value(confirm.text, "veld-ingebrekestelling-verbetering") == ""
    empty = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja"})
    assert empty.status_code == 422
    assert field_error(empty.text, "veld-ingebrekestelling-tekortkoming") == (
        "Fout: Beschrijf de tekortkoming: wat komt de aanbieder niet na?")  # fmt: skip
    assert "Vul in wat het gevolg is" in field_error(empty.text, "veld-ingebrekestelling-gevolg")

    bad = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja", f"termijn_{TERM}": "zes weken lang"})
    assert bad.status_code == 422 and "geen termijn" in field_error(bad.text, field)
    assert textbox_value(bad.text, field) == "zes weken lang"  # what was typed stays
    assert 'name="motivering" value="Ernstige afwijking in de declaraties."' in bad.text
    htmx = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja", f"termijn_{TERM}": "1 april"}, htmx=True)
    assert htmx.status_code == 200 and htmx.headers["HX-Retarget"] == "#stap-ingebrekestelling"
    assert "geen termijn" in field_error(htmx.text, field)

    six = {**form, "bevestigd": "ja", f"termijn_{TERM}": "6 weken", **form_fields("ingebrekestelling")}
    preview = await post_form(http, f"{url}/stap", {**six, "voorbeeld": "ja"})  # "Voorbeeld bijwerken"
    assert preview.status_code == 200
    assert "6 weken na ontvangst van deze brief, dus uiterlijk <strong>13 april 2026</strong>" in preview.text
    assert textbox_value(preview.text, field) == "6 weken"
    done = await post_form(http, f"{url}/stap", six)
    assert done.status_code == 303
    escalation_id = url.rsplit("/", 1)[1]
    deadline = await Deadline.objects().where((Deadline.escalation == escalation_id) & (Deadline.key == TERM)).first()
    assert deadline.term == "6 weken" and deadline.due_at.date() == date(2026, 4, 13)  # 6 weeks from 2 March
    page = (await http.get(url)).text
    assert "Redelijke termijn gesteld op 6 weken (de ladder noemt 4 weken)" in page and "13 april 2026" in page
    letter = await sent_letter(http, url)
    assert "6 weken na ontvangst van deze brief, dus uiterlijk 13 april 2026" in " ".join(letter.split())
    assert "in de zin van artikel 6:82" in letter


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def sent_letter(http, url: str) -> str:
    """The text of the last letter sent in the escalation, from storage."""
    escalation_id = url.rsplit("/", 1)[1]
    event = await TimelineEvent.objects().where(
        (TimelineEvent.escalation == escalation_id) & (TimelineEvent.kind == "brief_verstuurd")
    ).order_by(TimelineEvent.sequence, ascending=False).output(load_json=True).first()  # fmt: skip
    document = await RegionScope(event.region).get(Document, event.payload["document_id"])
    return pdf_text(b"".join(http.app.state.storage.open(document.object_key)))


async def test_a_written_warning_asks_for_its_instructions_and_its_term_on_the_confirm_step(lotte):
    """The written warning gives a reasonable term too (the ladder's 4 weken is the default): the confirm step offers
    it beside the letter's fields, and the letter the provider reads has both."""
    browser, url = lotte
    http = browser.http
    form = {"naar": "schriftelijke_waarschuwing", "motivering": "Afwijking in de declaraties.", "sleutel": "sw-1"}
    confirm = await post_form(http, f"{url}/stap", form)
    assert confirm.status_code == 200
    assert textbox_value(confirm.text, "termijn-schriftelijke_waarschuwing-aanwijzingen_opgevolgd") == "4 weken"
    assert textarea_value(confirm.text, "veld-schriftelijke_waarschuwing-aanwijzingen") == ""
    refused = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja"})
    assert refused.status_code == 422
    assert "Vul de aanwijzingen in" in field_error(refused.text, "veld-schriftelijke_waarschuwing-aanwijzingen")
    done = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja", "termijn_aanwijzingen_opgevolgd": "6 weken",
                                                 **form_fields("schriftelijke_waarschuwing")})  # fmt: skip
    assert done.status_code == 303
    letter = " ".join((await sent_letter(http, url)).split())
    assert "Met deze brief geven wij u een schriftelijke waarschuwing." in letter
    assert "binnen 6 weken na ontvangst van deze brief, dus uiterlijk 13 april 2026" in letter
    assert "is de stap" not in letter


async def test_a_registered_notice_counts_from_its_receipt_on_the_page(lotte):
    """BW 3:37 lid 3 on the escalation page: the preview of a registered ingebrekestelling states its term from the
    expected receipt; after the term, verzuim waits for the decider's reason why the notice counts as received (next
    to the step and the field); a receipt recorded later moves the term on, and verzuim is closed with until when."""
    browser, url = lotte
    http = browser.http
    form = {"naar": "ingebrekestelling", "motivering": "Ernstige afwijking in de declaraties.", "sleutel": "ib-post"}
    registered = {**form, "bevestigd": "ja", "verzending": "aangetekend", **form_fields("ingebrekestelling")}
    preview = await post_form(http, f"{url}/stap", {**registered, "voorbeeld": "ja"})
    assert preview.status_code == 200
    assert "Deze brief komt aangetekend per post: ontvangt u hem op 3 maart 2026, dan eindigt de termijn op " \
           "<strong>31 maart 2026</strong>" in preview.text  # fmt: skip
    assert (await post_form(http, f"{url}/stap", registered)).status_code == 303

    http.app.state.clock.set(at(2026, 4, 1, 9))  # counted from the expected receipt, the term ended on 31 March
    verzuim = step_block((await http.get(url)).text, "verzuim")
    assert "ontvangst brief niet vastgelegd" in verzuim and "nog niet mogelijk" not in verzuim
    assert "(aangetekend verstuurd op 2 maart 2026) is niet vastgelegd" in verzuim
    asked = {"naar": "verzuim", "motivering": "Gebreken niet verholpen.", "sleutel": "verzuim-post"}
    refused = await post_form(http, f"{url}/stap", asked)
    assert refused.status_code == 422 and "is niet vastgelegd" in field_error(refused.text, "ontvangst-verzuim")
    assert textarea_value(refused.text, "motivering-verzuim") == asked["motivering"]  # nothing typed is lost
    checker = NuChecker()  # valid HTML and plain Dutch, with the question asked and after the receipt
    checker.add(refused.text, "verzuim: waarom geldt de brief als ontvangen?")
    assert leaks(re.sub(r"<[^>]+>", " ", step_block(refused.text, "verzuim"))) == []

    letter = await LetterDelivery.objects().where(LetterDelivery.escalation == url.rsplit("/", 1)[1]).first()
    received = await post_form(http, f"{url}/brief-ontvangst", {"brief": str(letter.id), "wijze": "aangetekend",
                                                                "ontvangen_op": "2026-03-05"})  # fmt: skip
    assert received.status_code == 303
    page = (await http.get(url)).text
    closed = step_block(page, "verzuim")
    assert "nog niet mogelijk" in closed and "loopt nog tot en met 2 april 2026, gerekend vanaf de ontvangst van de " \
           "brief op 5 maart 2026" in closed  # fmt: skip
    assert "Termijn herberekend vanaf ontvangst" in page and "De termijn eindigt nu op 2 april 2026" in page
    checker.add(page, "verzuim: termijn loopt nog")
    assert leaks(re.sub(r"<[^>]+>", " ", closed)) == [] and checker.errors() == []
