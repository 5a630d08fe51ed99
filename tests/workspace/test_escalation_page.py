"""The escalation page: steps on the escalation's own ladder version with a motivation, idempotent double submits,
the intake stop confirm step with its 16 municipalities, lifting, messages, notes and the timeline partials."""

from __future__ import annotations

import re

from apps.escalations import services
from apps.escalations.tables import Measure
from apps.providers.tables import Provider
from tests.accounts.support import app_client, login
from tests.csv_support import EVIL_NAME, sheet_dicts
from tests.letter_fields import step_form
from tests.workspace.support import ZL, escalation_of, events, field_error, post_form, textarea_value, zl_scope


async def test_a_step_needs_a_motivation_shown_next_to_the_field(world, oidc_settings):
    escalation = await escalation_of("90000001")  # demo: safety, at "gesprek_direct"
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        page = await http.get(url)
        assert 'aria-current="step"' in page.text and "Gesprek aanbieder direct" in page.text
        assert 'id="stap-afspraken_per_brief"' in page.text  # the steps the ladder allows from here: the letter,
        assert 'id="stap-instroomstop"' in page.text  # or the intake stop at once, beside the talk
        assert 'id="stap-zittende_clienten"' not in page.text
        refused = await post_form(
            http, f"{url}/stap", {"naar": "afspraken_per_brief", "motivering": "", "sleutel": "k1"}
        )
        assert refused.status_code == 422
        assert "Geef een motivering" in field_error(refused.text, "motivering-afspraken_per_brief")
        assert 'id="stap-afspraken_per_brief" open' in refused.text
        # with htmx: only the form comes back, retargeted, with status 200 (htmx 2 swaps no 4xx)
        htmx = await post_form(http, f"{url}/stap", {"naar": "afspraken_per_brief", "motivering": " "}, htmx=True)
        assert htmx.status_code == 200 and htmx.headers["HX-Retarget"] == "#stap-afspraken_per_brief"
        assert "<html" not in htmx.text and "Geef een motivering" in htmx.text
        # a step the ladder does not allow from here
        wrong = await post_form(http, f"{url}/stap", {"naar": "ontbinding", "motivering": "Direct ontbinden."})
        assert wrong.status_code == 422 and "kan niet naar" in wrong.text
        # a too long note: the error next to the field and the text kept
        long_text = "x" * 10_001
        note = await post_form(http, f"{url}/notitie", {"tekst": long_text})
        assert note.status_code == 422 and "ten hoogste" in field_error(note.text, "notitie-tekst")
        assert textarea_value(note.text, "notitie-tekst") == long_text
    assert [e.kind for e in await events(escalation.id, "stap_gewijzigd")] == []


async def test_double_submit_with_the_same_key_makes_one_event(world, oidc_settings):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        page = await http.get(url)
        key = re.search(r'name="sleutel" value="([0-9a-f]+)"', page.text).group(1)
        form = {"naar": "afspraken_per_brief", "motivering": "Gesprek gevoerd op 3 november.", "sleutel": key,
                "bevestigd": "ja", **step_form("afspraken_per_brief")}  # a letter: confirmed after its preview
        first = await post_form(http, f"{url}/stap", form)
        second = await post_form(http, f"{url}/stap", form)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == f"{url}?melding=stap#melding"
        page = await http.get(first.headers["location"])
        assert "De stap is gezet" in page.text
        assert re.search(r'aria-current="step">\s*Afspraken per brief vastgelegd', page.text)
    moves = await events(escalation.id, "stap_gewijzigd")
    assert len(moves) == 1 and moves[0].motivation == "Gesprek gevoerd op 3 november."


