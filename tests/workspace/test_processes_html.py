"""The five source processes (seeds 000..004) run from the browser alone: every step is a form post as a browser
without JavaScript sends it (then the redirect), following tests/api/test_processes.py. Time moves with a
FrozenClock in ``app.state.clock``; the deadline sweep runs in-process with the same clock."""

from __future__ import annotations

import io
import re
from contextlib import AsyncExitStack
from urllib.parse import urljoin

import pytest
from pypdf import PdfReader

from apps.documents.tables import Document
from apps.escalations.tables import Deadline, Escalation, TimelineEvent
from apps.tenancy.tables import Municipality, Region
from core.clock import FrozenClock
from core.tenancy import RegionScope
from tests.accounts.support import app_client, csrf_headers, login
from tests.api.conftest import ANKER_KVK, KOMPAS_KVK, SAMEN_STERK_KVK, VLINDER_KVK, at, sweep
from tests.api.test_processes import grant
from tests.letter_fields import START_STEPS, form_fields, step_form
from tests.workspace.support import field_error, post_form, provider

ZL, LEK, WBW = "/regio/zuid-limburg", "/regio/lekstroom", "/regio/west-brabant-west"


class Browser:
    """One logged-in person, on an app that shares the test's clock."""

    def __init__(self, http, clock: FrozenClock):
        self.http = http
        http.app.state.clock = clock

    async def open_by_triage(self, base: str, kvk: str, category: str, summary: str, **case: str) -> str:
        """File a signal, then triage it into a new escalation (``case``: a case ladder's fields, gemeente, kenmerk,
        professionals); the escalation page's path."""
        new = await self.http.get(f"{base}/signalen/nieuw")
        assert new.status_code == 200
        found = await provider(kvk)
        filed = await post_form(self.http, f"{base}/signalen/", {
            "gemeld_door": "Toegang", "omschrijving": summary, "aanbieder": str(found.id), "gemeente": ""})  # fmt: skip
        assert filed.status_code == 303, filed.text
        triage = filed.headers["location"]
        form = {"raakt_dvo": "ja", "besluit": "nieuw", "categorie": category, "samenvatting": summary,
                "motivering": "Signaal van de toegang; raakt de DVO.", **case}  # fmt: skip
        opened = await post_form(self.http, triage, form)
        if opened.status_code == 200:  # the start step sends a letter: it is previewed before anything goes
            assert "Bevestig: escalatie openen met 1 brief" in opened.text and "Voorbeeld van de brief" in opened.text
            assert 'name="veld_tekortkoming"' in opened.text  # the letter's shortcoming, to confirm or rewrite
            start = START_STEPS.get(category.split("/")[1], "")
            opened = await post_form(self.http, triage, {**form, "bevestigd": "ja", **step_form(start)})
        assert opened.status_code == 303, opened.text
        return opened.headers["location"].split("?")[0]

    async def step(self, url: str, to: str, motivation: str, letter: dict[str, str] | None = None) -> str:
        """Take the step through its form; ``letter``: the fields of its letter's kind, filled in on the confirm
        step (each offered there). Returns the confirm step's page ("" when the step had none)."""
        page = await self.http.get(url)
        assert f'id="stap-{to}"' in page.text, f"{to} is not offered on {url}"
        key = re.search(rf'name="naar" value="{to}">\s*<input type="hidden" name="sleutel" value="([0-9a-f]+)"',
                        page.text).group(1)  # fmt: skip
        form = {"naar": to, "motivering": motivation, "sleutel": key}
        answer = await post_form(self.http, f"{url}/stap", form)
        confirm = ""
        if answer.status_code == 200:  # the confirm step: municipalities and/or the letter's preview
            confirm = answer.text
            assert "Bevestig" in confirm
            assert all(f'name="{name}"' in confirm for name in letter or {})
            letter = step_form(to) if letter is None else letter  # what the decider fills in for the letter
            answer = await post_form(self.http, f"{url}/stap", {**form, "bevestigd": "ja", **letter})
        assert answer.status_code == 303, answer.text[:2000]
        return confirm

    async def deadline(self, url: str, key: str, action: str, **fields: str) -> None:
        deadline = await deadline_row(url, key)
        page = await self.http.get(url)
        due = re.search(rf'name="termijn" value="{deadline.id}">\s*<input type="hidden" name="handeling" '
                        rf'value="{action}">\s*<input type="hidden" name="vervaldatum" value="([^"]+)"',
                        page.text).group(1)  # fmt: skip
        form = {"termijn": str(deadline.id), "handeling": action, "vervaldatum": due, **fields}
        answer = await post_form(self.http, f"{url}/termijn", form)
        assert answer.status_code == 303, answer.text[:2000]
        events_before = await kinds(url)
        again = await post_form(self.http, f"{url}/termijn", form)  # a double submit changes nothing
        assert again.status_code == 422 and await kinds(url) == events_before

    async def state(self, url: str) -> Escalation:
        return await Escalation.objects().where(Escalation.id == url.rsplit("/", 1)[1]).first()


