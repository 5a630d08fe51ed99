"""Signal intake and triage (seed 000): the access team files, the purchasing team decides "raakt het de DVO?"."""

from __future__ import annotations

import re

from apps.audit.tables import AuditEntry
from apps.escalations.tables import Escalation, Signal
from apps.ladders.tables import LadderVersion
from tests.accounts.support import app_client, login
from tests.workspace.support import ZL, escalation_of, events, field_error, post_form, provider, zl_scope


async def file_as(oidc_settings, account: str, kvk: str, text: str):
    vlinder = await provider(kvk)
    async with app_client(oidc_settings) as http:
        await login(http, account, f"{ZL}/signalen/nieuw")
        form = await http.get(f"{ZL}/signalen/nieuw")
        assert form.status_code == 200 and "Signaal melden" in form.text
        response = await post_form(http, f"{ZL}/signalen", {
            "gemeld_door": "Tessa Toegang, toegang Maastricht", "aanbieder": str(vlinder.id), "omschrijving": text,
        })  # fmt: skip
        return response, http


async def test_access_team_files_a_signal_and_the_purchasing_team_hands_it_back(world, oidc_settings):
    response, _ = await file_as(oidc_settings, "zl-toegang", "90000001", "Ouders melden wisselende begeleiders.")
    assert response.status_code == 303 and response.headers["location"] == f"{ZL}/signalen/nieuw?ingediend=1"
    scope = await zl_scope()
    signal = await scope.objects(Signal).where(Signal.description == "Ouders melden wisselende begeleiders.").first()
    assert signal.status == "nieuw" and signal.touches_contract is None

    async with app_client(oidc_settings) as http:  # the access team files, but does not read the triage list
        await login(http, "zl-toegang")
        assert (await http.get(f"{ZL}/signalen")).status_code == 404
        assert (await http.get(f"{ZL}/signalen/{signal.id}")).status_code == 404

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        listing = await http.get(f"{ZL}/signalen")
        assert "Ouders melden wisselende begeleiders." in listing.text
        # "Nee" without a motivation: refused, the error next to the field
        refused = await post_form(http, f"{ZL}/signalen/{signal.id}", {"raakt_dvo": "nee", "motivering": " "})
        assert refused.status_code == 422
        assert "Geef een motivering" in field_error(refused.text, "motivering")
        done = await post_form(http, f"{ZL}/signalen/{signal.id}", {
            "raakt_dvo": "nee", "motivering": "Gaat over de planning van één gezin; toegang lost het op.",
        })  # fmt: skip
        assert done.status_code == 303
    signal = await scope.get(Signal, signal.id)
    assert signal.status == "teruggelegd" and signal.touches_contract is False and signal.escalation is None
    entry = (
        await AuditEntry.objects()
        .where((AuditEntry.action == "signal.handed_back") & (AuditEntry.target_id == str(signal.id)))
        .first()
    )
    assert entry is not None and entry.actor_label == "Ilse Inkoop"