async def test_htmx_step_swaps_the_content_and_the_timeline_partials(world, oidc_settings):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        newest = max(e.sequence for e in await events(escalation.id))
        assert (await http.get(f"{url}/tijdlijn?na={newest}", headers={"HX-Request": "true"})).status_code == 204
        swapped = await post_form(http, f"{url}/stap", {"naar": "afspraken_per_brief", "motivering": "Besproken.",
                                                        "sleutel": "htmx-1", "bevestigd": "ja",
                                                        **step_form("afspraken_per_brief")}, htmx=True)  # fmt: skip
        assert swapped.status_code == 200 and "<html" not in swapped.text
        assert swapped.text.lstrip().startswith('<div id="inhoud"')
        assert 'data-hx-swap-oob="innerHTML"' in swapped.text and "De stap is gezet" in swapped.text
        assert re.search(r'aria-current="step">\s*Afspraken per brief vastgelegd', swapped.text)
        # the polling partial brings what happened since, with a new poller out of band
        note = await post_form(http, f"{url}/notitie", {"tekst": "Inspectie gebeld."}, htmx=True)
        assert note.status_code == 200
        fresh = await http.get(f"{url}/tijdlijn?na={newest}", headers={"HX-Request": "true"})
        assert fresh.status_code == 200 and "Inspectie gebeld." in fresh.text and "Stap gezet" in fresh.text
        assert "Intern: niet zichtbaar voor de aanbieder" in fresh.text and 'data-hx-swap-oob="true"' in fresh.text
        # "meer laden": the page before a sequence number, as a partial and as a page without JavaScript
        older = await http.get(f"{url}/tijdlijn?voor=3", headers={"HX-Request": "true"})
        assert (
            older.status_code == 200 and 'id="gebeurtenis-2"' in older.text and 'id="gebeurtenis-3"' not in older.text
        )
        page = await http.get(f"{url}?voor=3")
        assert 'id="gebeurtenis-1"' in page.text and 'id="gebeurtenis-4"' not in page.text


async def test_intake_stop_lists_the_16_municipalities_before_the_lead_confirms(world, oidc_settings):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        await post_form(http, f"{url}/stap", {"naar": "afspraken_per_brief", "motivering": "Afspraken vastgelegd.",
                                              "bevestigd": "ja", **step_form("afspraken_per_brief")})  # fmt: skip
        page = await http.get(url)
        assert "Alleen een teamleider inkoop kan deze stap zetten" in page.text
        refused = await post_form(http, f"{url}/stap", {"naar": "instroomstop", "motivering": "Nodig."})
        assert refused.status_code == 422 and "teamleider" in refused.text
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", url)
        form = {"naar": "instroomstop", "motivering": "Veiligheid: VOG's ontbreken nog steeds.", "sleutel": "stop-1",
                **step_form("instroomstop")}
        confirm = await post_form(http, f"{url}/stap", form)
        assert confirm.status_code == 200 and "Bevestig: instroomstop voor 16 gemeenten" in confirm.text
        listed = re.search(r'<ul[^>]*id="gemeenten-instroomstop"[^>]*>(.*?)</ul>', confirm.text, re.S).group(1)
        names = re.findall(r"<li[^>]*>(.*?)</li>", listed)
        assert len(names) == 16 and "Maastricht" in names and "Beekdaelen" in names and "Nuth" not in names
        assert await (await zl_scope()).count(Measure) == 0  # nothing imposed before the confirmation
        htmx = await post_form(http, f"{url}/stap", form, htmx=True)  # the confirm step as a partial
        assert htmx.headers["HX-Retarget"] == "#stap-instroomstop" and "Ja, instroomstop opleggen" in htmx.text
        done = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja"})
        again = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja"})  # a double click
        assert done.status_code == again.status_code == 303
        page = await http.get(url)
        assert "Instroomstop, van kracht sinds" in page.text and "Geldt voor 16 gemeenten" in page.text
        measures = await (await zl_scope()).objects(Measure)
        assert len(measures) == 1 and len(measures[0].scope) == 16 and measures[0].ended_at is None
        assert len(await events(escalation.id, "maatregel_gestart")) == 1

    async with app_client(oidc_settings) as http:  # every member reads the register, as page, CSV and JSON
        await login(http, "zl-toegang", f"{ZL}/instroomstops")
        page = await http.get(f"{ZL}/instroomstops")
        assert page.status_code == 200 and "Jeugdzorg De Vlinder B.V." in page.text and "16 gemeenten" in page.text
        data = (await http.get(f"{ZL}/instroomstops.json")).json()
        assert [s["kvk_nummer"] for s in data["instroomstops"]] == ["90000001"]
        assert len(data["instroomstops"][0]["gemeenten"]) == 16 and data["regio"]["slug"] == "zuid-limburg"
        # the CSV in the export dialect; a provider named like a formula comes out as text
        await Provider.update({Provider.name: EVIL_NAME}).where(Provider.kvk_number == "90000001")
        rows = sheet_dicts(await http.get(f"{ZL}/instroomstops.csv"), "instroomstops-zuid-limburg.csv")
        await Provider.update({Provider.name: "Jeugdzorg De Vlinder B.V."}).where(Provider.kvk_number == "90000001")
        assert rows[0]["kvk_nummer"] == "90000001" and rows[0]["aantal_gemeenten"] == "16"
        assert rows[0]["aanbieder"] == "'" + EVIL_NAME and re.fullmatch(r"\d{2}-\d{2}-\d{4}", rows[0]["sinds"])
        assert (await http.get(f"{ZL}/escalaties")).status_code == 404  # the register, not the escalations

    async with app_client(oidc_settings) as http:  # lifting asks for a motivation
        await login(http, "zl-lead", url)
        refused = await post_form(http, f"{url}/opheffen", {"maatregel": "instroomstop", "motivering": ""})
        assert refused.status_code == 422
        assert "Geef een motivering" in field_error(refused.text, "opheffen-instroomstop-motivering")
        lifted = await post_form(http, f"{url}/opheffen", {"maatregel": "instroomstop",
                                                           "motivering": "VOG's zijn aangeleverd."})  # fmt: skip
        assert lifted.status_code == 303
        data = (await http.get(f"{ZL}/instroomstops.json")).json()
        assert data["instroomstops"] == []