async def deadline_row(url: str, key: str) -> Deadline:
    escalation = await Escalation.objects().where(Escalation.id == url.rsplit("/", 1)[1]).first()
    return (
        await RegionScope(escalation.region)
        .objects(Deadline)
        .where((Deadline.escalation == escalation.id) & (Deadline.key == key))
        .first()
    )


async def kinds(url: str) -> list[str]:
    rows = await TimelineEvent.select(TimelineEvent.kind).where(
        TimelineEvent.escalation == url.rsplit("/", 1)[1]).order_by(TimelineEvent.sequence)  # fmt: skip
    return [r["kind"] for r in rows]


async def letters(url: str) -> list[str]:
    rows = await Document.select(Document.original_filename).where(Document.escalation == url.rsplit("/", 1)[1])
    return sorted(r["original_filename"] for r in rows)


@pytest.fixture
async def people(world, oidc_settings):
    await grant("beheer", "west-brabant-west", "inkoop_medewerker")
    await grant("beheer", "lekstroom", "inkoop_lead")
    clock = FrozenClock(at(2026, 3, 2))
    async with AsyncExitStack() as stack:
        found = {}
        for account in ("zl-inkoop", "zl-lead", "lek-inkoop", "beheer"):
            http = await stack.enter_async_context(app_client(oidc_settings))
            await login(http, account)
            found[account] = Browser(http, clock)
        yield found, clock


async def test_seed_000_zuid_limburg_safety_to_intake_stop_and_closed(people):
    (who, clock) = people
    ilse, luuk = who["zl-inkoop"], who["zl-lead"]
    url = await ilse.open_by_triage(ZL, VLINDER_KVK, "kwaliteit/veiligheid/vog_werknemers", "VOG's ontbreken.")
    await ilse.step(url, "afspraken_per_brief", "Gesprek gevoerd op 2 maart.")
    clock.advance(hours=1)
    await luuk.step(url, "instroomstop", "Drie medewerkers zonder VOG.")
    await ilse.step(url, "zittende_clienten", "Toegang en GI's geïnformeerd.")
    await ilse.step(url, "inspectie", "Inspectie vragen te visiteren.")
    clock.set(at(2026, 4, 20))
    await ilse.step(url, "herstel_beoordelen", "Nieuwe VOG's aangeleverd.")
    await luuk.step(url, "opheffen_en_afsluiten", "Alle VOG's geldig.")
    closed = await ilse.state(url)
    assert closed.status == "closed" and closed.outcome == "hersteld"
    found = await kinds(url)
    assert found.count("maatregel_gestart") == found.count("maatregel_beeindigd") == 1
    assert [name.split("-2026-03-02")[0].split("-", 3)[-1] for name in await letters(url)] == [
        "bevestiging-afspraken", "instroomstop-bericht", "opheffing-instroomstop-2026-04-20.pdf"]  # fmt: skip
    page = await ilse.http.get(url)
    assert "Afgesloten" in page.text and "Escalatie afgesloten" in page.text