async def test_yes_opens_an_escalation_on_the_ladder_and_category_chosen(world, oidc_settings):
    response, _ = await file_as(oidc_settings, "zl-inkoop", "90000002", "Twee medewerkers zonder geldige VOG.")
    assert response.status_code == 303 and "/signalen/" in response.headers["location"]
    triage_url = response.headers["location"]
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        page = await http.get(triage_url)
        assert "Raakt het signaal de DVO?" in page.text
        assert "Geen geldige VOG werknemers" not in page.text  # one choice at a time: no categories yet
        # "ja": what to do with it (Samen Sterk has a running escalation to attach it to), still no ladder
        step = await post_form(http, triage_url, {"raakt_dvo": "ja", "verder": "ja"})
        assert step.status_code == 200 and "Wat doet u met het signaal?" in step.text
        assert "Volgens welke ladder?" not in step.text and "Geen geldige VOG werknemers" not in step.text
        # a new escalation: the region's three ladders to choose from, no category of any of them
        step = await post_form(http, triage_url, {"raakt_dvo": "ja", "besluit": "nieuw", "verder": "ja"})
        assert "Volgens welke ladder?" in step.text and "Escalatiemodel kwaliteit jeugdhulp" in step.text
        assert "Escalatieladder niet-nakoming" in step.text and "Geen geldige VOG werknemers" not in step.text
        # the quality ladder (htmx: only the form comes back): its seven categories, none of the contract ladder's
        chosen = {"raakt_dvo": "ja", "besluit": "nieuw", "ladder": "kwaliteit", "samenvatting": "Getypt.",
                  "verder": "ja"}  # fmt: skip
        step = await post_form(http, triage_url, chosen, htmx=True)
        assert step.text.lstrip().startswith("<form") and "<html" not in step.text and 'id="triage"' in step.text
        for label in (
            "Geen geldige VOG werknemers",
            "Geen VOG vrijwilliger(s)",
            "Deskundigheid personeel",
            "Doeltreffendheid",
            "Cliëntwaarborgen",
            "Financiële voorwaarden",
            "Administratieve",
        ):
            assert label in step.text
        assert step.text.count('name="categorie"') == 7 and "Tekortkomingen in de doelmatigheid" not in step.text
        assert 'type="hidden" name="samenvatting" value="Getypt."' in step.text  # typed, not shown yet: kept
        assert 'name="motivering"' not in step.text  # no decision fields before a category
        # the category: now the summary and the motivation, and the button that opens the escalation
        step = await post_form(http, triage_url, {**chosen, "categorie": "kwaliteit/veiligheid/vog_werknemers"})
        assert 'id="samenvatting" name="samenvatting" value="Getypt."' in step.text and 'name="motivering"' in step.text
        assert "Escalatie openen" in step.text
        # the motivation is missing: refused next to the field, and the summary typed stays
        form = {"raakt_dvo": "ja", "besluit": "nieuw", "categorie": "kwaliteit/veiligheid/vog_werknemers",
                "samenvatting": "VOG's van twee medewerkers ontbreken.", "motivering": ""}  # fmt: skip
        refused = await post_form(http, triage_url, form)
        assert refused.status_code == 422
        assert "Geef een motivering" in field_error(refused.text, "motivering")
        assert 'value="VOG&#39;s van twee medewerkers ontbreken."' in refused.text
        assert 'value="kwaliteit/veiligheid/vog_werknemers" checked' in refused.text
        opened = await post_form(http, triage_url, {**form, "motivering": "Veiligheid van cliënten in het geding."})
        assert opened.status_code == 303
        location = opened.headers["location"]
        page = await http.get(location)
        assert page.status_code == 200 and "De escalatie is geopend." in page.text
    scope = await zl_scope()
    samen = await provider("90000002")
    escalation = (
        await scope.objects(Escalation)
        .where((Escalation.provider == samen.id) & (Escalation.category == "veiligheid"))
        .first()
    )
    assert str(escalation.id) in location
    assert (escalation.subcategory, escalation.current_step) == ("vog_werknemers", "gesprek_direct")
    version = await scope.get(LadderVersion, escalation.ladder_version)
    assert version.definition["key"] == "kwaliteit"
    signal = await scope.objects(Signal).where(Signal.escalation == escalation.id).first()
    assert signal.status == "geëscaleerd" and signal.touches_contract is True
    assert [e.kind for e in await events(escalation.id, "signaal_gekoppeld")] == ["signaal_gekoppeld"]
    assert await AuditEntry.exists().where(AuditEntry.action == "signal.escalated")