async def test_observer_reads_but_cannot_act(world, oidc_settings):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-waarnemer", url)
        page = await http.get(url)
        assert page.status_code == 200 and "Tijdlijn" in page.text and 'name="motivering"' not in page.text
        refused = await post_form(http, f"{url}/stap", {"naar": "afspraken_per_brief", "motivering": "x"})
        assert refused.status_code == 404
        assert (await post_form(http, f"{url}/bericht", {"tekst": "Hallo"})).status_code == 404
    assert await events(escalation.id, "stap_gewijzigd") == []


async def test_message_to_the_provider_is_shared_and_a_note_internal(world, oidc_settings):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        assert (await post_form(http, f"{url}/bericht", {"tekst": "Stuur de VOG's vóór vrijdag."})).status_code == 303
        assert (
            await post_form(http, f"{url}/notitie", {"tekst": "Directeur is lastig bereikbaar."})
        ).status_code == 303
        page = await http.get(url)
    message = (await events(escalation.id, "bericht"))[0]
    note = (await events(escalation.id, "notitie"))[0]
    assert (message.visibility, note.visibility) == ("shared", "internal")
    item = re.search(rf'<li[^>]*id="gebeurtenis-{note.sequence}".*?</li>', page.text, re.S).group(0)
    assert "Intern: niet zichtbaar voor de aanbieder" in item
    item = re.search(rf'<li[^>]*id="gebeurtenis-{message.sequence}".*?</li>', page.text, re.S).group(0)
    assert "Gedeeld met de aanbieder" in item


async def test_notice_events_show_how_many_mails_were_delivered(world, oidc_settings):
    """Seed 000 notices: the timeline says who was notified and whether the mails arrived."""
    from apps.escalations.tables import Escalation, TimelineEvent
    from apps.notifications.tables import Notification
    from apps.tenancy.tables import Region
    from core.tenancy import RegionScope

    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    escalation = await scope.objects(Escalation).first()
    event = await services.append_event(scope, escalation.id, "melding_verstuurd", payload={"aantal": 2})
    for index, status in enumerate(["sent", "failed"]):
        await scope.new(Notification, recipient=f"t{index}@zl.example", channel="email", template="ladder_notify",
                        idempotency_key=f"{event.id}:{index}", status=status,
                        sent_at=event.occurred_at if status == "sent" else None).save()  # fmt: skip
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        page = await http.get(f"/regio/zuid-limburg/escalaties/{escalation.id}")
        assert "Aan 2 ontvangers. Bezorgd: 1 van 2 (laatste" in page.text and "1 mislukt." in page.text
    assert await scope.count(TimelineEvent).where(TimelineEvent.id == event.id) == 1


def _block(html: str, element: str, element_id: str) -> str:
    """The element with ``id=element_id`` (its opening tag up to the matching close of the same element name)."""
    match = re.search(rf'<{element}[^>]* id="{element_id}"[^>]*>.*?</{element}>', html, re.S)
    return match.group(0) if match else ""