async def test_seed_000_missed_plan_sends_the_official_letter_then_closed_by_form(people):
    (who, clock) = people
    ilse = who["zl-inkoop"]
    url = await ilse.open_by_triage(ZL, SAMEN_STERK_KVK, "kwaliteit/niet_veiligheid/administratief", "Dossiers.")
    clock.set(at(2026, 3, 17, 0, 5))
    await sweep(clock)
    # The sweep proposes the official letter and sends nothing: it waits on the work list for a person.
    assert (await ilse.state(url)).current_step == "verzoek_plan_van_aanpak"
    assert not any("officiele-brief" in name for name in await letters(url))
    home = await ilse.http.get(ZL)
    assert re.search(r'id="te-beoordelen-aantal">1<', home.text)
    work = await ilse.http.get(f"{ZL}/te-beoordelen")
    assert work.status_code == 200 and "termijn &#39;Plan van aanpak binnen?&#39; (2 weken) is verlopen" in work.text
    page = await ilse.http.get(url)
    assert 'id="te-beoordelen"' in page.text and "voorgesteld door de ladder" in page.text
    await ilse.step(url, "officiele_brief", "Geen plan ontvangen: officiële brief.")
    assert (await ilse.state(url)).current_step == "officiele_brief"
    assert any("officiele-brief-plan-van-aanpak" in name for name in await letters(url))
    assert not re.search(r'id="te-beoordelen-aantal">1<', (await ilse.http.get(ZL)).text)
    refused = await post_form(ilse.http, f"{url}/afsluiten", {"uitkomst": "", "motivering": "Plan toch ontvangen."})
    assert refused.status_code == 422 and "Kies de uitkomst" in refused.text and "Plan toch ontvangen." in refused.text
    form = {"uitkomst": "hersteld", "motivering": "Plan alsnog ontvangen en goedgekeurd."}
    assert (await post_form(ilse.http, f"{url}/afsluiten", form)).status_code == 303
    assert (await post_form(ilse.http, f"{url}/afsluiten", form)).status_code == 422  # already closed
    assert (await kinds(url)).count("escalatie_gesloten") == 1 and (await ilse.state(url)).outcome == "hersteld"


