"""Proof of receipt of the region's letters (BW 3:37 lid 3): the decider chooses how a letter goes, the provider
acknowledges receipt in the portal with one click, the team records a registered letter's receipt, and a letter
without a receipt 5 working days after it went is on the work list "Te beoordelen"."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from apps.audit.tables import AuditEntry
from apps.escalations import services
from apps.escalations.context import EscalationConflict, EscalationError
from apps.escalations.letter_receipts import acknowledge, record_letter_receipt, unconfirmed, unconfirmed_query
from apps.escalations.tables import LetterDelivery
from apps.providers.tables import Provider
from core.actor import Actor
from core.clock import AMSTERDAM, FrozenClock
from core.tenancy import ProviderScope
from tests.accounts.support import app_client, csrf_headers, login
from tests.letter_fields import STEP_FIELDS, opening, step_form
from tests.workspace.support import ZL, escalation_of, events, field_error, post_form, provider, zl_scope

# Thursday 22 April 2027; King's Day is Tuesday 27 April 2027, so the 5th working day after it is Friday 30 April
# (without the holiday it would be Thursday 29 April).
SENT = datetime(2027, 4, 22, 10, 0, tzinfo=AMSTERDAM)
FIFTH_WORKING_DAY = datetime(2027, 4, 30, 12, 0, tzinfo=AMSTERDAM)
NEXT_WORKING_DAY = datetime(2027, 5, 3, 9, 0, tzinfo=AMSTERDAM)
LEAD = Actor(label="Lotte Leider", roles=frozenset({"inkoop_lead"}))


async def _letter_to(kvk: str, clock: FrozenClock):
    """Open a quality escalation in Zuid-Limburg: its first step sends the request for a plan of action."""
    escalation = await services.open_escalation(
        await zl_scope(),
        provider=await provider(kvk),
        ladder_key="kwaliteit",
        category="niet_veiligheid",
        subcategory="administratief",
        summary="Jaarverantwoording ontbreekt.",
        motivation="Signaal van de toegang.",
        actor=LEAD,
        clock=clock, letter_fields=opening("niet_veiligheid")
    )
    [row] = await (await zl_scope()).objects(LetterDelivery).where(LetterDelivery.escalation == escalation.id)
    return escalation, row


def _provider_actor(provider_id, label: str = "Anna Aanbieder") -> Actor:
    return Actor(label=label, roles=frozenset({"aanbieder_medewerker"}), provider_id=provider_id)


async def test_provider_acknowledges_once_and_both_sides_see_it(world):
    clock = FrozenClock(SENT)
    escalation, letter = await _letter_to("90000002", clock)
    assert letter.method == "portaal" and letter.received_at is None
    [sent] = await events(escalation.id, "brief_verstuurd")
    assert sent.payload["verzending"] == "portaal" and letter.event == sent.id

    samen = await provider("90000002")
    scope = await ProviderScope.for_provider(samen.id)
    clock.advance(hours=26)  # Friday 23 April, 12:00
    row, recorded = await acknowledge(scope, escalation.id, letter.id, actor=_provider_actor(samen.id), clock=clock)
    assert recorded and row.received_at == clock.now() and row.received_how == "bevestigd"
    clock.advance(hours=1)
    _, again = await acknowledge(scope, escalation.id, letter.id, actor=_provider_actor(samen.id), clock=clock)
    assert not again  # a second click changes nothing

    [event] = await events(escalation.id, "ontvangst_bevestigd")
    assert event.visibility == "shared" and event.actor_label == "Anna Aanbieder"
    assert event.payload["ontvangen_op"] == "2027-04-23" and event.payload["brief_id"] == str(letter.id)
    shared = await services.timeline(scope.region_scope(escalation.region), escalation.id, include_internal=False)
    assert "ontvangst_bevestigd" in [e.kind for e in shared]  # on the provider's side of the timeline too
    audited = await AuditEntry.objects().where(AuditEntry.action == "letter.acknowledge")
    assert [a.target_id for a in audited] == [str(escalation.id)]
    stored = await LetterDelivery.objects().where(LetterDelivery.id == letter.id).first()
    assert stored.received_at == row.received_at  # the first click's moment stays

    # the team cannot record a second receipt for it
    with pytest.raises(EscalationConflict, match="al vastgelegd"):
        await record_letter_receipt(
            await zl_scope(),
            escalation.id,
            letter.id,
            received_on=date(2027, 4, 23),
            how="aangetekend",
            actor=LEAD,
            clock=clock,
        )


async def test_another_provider_cannot_acknowledge(world):
    escalation, letter = await _letter_to("90000002", FrozenClock(SENT))
    kompas = await provider("90000004")  # no contract in Zuid-Limburg
    vlinder = await provider("90000001")  # a contract in Zuid-Limburg, but not this escalation's party
    for other in (kompas, vlinder):
        scope = await ProviderScope.for_provider(other.id)
        with pytest.raises(EscalationError, match="bestaat niet"):
            await acknowledge(scope, escalation.id, letter.id, actor=_provider_actor(other.id), clock=FrozenClock(SENT))
    # nor can a team member pretend to be the provider
    samen = await ProviderScope.for_provider((await provider("90000002")).id)
    with pytest.raises(EscalationError, match="Alleen de aanbieder"):
        await acknowledge(samen, escalation.id, letter.id, actor=LEAD, clock=FrozenClock(SENT))
    assert await events(escalation.id, "ontvangst_bevestigd") == []


async def test_unacknowledged_letter_is_on_the_work_list_after_five_working_days(world):
    escalation, letter = await _letter_to("90000002", FrozenClock(SENT))
    scope = await zl_scope()
    assert letter.acknowledge_by.astimezone(AMSTERDAM).date() == date(2027, 4, 30)  # King's Day does not count

    async def listed(moment: datetime) -> bool:
        rows, total = await unconfirmed(scope, moment, 100)
        assert total >= len(rows)
        return letter.id in {row["id"] for row in rows}

    assert not await listed(FIFTH_WORKING_DAY)
    assert await listed(NEXT_WORKING_DAY)
    [row] = [r for r in (await unconfirmed(scope, NEXT_WORKING_DAY, 100))[0] if r["id"] == letter.id]
    assert row["reference"] == escalation.reference and row["provider"] == "Stichting Samen Sterk Jeugdhulp"

    samen = await provider("90000002")
    await acknowledge(
        await ProviderScope.for_provider(samen.id),
        escalation.id,
        letter.id,
        actor=_provider_actor(samen.id),
        clock=FrozenClock(NEXT_WORKING_DAY),
    )
    assert not await listed(NEXT_WORKING_DAY)  # acknowledged: off the list


async def test_team_records_a_registered_letter_and_refuses_odd_input(world):
    clock = FrozenClock(SENT)
    escalation, letter = await _letter_to("90000002", clock)
    scope = await zl_scope()
    clock.advance(days=2)  # Saturday 24 April
    for kwargs, message in [
        ({"received_on": date(2027, 4, 25), "how": "aangetekend"}, "in de toekomst"),
        ({"received_on": date(2027, 4, 21), "how": "aangetekend"}, "vóór de verzending"),
        ({"received_on": date(2027, 4, 23), "how": "duif"}, "Kies hoe"),
        ({"received_on": date(2027, 4, 23), "how": "aangetekend", "tracking_code": "<script>"}, "track-and-trace"),
    ]:
        with pytest.raises(EscalationError, match=message):
            await record_letter_receipt(scope, escalation.id, letter.id, actor=LEAD, clock=clock, **kwargs)
    with pytest.raises(EscalationError, match="team inkoop"):
        await record_letter_receipt(
            scope,
            escalation.id,
            letter.id,
            received_on=date(2027, 4, 23),
            how="aangetekend",
            actor=_provider_actor(escalation.provider),
            clock=clock,
        )

    row = await record_letter_receipt(
        scope,
        escalation.id,
        letter.id,
        received_on=date(2027, 4, 23),
        how="aangetekend",
        tracking_code="3sabcd1234567",
        actor=LEAD,
        clock=clock,
    )
    assert row.received_at.astimezone(AMSTERDAM).date() == date(2027, 4, 23) and row.tracking_code == "3SABCD1234567"
    [event] = await events(escalation.id, "brief_ontvangen")
    assert event.visibility == "shared" and event.payload["track_and_trace"] == "3SABCD1234567"
    [audited] = await AuditEntry.objects().where(AuditEntry.action == "letter.record_receipt").output(load_json=True)
    assert audited.detail["wijze"] == "aangetekend" and audited.detail["ontvangen_op"] == "2027-04-23"
    assert letter.id not in {r["id"] for r in (await unconfirmed(scope, NEXT_WORKING_DAY, 100))[0]}


async def test_registered_letter_through_the_pages(world, oidc_settings):
    """The decider sends a letter by registered post, records its receipt; the provider sees it on the portal, and
    acknowledges another letter with one click; the work list shows what is still unacknowledged."""
    escalation = await escalation_of("90000001")  # demo: safety, at "gesprek_direct"
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        http.app.state.clock = clock = FrozenClock(SENT)
        await login(http, "zl-inkoop", url)
        form = {"naar": "afspraken_per_brief", "motivering": "Gesprek gevoerd op 21 april.", "sleutel": "aangetekend-1"}
        confirm = await post_form(http, f"{url}/stap", form)
        assert confirm.status_code == 200 and "Hoe verstuurt u de brief?" in confirm.text
        assert re.search(r"<legend[^>]*>Hoe verstuurt u de brief\?</legend>", confirm.text)
        assert re.search(
            r'id="verzending-afspraken_per_brief-portaal" name="verzending" value="portaal" checked', confirm.text
        )  # the default
        sent = await post_form(http, f"{url}/stap", {**form, **step_form("afspraken_per_brief"), "bevestigd": "ja",
                                                     "verzending": "aangetekend"})  # fmt: skip
        assert sent.status_code == 303
        [letter] = (
            await (await zl_scope())
            .objects(LetterDelivery)
            .where((LetterDelivery.escalation == escalation.id) & (LetterDelivery.letter == "bevestiging_afspraken"))
        )
        assert letter.method == "aangetekend"
        page = await http.get(url)
        assert "Aangetekend per post" in page.text and 'id="brief-ontvangst"' in page.text

        clock.advance(days=1)
        wrong = await post_form(
            http,
            f"{url}/brief-ontvangst",
            {"brief": str(letter.id), "wijze": "aangetekend", "ontvangen_op": "2027-04-30"},
        )
        assert wrong.status_code == 422 and "in de toekomst" in field_error(wrong.text, "brief-ontvangst-datum")
        done = await post_form(
            http,
            f"{url}/brief-ontvangst",
            {
                "brief": str(letter.id),
                "wijze": "aangetekend",
                "ontvangen_op": "2027-04-23",
                "track_and_trace": "3SABCD1234567",
            },
        )
        assert done.status_code == 303 and done.headers["location"] == f"{url}?melding=brief-ontvangst#melding"
        page = await http.get(done.headers["location"])
        assert "De ontvangst van de brief is vastgelegd" in page.text and "3SABCD1234567" in page.text
        assert "Ontvangst van de brief vastgelegd" in page.text  # the timeline event
    async with app_client(oidc_settings) as http:  # a team member of another region cannot record it
        await login(http, "lek-inkoop", "/")
        refused = await post_form(
            http, f"{url}/brief-ontvangst", {"brief": str(letter.id), "wijze": "hand", "ontvangen_op": "2027-04-23"}
        )
        assert refused.status_code in (403, 404)


async def test_provider_acknowledges_in_the_portal_and_the_work_list(world, oidc_settings):
    clock = FrozenClock(SENT)
    vlinder = await provider("90000001")
    escalation = await services.open_escalation(
        await zl_scope(),
        provider=vlinder,
        ladder_key="kwaliteit",
        category="niet_veiligheid",
        subcategory="administratief",
        summary="Jaarverantwoording 2026 ontbreekt.",
        motivation="Signaal.",
        actor=LEAD,
        clock=clock, letter_fields=opening("niet_veiligheid")
    )
    [letter] = await (await zl_scope()).objects(LetterDelivery).where(LetterDelivery.escalation == escalation.id)
    portal_url = f"/portaal/escalaties/{escalation.id}"
    ack_url = f"{portal_url}/brieven/{letter.id}/ontvangst"

    async with app_client(oidc_settings) as http:  # the team's work list, before and after the 5 working days
        await login(http, "zl-inkoop", f"{ZL}/te-beoordelen")
        http.app.state.clock = FrozenClock(FIFTH_WORKING_DAY)
        page = await http.get(f"{ZL}/te-beoordelen")
        assert "Ontvangst niet bevestigd" in page.text and f'data-letter="{letter.id}"' not in page.text
        http.app.state.clock = FrozenClock(NEXT_WORKING_DAY)
        page = await http.get(f"{ZL}/te-beoordelen")
        assert f'data-letter="{letter.id}"' in page.text and escalation.reference in page.text

    async with app_client(oidc_settings) as http:  # another organisation's person: not found
        await login(http, "kim-twee", "/portaal")
        kompas = await Provider.objects().where(Provider.kvk_number == "90000004").first()
        await post_form(http, "/portaal/organisatie", {"organisatie": str(kompas.id)})
        assert (await post_form(http, ack_url, {})).status_code == 404

    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(NEXT_WORKING_DAY)
        await login(http, "vlinder-medewerker", portal_url)
        page = await http.get(portal_url)
        assert "Brieven van de regio" in page.text and "Ontvangst bevestigen" in page.text
        assert (await http.post(ack_url)).status_code == 403  # no CSRF token: refused
        first = await post_form(http, ack_url, {})
        assert first.status_code == 303 and first.headers["location"] == f"{portal_url}#brieven"
        page = await http.get(portal_url)
        assert "de ontvangst van de brief is bevestigd" in page.text
        assert 'data-kind="ontvangst_bevestigd"' in page.text  # on the provider's timeline
        second = await post_form(http, ack_url, {})
        assert second.status_code == 303
        assert "was al bevestigd" in (await http.get(portal_url)).text
    assert len(await events(escalation.id, "ontvangst_bevestigd")) == 1

    async with app_client(oidc_settings) as http:  # the team sees it on the shared timeline, off the work list
        http.app.state.clock = FrozenClock(NEXT_WORKING_DAY)
        await login(http, "zl-inkoop", f"{ZL}/escalaties/{escalation.id}")
        page = await http.get(f"{ZL}/escalaties/{escalation.id}")
        assert re.search(r'data-kind="ontvangst_bevestigd"', page.text) and "Ontvangst bevestigd" in page.text
        assert "bevestigd door de aanbieder in het portaal" in page.text
        work = await http.get(f"{ZL}/te-beoordelen")
        assert f'data-letter="{letter.id}"' not in work.text
        api = await http.get(f"/api/v1/regions/zuid-limburg/escalations/{escalation.id}")
        [found] = [x for x in api.json()["letters"] if x["id"] == str(letter.id)]
        assert found["sending_method"] == "portaal" and found["received_at"].startswith("2027-05-03")


async def test_the_work_list_reads_the_partial_index(world):
    """The section "Ontvangst niet bevestigd" reads the index of the letters without a receipt, not the table."""
    from piccolo.engine import engine_finder  # why: only this test asks the database for its plan

    scope = await zl_scope()
    sql = str(unconfirmed_query(scope, NEXT_WORKING_DAY, 100))
    engine = engine_finder()
    if engine.engine_type == "postgres":
        async with engine.transaction():
            await engine.run_ddl("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r["QUERY PLAN"] for r in await engine.run_ddl(f"EXPLAIN {sql}"))
    else:
        plan = "\n".join(str(r["detail"]) for r in await engine.run_ddl(f"EXPLAIN QUERY PLAN {sql}"))
    assert "letter_delivery_unconfirmed" in plan, plan


async def test_the_api_takes_the_sending_method_and_shows_the_receipt(world, oidc_settings):
    escalation = await escalation_of("90000001")  # demo: safety, at "gesprek_direct"
    api = f"/api/v1/regions/zuid-limburg/escalations/{escalation.id}"
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(SENT)
        await login(http, "zl-inkoop", f"{ZL}/escalaties/{escalation.id}")
        headers = csrf_headers(http)
        odd = await http.post(
            f"{api}/transitions",
            headers=headers,
            json={"to_step": "afspraken_per_brief", "motivation": "Besproken.", "sending_method": "duif"},
        )
        assert odd.status_code == 400
        moved = await http.post(
            f"{api}/transitions",
            headers=headers,
            json={"to_step": "afspraken_per_brief", "motivation": "Besproken.", "sending_method": "hand",
                  "letter_fields": STEP_FIELDS["afspraken_per_brief"]},
        )
        assert moved.status_code == 201
        [letter] = [x for x in moved.json()["escalation"]["letters"] if x["letter"] == "bevestiging_afspraken"]
        assert letter["sending_method"] == "hand" and letter["received_at"] is None
        assert letter["acknowledge_by"].startswith("2027-04-30")  # King's Day 2027 does not count
    async with app_client(oidc_settings) as http:  # the provider reads the same letters through its own API
        await login(http, "vlinder-medewerker", "/portaal")
        mine = await http.get(f"/api/v1/provider/escalations/{escalation.id}")
        assert [x["id"] for x in mine.json()["letters"] if x["letter"] == "bevestiging_afspraken"] == [letter["id"]]