async def test_htmx_close_brings_the_status_the_actions_and_the_timeline_of_now(world, oidc_settings):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        page = await http.get(url)
        status = _block(page.text, "dl", "gegevens")
        assert "Lopend" in status and "hx-swap-oob" not in status  # the full page: the block in place
        assert 'id="afsluiten"' in page.text
        form = {"uitkomst": "hersteld", "motivering": "Tekortkoming opgelost."}
        closed = await post_form(http, f"{url}/afsluiten", form, htmx=True)
        assert closed.status_code == 200 and "<html" not in closed.text
        # the status block, out of band, rendered by the page's own block: closed, with its outcome
        status = _block(closed.text, "dl", "gegevens")
        assert 'data-hx-swap-oob="true"' in status and "Afgesloten" in status and "Lopend" not in status
        assert "uitkomst: hersteld" in status.lower()
        # the next actions: no close form any more, no step forms
        content = closed.text[closed.text.index('<div id="inhoud"') :]
        assert 'id="afsluiten"' not in content and 'id="stap-' not in content
        # the timeline: the closure on top, with its motivation
        timeline = content[content.index('id="tijdlijn-lijst"') :]
        first = re.search(r'<li class="trede-event[^"]*"[^>]*data-kind="([^"]+)"', timeline).group(1)
        assert first == "escalatie_gesloten" and "Tekortkoming opgelost." in timeline
        assert "De escalatie is afgesloten" in closed.text  # the notice, out of band
        # without JavaScript the same form still posts, redirects and shows the page (PRG)
        again = await post_form(http, f"{url}/notitie", {"tekst": "Nagebeld."})
        assert again.status_code == 303 and again.headers["location"] == f"{url}?melding=notitie#melding"
        after = await http.get(again.headers["location"])
        assert "Afgesloten" in _block(after.text, "dl", "gegevens") and "Nagebeld." in after.text


async def test_the_page_leads_with_the_step_who_acts_the_next_term_and_the_actions(world, oidc_settings):
    """Samen Sterk's quality escalation asks for a plan of action: the page starts with the step, the provider as
    the one to act, the plan's due date and how far off it is, then the next steps; the timeline follows the
    actions, the details come after, and the ladder is folded."""
    from datetime import timedelta

    from apps.escalations.tables import Deadline
    from core.clock import FrozenClock
    from core.formatting import days_until_nl, local_day, nl_date

    escalation = await escalation_of("90000002")  # demo: niet-veiligheid, at "verzoek_plan_van_aanpak"
    scope = await zl_scope()
    term = await scope.objects(Deadline).where(
        (Deadline.escalation == escalation.id) & (Deadline.status == "open")).first()  # fmt: skip
    url = f"{ZL}/escalaties/{escalation.id}"
    a_day_later = term.starts_at + timedelta(days=1)
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(a_day_later)
        await login(http, "zl-inkoop", url)
        html = (await http.get(url)).text
    lead = html[html.index('id="nu"') : html.index('id="acties"')]
    assert 'id="huidige-stap">Aanbieder vragen om een plan van aanpak' in lead
    assert re.search(r'id="aan-zet">\s*Stichting Samen Sterk Jeugdhulp \(de aanbieder\)', lead)
    when = days_until_nl(local_day(term.due_at), local_day(a_day_later))  # "over 13 dagen" or so
    assert when.startswith("over ")
    assert re.search(rf"Plan van aanpak aanleveren, uiterlijk <time[^>]*>{nl_date(term.due_at)}</time> \({when}\)",
                     lead), lead  # fmt: skip
    order = [html.index(marker) for marker in ('id="nu"', 'id="acties"', 'id="tijdlijn"', 'id="termijnen"',
                                               'id="documenten"', 'id="ladder"')]  # fmt: skip
    assert order == sorted(order)
    assert re.search(r'<details class="trede-uitklap" id="ladder-uitklap">', html)  # folded: opened on demand
    actions = re.findall(r'<details class="trede-actie" id="stap-([a-z_]+)"', html)
    assert actions[:2] == ["monitoren_plan", "officiele_brief"]  # the steps the ladder allows from here
    async with app_client(oidc_settings) as http:  # an observer reads the same lead, without the forms
        await login(http, "zl-waarnemer", url)
        observed = (await http.get(url)).text
    assert 'id="aan-zet"' in observed and 'id="acties"' not in observed