async def test_seed_west_brabant_west_dispute_route_with_a_suspended_term(people):
    (who, clock) = people
    bram = who["beheer"]
    # The triage form asks the dispute ladder's case (only that ladder has [case]), with the signal's municipality
    # chosen; Zuid-Limburg's ladders are about no case. A BSN is refused in Dutch.
    anker = await provider(ANKER_KVK)
    roosendaal = await Municipality.objects().where(Municipality.cbs_code == "GM1674").first()
    signal = {"gemeld_door": "Toegang Roosendaal", "omschrijving": "PIC.", "aanbieder": str(anker.id),
              "gemeente": str(roosendaal.id)}  # fmt: skip
    filed = await post_form(bram.http, f"{WBW}/signalen/", signal)
    triage = (await bram.http.get(filed.headers["location"])).text
    # one choice at a time: the case's fields come with the dispute's category; the signal's municipality goes along
    assert 'id="casus"' not in triage and '<input type="hidden" name="gemeente" value="GM1674">' in triage
    chosen = {"raakt_dvo": "ja", "besluit": "nieuw", "categorie": "toewijzing/geschil/pic", "gemeente": "GM1674",
              "verder": "ja"}  # fmt: skip
    triage = (await post_form(bram.http, filed.headers["location"], chosen)).text
    assert 'id="casus"' in triage and '<option value="GM1674" selected>Roosendaal</option>' in triage
    assert triage.count('name="kenmerk"') == 1 and "Kenmerk van de toegang (pseudoniem)" in triage
    ilse = who["zl-inkoop"]
    vlinder = await provider(VLINDER_KVK)
    zl_signal = await post_form(ilse.http, f"{ZL}/signalen/", {**signal, "aanbieder": str(vlinder.id), "gemeente": ""})
    assert 'id="casus"' not in (await ilse.http.get(zl_signal.headers["location"])).text
    case = {"gemeente": "GM1674", "kenmerk": "RSD-2026-0413", "professionals": "Jeugdprofessional toegang"}
    with pytest.raises(AssertionError, match="lijkt een burgerservicenummer"):
        await bram.open_by_triage(
            WBW, ANKER_KVK, "toewijzing/geschil/pic", "Geschil.", **{**case, "kenmerk": "111222333"}
        )
    url = await bram.open_by_triage(WBW, ANKER_KVK, "toewijzing/geschil/pic", "Geschil over het arrangement.", **case)
    page = (await bram.http.get(url)).text
    assert "wacht op levering van het arrangement" in page
    assert re.search(r'id="casus-gemeente">Roosendaal<', page) and 'id="casus-kenmerk">RSD-2026-0413 ' in page
    assert "pseudoniem kenmerk" in page and "Jeugdprofessional toegang" in page
    assert "kwaliteitjeugd.roosendaal@wbw.example" in page  # Roosendaal's lokale aanstuurder, from the region file
    clock.set(at(2026, 3, 4, 11))
    await bram.deadline(url, "arrangement_gereed", "opschorten", reden="Advies Expertteam gevraagd.")
    clock.set(at(2026, 3, 9, 8))
    await bram.deadline(url, "arrangement_gereed", "hervatten", reden="Advies ontvangen.")
    resumed = await deadline_row(url, "arrangement_gereed")
    assert resumed.status == "open" and "opgeschort van 4 maart 2026 tot 9 maart 2026" in resumed.reasons
    # The arrangement came by e-mail on Friday 6 March: recorded, it meets its term and starts the
    # municipality's 10 working days (to Friday 20 March).
    form = {
        "document": "arrangement",
        "ontvangen_op": "2026-03-06",
        "kanaal": "email",
        "toelichting": "Van de aanbieder.",
    }
    # The form is multipart: the file as it came in is optional (an empty file field is no file).
    no_file = {"bestand": ("", b"", "application/octet-stream")}
    future = await bram.http.post(f"{url}/ontvangst", data={**form, "ontvangen_op": "2026-03-10"}, files=no_file,
                                  headers=csrf_headers(bram.http))  # fmt: skip
    assert future.status_code == 422 and "De ontvangstdatum ligt in de toekomst." in future.text
    assert 'enctype="multipart/form-data"' in future.text and 'id="ontvangst-bestand"' in future.text
    arrangement = {"bestand": ("arrangement-pic.pdf", b"%PDF-1.4 arrangement", "application/pdf")}
    recorded = await bram.http.post(f"{url}/ontvangst", data=form, files=arrangement, headers=csrf_headers(bram.http))
    assert recorded.status_code == 303, recorded.text[:2000]
    assert (await deadline_row(url, "arrangement_gereed")).status == "met"
    assert (await kinds(url))[-3:] == ["ontvangst_vastgelegd", "termijn_gehaald", "termijn_gestart"]
    page = await bram.http.get(url)
    assert "20 maart 2026" in page.text and "Arrangement ontvangen op 6 maart 2026, per e-mail." in page.text
    download = re.search(r'href="([^"]+/documenten/[0-9a-f-]+)">arrangement-pic.pdf</a>', page.text)
    assert download, "the recorded file is on the timeline"
    assert (await bram.http.get(urljoin(url, download.group(1)))).content == b"%PDF-1.4 arrangement"
    no_token = await bram.http.post(f"{url}/ontvangst", data=form, files=arrangement)
    assert no_token.status_code == 403  # the upload checks the CSRF token itself
    clock.set(at(2026, 3, 21, 1))
    await sweep(clock)
    assert (await deadline_row(url, "reactie_arrangement")).status == "missed"
    for step in ("lokale_aanstuurder", "zi2t_advies", "geschillencommissie"):
        await bram.step(url, step, f"Opschalen: {step}.")
    await bram.step(url, "uitspraak", "Uitspraak ontvangen.")
    assert (await bram.state(url)).outcome == "uitspraak"