async def test_yes_can_attach_the_signal_to_an_open_escalation_of_the_provider(world, oidc_settings):
    response, _ = await file_as(oidc_settings, "zl-inkoop", "90000001", "Nog een medewerker zonder VOG.")
    existing = await escalation_of("90000001")
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        attached = await post_form(http, response.headers["location"], {
            "raakt_dvo": "ja", "besluit": "koppelen", "escalatie": str(existing.id),
            "motivering": "Hoort bij de lopende VOG-escalatie.",
        })  # fmt: skip
        assert attached.status_code == 303 and str(existing.id) in attached.headers["location"]
    scope = await zl_scope()
    signal = await scope.objects(Signal).where(Signal.description == "Nog een medewerker zonder VOG.").first()
    assert signal.status == "gekoppeld" and signal.escalation == existing.id
    linked = await events(existing.id, "signaal_gekoppeld")
    assert len(linked) == 1 and linked[0].visibility == "internal"


async def test_opening_never_sends_a_letter_unseen(world, oidc_settings):
    """Zuid-Limburg's non-safety start step sends the request for a plan of action: the open form shows the
    letter first; going back keeps what was typed; only the confirmation opens the escalation and sends it."""
    response, _ = await file_as(oidc_settings, "zl-inkoop", "90000002", "Rapportages ontbreken al twee kwartalen.")
    triage_url = response.headers["location"]
    form = {"raakt_dvo": "ja", "besluit": "nieuw", "categorie": "kwaliteit/niet_veiligheid/administratief",
            "samenvatting": "Kwartaalrapportages ontbreken.", "motivering": "Raakt de DVO."}  # fmt: skip
    scope = await zl_scope()
    before = await scope.count(Escalation)
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        preview = await post_form(http, triage_url, form)
        assert preview.status_code == 200
        assert "Bevestig: escalatie openen met 1 brief" in preview.text
        assert "Voorbeeld van de brief" in preview.text and "Kwartaalrapportages ontbreken." in preview.text
        # the letter's shortcoming is a field of the letter, first filled with the summary, for the person to confirm
        assert re.search(r'name="veld_tekortkoming"[^>]*>Kwartaalrapportages ontbreken\.<', preview.text)
        assert await scope.count(Escalation) == before  # nothing opened, nothing sent
        empty = await post_form(http, triage_url, {**form, "bevestigd": "ja", "veld_tekortkoming": ""})
        assert empty.status_code == 422 and "Beschrijf de tekortkoming" in empty.text  # next to the field
        assert await scope.count(Escalation) == before
        back = await post_form(http, triage_url, {**form, "bewerken": "ja"})
        assert back.status_code == 200 and "Escalatie openen" in back.text
        assert 'value="Kwartaalrapportages ontbreken."' in back.text
        opened = await post_form(http, triage_url, {**form, "bevestigd": "ja",
                                                     "veld_tekortkoming": "Kwartaalrapportages Q2 en Q3 ontbreken."})
        assert opened.status_code == 303
    assert await scope.count(Escalation) == before + 1



async def test_the_access_team_sees_the_signals_it_filed_with_their_status(world, oidc_settings):
    """Tessa (toegang Maastricht) finds what became of her signals, on the form and on her start page; a signal
    someone else filed is not hers."""
    mine, _ = await file_as(oidc_settings, "zl-toegang", "90000001", "Begeleider komt afspraken niet na.")
    assert mine.status_code == 303
    await file_as(oidc_settings, "zl-inkoop", "90000002", "Door het team zelf gemeld.")
    scope = await zl_scope()
    signal = await scope.objects(Signal).where(Signal.description == "Begeleider komt afspraken niet na.").first()
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        handed = await post_form(http, f"{ZL}/signalen/{signal.id}", {
            "raakt_dvo": "nee", "motivering": "Toegang lost het op met de aanbieder."})  # fmt: skip
        assert handed.status_code == 303
    async with app_client(oidc_settings) as http:
        await login(http, "zl-toegang", f"{ZL}/signalen/nieuw")
        for page in (await http.get(f"{ZL}/signalen/nieuw"), await http.get(ZL)):
            own = page.text[page.text.index('id="eigen-signalen"'):]
            assert "Signalen die u meldde" in own and "Begeleider komt afspraken niet na." in own
            assert "Teruggelegd bij de toegang" in own and "Door het team zelf gemeld." not in own