async def test_seed_contract_ladder_in_lekstroom_with_extensions_and_measures(people):
    (who, clock) = people
    lotte, bram = who["lek-inkoop"], who["beheer"]
    url = await lotte.open_by_triage(LEK, KOMPAS_KVK, "contract/contract/onrechtmatig_declareren", "Declaraties.")
    await lotte.step(url, "ingebrekestelling", "Ernstige afwijking in de declaraties.",
                     letter=form_fields("ingebrekestelling"))  # fmt: skip
    await lotte.deadline(url, "herstel_na_ingebrekestelling", "verlengen", nieuwe_termijn="6 weken",
                         reden="Redelijke termijn vastgesteld op 6 weken")  # fmt: skip
    await lotte.deadline(url, "herstel_na_ingebrekestelling", "verlengen", dagen="3", reden="Bestuurder ziek")
    term = await deadline_row(url, "herstel_na_ingebrekestelling")
    assert term.term == "6 weken" and "16 april 2026" in (await lotte.http.get(url)).text
    clock.set(at(2026, 4, 17, 9))  # verzuim only once the notice's term has passed (BW 6:81-83)
    await lotte.step(url, "verzuim", "Gebreken niet verholpen.")
    # The fine's letter needs its article, amount and payment term: refused next to the field until filled in.
    page = await bram.http.get(url)
    key = re.search(r'name="naar" value="boete">\s*<input type="hidden" name="sleutel" value="([0-9a-f]+)"',
                    page.text).group(1)  # fmt: skip
    form = {"naar": "boete", "motivering": "Art. 20.2.", "sleutel": key, "bevestigd": "ja", "veld_bedrag": "veel",
            "veld_artikel": "artikel 20.2 van de Resultaatovereenkomst"}  # fmt: skip
    refused = await post_form(bram.http, f"{url}/stap", form)
    assert refused.status_code == 422 and "Voorbeeld van de brief: Maatregel: boete" in refused.text
    assert field_error(refused.text, "veld-boete-bedrag") == (
        "Fout: ‘veel’ is geen bedrag. Schrijf een bedrag in euro, bijvoorbeeld ‘12.500,00’.")  # fmt: skip
    assert field_error(refused.text, "veld-boete-betaaltermijn") == "Fout: Vul de betaaltermijn in."
    assert "op grond van artikel 20.2 van de Resultaatovereenkomst een boete op van" in refused.text
    assert "[in te vullen: bedrag]" in refused.text  # the preview shows what is missing; nothing was sent
    assert not any("boete" in name for name in await letters(url))
    pdf = await post_form(bram.http, f"{url}/brief-voorbeeld", {"naar": "boete", "brief": "maatregel_boete",
                                                               "motivering": "Art. 20.2.", **form_fields("boete")})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    whole = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "een boete op van € 5.000,00" in whole and "te betalen uiterlijk 1 juli 2030" in whole
    confirm = await bram.step(url, "boete", "Art. 20.2 Resultaatovereenkomst.", form_fields("boete"))
    assert "Inhoud van de brief" in confirm and "[in te vullen: artikel van de overeenkomst]" in confirm
    await bram.step(url, "clientenstop", "Proportioneel na verzuim.", form_fields("clientenstop"))
    await bram.step(url, "clientenstop_opheffen", "Wachtlijst opgelost.")
    await lotte.step(url, "afgesloten", "Verplichtingen nagekomen.")
    assert (await lotte.state(url)).outcome == "nagekomen"
    assert any("ingebrekestelling" in name for name in await letters(url))


async def test_seed_lekstroom_quality_article_and_the_vng_continuity_ladder(people):
    (who, clock) = people
    lotte, ilse = who["lek-inkoop"], who["zl-inkoop"]
    url = await lotte.open_by_triage(LEK, VLINDER_KVK, "kwaliteit/kwaliteit/professionele_standaarden", "Kwaliteit.")
    clock.set(at(2026, 3, 10))
    await lotte.step(url, "verbetertraject", "Verbetertraject afgesproken op 10 maart.")
    clock.set(at(2026, 5, 12, 6))
    await sweep(clock)
    assert (await lotte.state(url)).current_step == "verbetertraject"  # proposed, with its letter to review
    await lotte.step(url, "tekortkoming", "Geen resultaat binnen 2 maanden.")
    assert (await lotte.state(url)).current_step == "tekortkoming"
    await lotte.step(url, "maatregelen_artikel_10", "Artikel 10 lid 3 toepassen.")
    assert (await lotte.state(url)).outcome == "tekortkoming"

    clock.set(at(2026, 3, 2))
    vng = await ilse.open_by_triage(ZL, VLINDER_KVK, "continuiteit/continuiteit/meerkosten", "Meerkosten.")
    clock.set(at(2026, 3, 24, 3))
    await sweep(clock)
    for step in ("accounthoudende_regio", "ozj", "jeugdautoriteit"):
        await ilse.step(vng, step, f"Opschalen: {step}.")
    await ilse.step(vng, "bestuurlijke_maatregelen", "Jeugdautoriteit bereidt maatregelen voor.")
    assert (await ilse.state(vng)).outcome == "bestuurlijke_maatregelen"
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    assert (await ilse.state(vng)).region == region.id
