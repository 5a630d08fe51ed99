"""The five source processes walked end to end through the JSON API (issue 3's "done when"), as the demo
accounts, logged in through the real local OpenID provider. Time moves with a FrozenClock in ``app.state.clock``
and the sweep runs in-process with the same clock.
"""

from __future__ import annotations

import pytest

from apps.accounts.tables import Membership, User
from apps.escalations import services as escalations
from apps.escalations.letter_receipts import record_letter_receipt
from apps.ladders import services as ladders
from apps.ladders.schema import LadderSpec
from apps.ladders.tables import Ladder
from apps.tenancy.tables import Region
from core.actor import Actor
from core.tenancy import RegionScope
from tests.api.conftest import ANKER_KVK, KOMPAS_KVK, SAMEN_STERK_KVK, VLINDER_KVK, at, sweep
from tests.letter_fields import LETTER_FIELDS, STEP_FIELDS, opening

LEK_LEAD = Actor(label="Lotte Leider", roles=frozenset({"inkoop_lead"}))

ZL = "/api/v1/regions/zuid-limburg"
LEK = "/api/v1/regions/lekstroom"
WBW = "/api/v1/regions/west-brabant-west"
MERGED_IN_2019 = {"GM0951", "GM0881", "GM0962"}  # Nuth, Onderbanken, Schinnen: now Beekdaelen


async def grant(account: str, slug: str, role: str) -> None:
    """Give a demo account a role in a region (no demo account works for West-Brabant West or leads Lekstroom)."""
    user = await User.objects().where(User.subject == account).first()
    region = await Region.objects().where(Region.slug == slug).first()
    await RegionScope(region.id).new(Membership, user=user.id, role=role).save()


@pytest.fixture(scope="module")
async def bram(api):
    """Bram Beheer, here also purchasing team member in West-Brabant West and lead in Lekstroom."""
    await grant("beheer", "west-brabant-west", "inkoop_medewerker")
    await grant("beheer", "lekstroom", "inkoop_lead")
    return await api.as_("beheer")


def open_body(kvk: str, ladder: str, category: str, subcategory: str = "", **extra) -> dict:
    return {
        "provider_kvk": kvk,
        "ladder": ladder,
        "category": category,
        "subcategory": subcategory,
        "summary": extra.pop("summary", "Tekortkoming gesignaleerd."),
        "motivation": extra.pop("motivation", "Signaal van de toegang; raakt de DVO."),
        "letter_fields": extra.pop("letter_fields", opening(category)),  # the start step's letter, as the team fills it
        **extra,
    }


async def move(
    client, region: str, escalation: dict, to_step: str, motivation: str, status: int = 201, json_extra=None, **kw
):
    extra = {"letter_fields": STEP_FIELDS[to_step], **(json_extra or {})} if to_step in STEP_FIELDS else json_extra
    return await client.done(
        f"{region}/escalations/{escalation['id']}/transitions",
        {"to_step": to_step, "motivation": motivation, **(extra or {})},
        status,
        **kw,
    )


async def kinds(client, region: str, escalation: dict) -> list[str]:
    """All event kinds, oldest first."""
    page = await client.ok(f"{region}/escalations/{escalation['id']}/timeline", limit=200)
    return [e["kind"] for e in reversed(page["items"])]


MISSED_NOTIFY_SUGGEST = ["termijn_verlopen", "melding_verstuurd", "volgende_stap_voorgesteld"]


def in_a_row(found: list[str], wanted: list[str]) -> bool:
    """``wanted`` occurs in ``found`` as consecutive items (the sweep may also send reminders afterwards)."""
    return any(found[i : i + len(wanted)] == wanted for i in range(len(found)))


def by_key(deadlines: list[dict]) -> dict[str, dict]:
    return {d["key"]: d for d in deadlines}


async def test_zuid_limburg_safety_branch_to_intake_stop_inspectorate_and_closed(api, clock):
    ilse, luuk = await api.as_("zl-inkoop"), await api.as_("zl-lead")
    opened = await ilse.done(
        f"{ZL}/escalations", open_body(VLINDER_KVK, "kwaliteit", "veiligheid", "vog_werknemers"), 201
    )
    assert opened["current_step"]["key"] == "gesprek_direct" and opened["status"] == "open"
    assert opened["provider"]["kvk"] == VLINDER_KVK and opened["ladder"] == {
        "key": "kwaliteit",
        "name": opened["ladder"]["name"],
        "version": 1,
        "latest_version": 1,
    }
    # the intake stop runs beside the talk: the lead may impose it at once
    assert [s["key"] for s in opened["allowed_next_steps"]] == ["afspraken_per_brief", "instroomstop"]
    assert opened["reference"].startswith("ZL-2026-")

    result = await move(ilse, ZL, opened, "afspraken_per_brief", "Gesprek gevoerd op 2 maart.")
    assert result["replayed"] is False and result["event"]["kind"] == "stap_gewijzigd"
    open_step = {"open": True, "closed_label": None, "closed_reason": None, "legal_exceptions": [],
                 "receipt_unconfirmed": None}  # fmt: skip
    allowed = result["escalation"]["allowed_next_steps"]
    assert [f["key"] for f in allowed[0]["letter_fields"]] == ["gronden", "zittende_clienten", "uw_kenmerk"]
    assert [{k: v for k, v in step.items() if k not in ("letters", "letter_fields")} for step in allowed] == [
        {"key": "instroomstop", "title": "Instroomstop, op te volgen door alle gemeenten", "imposes_measures": True,
         **open_step},
        {"key": "zittende_clienten", "title": "Zittende cliënten informeren en zo nodig elders plaatsen",
         "imposes_measures": False, "open": False, "closed_label": "eerst instroomstop",
         "closed_reason": "Zittende cliënten worden elders geplaatst wanneer er een instroomstop is: leg eerst de "
                          "instroomstop op.", "legal_exceptions": [], "receipt_unconfirmed": None},
    ]  # fmt: skip

    # Only a purchasing team lead imposes the intake stop: the service's Dutch reason, 422 as problem details.
    refused = await ilse.post(
        f"{ZL}/escalations/{opened['id']}/transitions", {"to_step": "instroomstop", "motivation": "VOG's ontbreken."}
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert "Alleen een teamleider inkoop mag maatregelen opleggen" in refused.json()["detail"]
    assert {k: refused.json()[k] for k in ("type", "title", "status")} == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
    }

    clock.advance(hours=1)
    key = {"Idempotency-Key": "zl-instroomstop-1"}
    result = await move(luuk, ZL, opened, "instroomstop", "Drie medewerkers zonder VOG.", headers=key)
    again = await move(luuk, ZL, opened, "instroomstop", "Drie medewerkers zonder VOG.", 200, headers=key)
    assert again["replayed"] is True and again["event"]["id"] == result["event"]["id"]
    [stop] = result["escalation"]["active_measures"]
    assert stop["kind"] == "instroomstop" and stop["motivation"] == "Drie medewerkers zonder VOG."
    codes = {m["cbs_code"] for m in stop["municipalities"]}
    region = await ilse.ok(ZL)
    assert len(codes) == 16 == len(region["municipalities"]) and codes == {
        m["cbs_code"] for m in region["municipalities"]
    }
    assert not codes & MERGED_IN_2019 and {"cbs_code": "GM0935", "name": "Maastricht"} in stop["municipalities"]

    await move(ilse, ZL, opened, "zittende_clienten", "Toegang en GI's geïnformeerd.")
    await move(ilse, ZL, opened, "inspectie", "Inspectie vragen te visiteren.")
    clock.set(at(2026, 4, 20))
    await move(ilse, ZL, opened, "herstel_beoordelen", "Nieuwe VOG's aangeleverd.")
    refused = await ilse.post(
        f"{ZL}/escalations/{opened['id']}/transitions", {"to_step": "opheffen_en_afsluiten", "motivation": "Hersteld."}
    )
    assert refused.status_code == 422 and "teamleider" in refused.json()["detail"]
    result = await move(luuk, ZL, opened, "opheffen_en_afsluiten", "Alle VOG's geldig en niet ouder dan 3 jaar.")
    closed = result["escalation"]
    assert closed["status"] == "closed" and closed["outcome"] == "hersteld" and closed["active_measures"] == []
    assert closed["allowed_next_steps"] == [] and closed["closed_at"] == clock.now().isoformat()

    assert await kinds(ilse, ZL, opened) == [
        "escalatie_geopend",
        "stap_gewijzigd",
        "brief_verstuurd",
        "stap_gewijzigd",
        "maatregel_gestart",
        "melding_verstuurd",
        "brief_verstuurd",
        "stap_gewijzigd",
        "melding_verstuurd",
        "melding_verstuurd",
        "stap_gewijzigd",
        "melding_verstuurd",
        "stap_gewijzigd",
        "document_gevraagd",
        "stap_gewijzigd",
        "maatregel_beeindigd",
        "melding_verstuurd",
        "brief_verstuurd",  # the letter that lifts the intake stop and closes the escalation
        "escalatie_gesloten",
    ]
    # Newest first, paged back with `before`.
    first = await ilse.ok(f"{ZL}/escalations/{opened['id']}/timeline", limit=5)
    assert [e["sequence"] for e in first["items"]] == [19, 18, 17, 16, 15] and first["next_before"] == 15
    second = await ilse.ok(f"{ZL}/escalations/{opened['id']}/timeline", limit=5, before=first["next_before"])
    assert [e["sequence"] for e in second["items"]] == [14, 13, 12, 11, 10]

    late = await ilse.post(
        f"{ZL}/escalations/{opened['id']}/transitions", {"to_step": "ontbinding", "motivation": "Toch ontbinden."}
    )
    assert late.status_code == 409 and "is afgesloten" in late.json()["detail"]


async def test_zuid_limburg_missed_plan_term_leads_to_the_official_letter(api, clock):
    ilse = await api.as_("zl-inkoop")
    opened = await ilse.done(
        f"{ZL}/escalations", open_body(SAMEN_STERK_KVK, "kwaliteit", "niet_veiligheid", "administratief"), 201
    )
    assert opened["current_step"]["key"] == "verzoek_plan_van_aanpak"
    [plan] = opened["open_deadlines"]
    assert plan["key"] == "plan_binnen" and plan["title"] == "Plan van aanpak binnen?" and plan["term"] == "2 weken"
    assert plan["due_date"] == "2026-03-16" and plan["reasons"] == [] and plan["overdue"] is False

    clock.set(at(2026, 3, 17, 0, 5))  # the term has ended; the sweep has not run yet
    overdue = await ilse.ok(f"{ZL}/escalations", overdue="true")
    assert opened["id"] in [item["id"] for item in overdue["items"]]
    await sweep(clock)
    overdue = await ilse.ok(f"{ZL}/escalations", overdue="true")
    assert opened["id"] not in [item["id"] for item in overdue["items"]]

    # The sweep proposes the official letter; a person takes the step (and so sends the letter).
    detail = await ilse.ok(f"{ZL}/escalations/{opened['id']}")
    assert detail["current_step"]["key"] == "verzoek_plan_van_aanpak" and detail["open_deadlines"] == []
    [proposal] = detail["proposals"]
    assert (proposal["step"], proposal["letter"]) == ("officiele_brief", "officiele_brief_plan_van_aanpak")
    assert proposal["reason"] == "termijn 'Plan van aanpak binnen?' (2 weken) is verlopen"
    timeline = (await ilse.ok(f"{ZL}/escalations/{opened['id']}/timeline"))["items"]
    assert [e["kind"] for e in timeline[:2]] == ["volgende_stap_voorgesteld", "termijn_verlopen"]
    assert "brief_verstuurd" not in [e["kind"] for e in timeline[:2]]

    result = await move(ilse, ZL, opened, "officiele_brief", "Geen plan ontvangen.")
    assert result["escalation"]["current_step"]["key"] == "officiele_brief"
    detail = await ilse.ok(f"{ZL}/escalations/{opened['id']}")
    assert detail["proposals"] == []
    assert [d["key"] for d in detail["open_deadlines"]] == ["plan_binnen_na_brief"]
    assert detail["open_deadlines"][0]["due_date"] == "2026-03-31"
    deadlines = by_key(await ilse.ok(f"{ZL}/escalations/{opened['id']}/deadlines"))
    assert deadlines["plan_binnen"]["status"] == "missed" and deadlines["plan_binnen"]["status_nl"] == "verlopen"
    timeline = (await ilse.ok(f"{ZL}/escalations/{opened['id']}/timeline"))["items"]
    assert [e["kind"] for e in timeline[:3]] == ["document_gevraagd", "brief_verstuurd", "stap_gewijzigd"]
    moved = timeline[2]
    assert moved["actor"] != "Systeem" and moved["payload"]["automatisch"] is False
    assert timeline[1]["payload"]["brief"] == "officiele_brief_plan_van_aanpak"


WBW_CASE = {"municipality": "GM1674", "case_reference": "RSD-2026-0413", "professionals": "Jeugdprofessional toegang"}


async def test_west_brabant_west_dispute_route_to_the_committee(api, clock, bram):
    # A dispute is about one case: without it, or with a BSN as its reference, opening is refused (422, Dutch).
    body = open_body(ANKER_KVK, "toewijzing", "geschil", "pic")
    missing = await bram.post(f"{WBW}/escalations", body)
    assert missing.status_code == 422 and missing.json()["detail"].startswith("Kies de gemeente")
    bsn = await bram.post(f"{WBW}/escalations", {**body, **WBW_CASE, "case_reference": "111222333"})
    assert bsn.status_code == 422 and "lijkt een burgerservicenummer (BSN)" in bsn.json()["detail"]
    opened = await bram.done(f"{WBW}/escalations", {**body, **WBW_CASE}, 201)
    assert opened["case"]["municipality"] == {"cbs_code": "GM1674", "name": "Roosendaal"}
    assert (opened["case"]["reference"], opened["case"]["pseudonymous"]) == ("RSD-2026-0413", True)
    assert (
        opened["case"]["discussion_point"]["key"] == "pic"
        and opened["case"]["professionals"] == "Jeugdprofessional toegang"
    )
    deadlines = by_key(opened["open_deadlines"])
    assert deadlines["gezinsplan_gereed"]["reasons"] == ["verschoven: Koningsdag (27 april 2026)"]
    # The municipality's reaction counts 10 working days from the delivered arrangement: until then it waits.
    [waiting] = opened["waiting_deadlines"]
    assert (waiting["key"], waiting["status"], waiting["due_date"]) == ("reactie_arrangement", "waiting", None)
    assert waiting["waiting_for"] == "wacht op levering van het arrangement"
    refused = await bram.post(f"{WBW}/deadlines/{waiting['id']}/suspend", {"reason": "Advies Expertteam gevraagd."})
    assert refused.status_code == 422 and "status 'wacht'" in refused.json()["detail"]

    # Waiting on the Expertteam: the arrangement term stops on 4 March and runs on from 9 March.
    clock.set(at(2026, 3, 4, 11))
    arrangement = deadlines["arrangement_gereed"]["id"]
    suspended = await bram.done(f"{WBW}/deadlines/{arrangement}/suspend", {"reason": "Advies Expertteam gevraagd."})
    assert suspended["status"] == "suspended"
    again = await bram.post(f"{WBW}/deadlines/{arrangement}/suspend", {"reason": "Nogmaals."})
    assert again.status_code == 409 and again.json()["detail"] == "Deze termijn is al opgeschort."
    clock.set(at(2026, 3, 9, 8))
    resumed = await bram.done(f"{WBW}/deadlines/{arrangement}/resume", {})
    assert resumed["status"] == "open" and resumed["due_date"] == "2026-03-30"
    assert resumed["reasons"][0] == "opgeschort van 4 maart 2026 tot 9 maart 2026"

    # The arrangement arrives on Friday 6 March (the region records it; the API has no upload): the reaction
    # is due on Friday 20 March.
    region = await Region.objects().where(Region.slug == "west-brabant-west").first()
    await escalations.meet_deadlines_for_document(
        RegionScope(region.id), opened["id"], "arrangement", at(2026, 3, 6, 12)
    )
    started = by_key((await bram.ok(f"{WBW}/escalations/{opened['id']}"))["open_deadlines"])
    assert started["reactie_arrangement"]["due_date"] == "2026-03-20"
    assert "arrangement_gereed" not in started  # met by the delivery

    clock.set(at(2026, 3, 21, 1))
    await sweep(clock)
    assert in_a_row(await kinds(bram, WBW, opened), MISSED_NOTIFY_SUGGEST)
    for step in ("lokale_aanstuurder", "zi2t_advies", "geschillencommissie"):
        result = await move(bram, WBW, opened, step, f"Opschalen: {step}.")
    assert result["escalation"]["current_step"]["key"] == "geschillencommissie"
    result = await move(bram, WBW, opened, "uitspraak", "Uitspraak ontvangen.")
    assert result["escalation"]["status"] == "closed" and result["escalation"]["outcome"] == "uitspraak"


async def test_contract_ladder_dissolution_on_a_bw_6_83_exception(api, clock, bram):
    opened = await bram.done(f"{LEK}/escalations", open_body(KOMPAS_KVK, "contract", "contract", "misbruik"), 201)
    body = {"to_step": "ontbinding", "motivation": "Aanbieder weigert schriftelijk.", "legal_exception": "onzin"}
    unknown = await bram.post(f"{LEK}/escalations/{opened['id']}/transitions", body)
    assert unknown.status_code == 422 and "geen uitzondering van artikel 6:83 BW" in unknown.json()["detail"]
    # The letter's fields (BW 6:267: grounds, effective date, current clients): 400 with the Dutch reason per field.
    body = {**body, "legal_exception": "weigering_nakoming", "letter_fields": {"ingangsdatum": "gisteren"}}
    incomplete = await bram.post(f"{LEK}/escalations/{opened['id']}/transitions", body)
    assert incomplete.status_code == 400 and "De brief is nog niet compleet." in incomplete.json()["detail"]
    assert {e["field"]: e["message"] for e in incomplete.json()["errors"]} == {
        "letter_fields.gronden": "Vul de gronden in: de brief zegt waarop het besluit rust.",
        "letter_fields.ingangsdatum": "‘gisteren’ is geen datum. Schrijf de datum als dag-maand-jaar, bijvoorbeeld "
        "‘1-2-2027’.",
        "letter_fields.zittende_clienten": "Beschrijf wat er gebeurt met de huidige cliënten.",
    }
    result = await move(bram, LEK, opened, "ontbinding", "Aanbieder weigert schriftelijk.",
                        json_extra={"legal_exception": "weigering_nakoming",
                                    "letter_fields": LETTER_FIELDS["ontbinding"]})  # fmt: skip
    assert result["escalation"]["status"] == "closed" and result["escalation"]["outcome"] == "ontbonden"
    assert result["event"]["payload"]["brief_velden"]["ingangsdatum"]["tekst"] == "1 juni 2030"
    assert result["event"]["payload"]["uitzondering"]["grond"] == "weigering_nakoming"


async def test_contract_ladder_verzuim_without_an_ingebrekestelling_is_refused_with_the_dutch_reason(api, clock, bram):
    """Issue 14 point 1, from step 1: the API refuses verzuim straight after the analysis (no notice of default was
    sent), and opzegging/ontbinding before verzuim, each with the ladder's Dutch reason; nothing changes."""
    opened = await bram.done(f"{LEK}/escalations", open_body(KOMPAS_KVK, "contract", "contract", "misbruik"), 201)
    assert opened["current_step"]["key"] == "analyse"
    steps = {s["key"]: s for s in opened["allowed_next_steps"]}  # what is closed, and why, before trying
    assert steps["ingebrekestelling"]["open"] and steps["ingebrekestelling"]["closed_reason"] is None
    assert not steps["verzuim"]["open"]
    assert steps["verzuim"]["closed_label"] == "eerst ingebrekestelling, termijn verstreken"
    assert steps["verzuim"]["closed_reason"].startswith("Verzuim treedt pas in na een ingebrekestelling")
    assert steps["ontbinding"]["closed_label"] == "eerst verzuim" and steps["ontbinding"]["legal_exceptions"] == [
        "fatale_termijn", "nakoming_blijvend_onmogelijk", "weigering_nakoming"]  # fmt: skip
    url = f"{LEK}/escalations/{opened['id']}/transitions"
    verzuim = await bram.post(url, {"to_step": "verzuim", "motivation": "Direct verzuim."})
    assert verzuim.status_code == 422
    assert verzuim.json()["detail"].startswith(
        "Verzuim treedt pas in na een ingebrekestelling of schriftelijke "
        "waarschuwing waarvan de termijn is verstreken (artikel 6:81-6:83 BW)"
    )
    for step in ("opzegging", "ontbinding"):
        refused = await bram.post(url, {"to_step": step, "motivation": "Beëindigen."})
        assert refused.status_code == 422 and "in verzuim is (artikel 6:265 BW)" in refused.json()["detail"]
    detail = await bram.ok(f"{LEK}/escalations/{opened['id']}")
    assert detail["current_step"]["key"] == "analyse" and await kinds(bram, LEK, opened) == ["escalatie_geopend"]


async def test_the_decider_sets_the_reasonable_term_in_the_transition_body(api, clock, bram):
    opened = await bram.done(f"{LEK}/escalations", open_body(KOMPAS_KVK, "contract", "contract", "misbruik"), 201)
    body = {"to_step": "ingebrekestelling", "motivation": "Ernstig.", "terms": {"herstel_na_ingebrekestelling": "x"}}
    bad = await bram.post(f"{LEK}/escalations/{opened['id']}/transitions", body)
    assert bad.status_code == 422 and "'x' is geen termijn" in bad.json()["detail"]
    # The notice's fields (BW 6:82: the shortcoming, what to do, the consequence): 400 per field until filled in.
    body = {**body, "terms": {"herstel_na_ingebrekestelling": "6 weken"}, "letter_fields": {"gevolg": " "}}
    incomplete = await bram.post(f"{LEK}/escalations/{opened['id']}/transitions", body)
    assert incomplete.status_code == 400 and {e["field"] for e in incomplete.json()["errors"]} == {
        "letter_fields.tekortkoming", "letter_fields.verbetering", "letter_fields.gevolg"}  # fmt: skip
    result = await move(bram, LEK, opened, "ingebrekestelling", "Ernstig.",
                        json_extra={"terms": {"herstel_na_ingebrekestelling": "6 weken"},
                                    "letter_fields": LETTER_FIELDS["ingebrekestelling"]})  # fmt: skip
    term = by_key(result["escalation"]["open_deadlines"])["herstel_na_ingebrekestelling"]
    assert term["due_date"] == "2026-04-13"  # 6 weken from Monday 2 March, not the ladder's 4
    assert result["event"]["payload"]["gekozen_termijnen"][0]["gekozen"] == "6 weken"
    assert result["event"]["payload"]["brief_velden"]["verbetering"]["tekst"] == LETTER_FIELDS["ingebrekestelling"][
        "verbetering"]  # fmt: skip


async def test_a_registered_notice_counts_from_its_receipt_and_verzuim_waits_for_it(api, clock, bram):
    """BW 3:37 lid 3: a registered ingebrekestelling's term ends a working day after one through the portal; verzuim
    is refused with the Dutch reason while the term counted from the recorded receipt runs, and once a registered
    notice's term passed without a recorded receipt the API says so and asks for receipt_motivation."""
    opened = await bram.done(f"{LEK}/escalations", open_body(KOMPAS_KVK, "contract", "contract", "misbruik"), 201)
    result = await move(bram, LEK, opened, "ingebrekestelling", "Ernstig.",
                        json_extra={"sending_method": "aangetekend",
                                    "letter_fields": LETTER_FIELDS["ingebrekestelling"]})  # fmt: skip
    assert by_key(result["escalation"]["open_deadlines"])["herstel_na_ingebrekestelling"]["due_date"] == "2026-03-31"
    url = f"{LEK}/escalations/{opened['id']}/transitions"
    clock.set(at(2026, 4, 1, 9))  # counted from the expected receipt (3 March) the term ended on 31 March
    steps = {s["key"]: s for s in (await bram.ok(f"{LEK}/escalations/{opened['id']}"))["allowed_next_steps"]}
    assert steps["verzuim"]["open"] and steps["verzuim"]["receipt_unconfirmed"].startswith(
        "De ontvangst van de brief ‘Ingebrekestelling’ (aangetekend verstuurd op 2 maart 2026) is niet vastgelegd.")
    unproved = await bram.post(url, {"to_step": "verzuim", "motivation": "Niet hersteld."})
    assert unproved.status_code == 422 and "is niet vastgelegd" in unproved.json()["detail"]

    [letter] = result["escalation"]["letters"]
    region = await Region.objects().where(Region.slug == "lekstroom").first()
    await record_letter_receipt(RegionScope(region.id), opened["id"], letter["id"], received_on=at(2026, 3, 5).date(),
                                how="aangetekend", actor=LEK_LEAD, clock=clock)  # fmt: skip
    steps = {s["key"]: s for s in (await bram.ok(f"{LEK}/escalations/{opened['id']}"))["allowed_next_steps"]}
    running = ("De termijn van de brief ‘Ingebrekestelling’ loopt nog tot en met 2 april 2026, gerekend vanaf de "
               "ontvangst van de brief op 5 maart 2026.")  # fmt: skip
    assert not steps["verzuim"]["open"] and steps["verzuim"]["closed_reason"].endswith(running)
    early = await bram.post(url, {"to_step": "verzuim", "motivation": "Niet hersteld."})
    assert early.status_code == 422 and early.json()["detail"].endswith(running)
    assert "termijn_herberekend" in await kinds(bram, LEK, opened)
    clock.set(at(2026, 4, 3, 9))
    done = await move(bram, LEK, opened, "verzuim", "Niet hersteld.")
    assert "ontvangst" not in done["event"]["payload"]  # the receipt is recorded: no reason needed


async def test_contract_ladder_measures_out_of_order_in_lekstroom(api, clock, bram):
    lotte = await api.as_("lek-inkoop")
    opened = await lotte.done(
        f"{LEK}/escalations",
        open_body(KOMPAS_KVK, "contract", "contract", "onrechtmatig_declareren", summary="Declaraties zonder zorg."),
        201,
    )
    assert opened["current_step"]["key"] == "analyse"
    # Free order: from the analysis straight to a notice of default, skipping talk and warning.
    assert "ingebrekestelling" in [s["key"] for s in opened["allowed_next_steps"]]
    result = await move(lotte, LEK, opened, "ingebrekestelling", "Ernstige afwijking in de declaraties.",
                        json_extra={"letter_fields": LETTER_FIELDS["ingebrekestelling"]})  # fmt: skip
    term = by_key(result["escalation"]["open_deadlines"])["herstel_na_ingebrekestelling"]
    assert term["due_date"] == "2026-03-30"  # 4 weken from Monday 2 March
    term = await lotte.done(
        f"{LEK}/deadlines/{term['id']}/extend",
        {"new_term": "6 weken", "reason": "Redelijke termijn vastgesteld op 6 weken"},
    )
    assert term["due_date"] == "2026-04-13" and term["term"] == "6 weken"
    term = await lotte.done(f"{LEK}/deadlines/{term['id']}/extend", {"days": 3, "reason": "Bestuurder ziek"})
    assert term["due_date"] == "2026-04-16"
    shorter = await lotte.post(f"{LEK}/deadlines/{term['id']}/extend", {"new_term": "2 weken", "reason": "x"})
    assert shorter.status_code == 422 and "eindigt niet later dan de huidige vervaldatum" in shorter.json()["detail"]

    # BW 6:81-83: no verzuim before the term of the notice of default has passed; the API says why.
    early = await lotte.post(
        f"{LEK}/escalations/{opened['id']}/transitions", {"to_step": "verzuim", "motivation": "Te vroeg."}
    )
    assert early.status_code == 422 and "termijn is verstreken" in early.json()["detail"]
    dissolve = await bram.post(
        f"{LEK}/escalations/{opened['id']}/transitions", {"to_step": "ontbinding", "motivation": "Ontbinden."}
    )
    assert dissolve.status_code == 422 and "in verzuim is (artikel 6:265 BW)" in dissolve.json()["detail"]
    clock.set(at(2026, 4, 17, 9))  # the notice's term ended on 16 April
    await move(lotte, LEK, opened, "verzuim", "Gebreken niet verholpen.")
    refused = await lotte.post(
        f"{LEK}/escalations/{opened['id']}/transitions", {"to_step": "clientenstop", "motivation": "Proportioneel."}
    )
    assert refused.status_code == 422 and "Alleen een teamleider inkoop" in refused.json()["detail"]
    # 5c before 5a, then 5a; measures combine, each for the five current municipalities.
    await move(bram, LEK, opened, "boete", "Art. 20.2 Resultaatovereenkomst.",
               json_extra={"letter_fields": LETTER_FIELDS["boete"]})  # fmt: skip
    result = await move(bram, LEK, opened, "clientenstop", "Proportioneel na verzuim.",
                        json_extra={"letter_fields": LETTER_FIELDS["clientenstop"]})  # fmt: skip
    measures = result["escalation"]["active_measures"]
    assert [m["kind"] for m in measures] == ["boete", "clientenstop"]
    assert all(len(m["municipalities"]) == 5 for m in measures)
    twice = await bram.post(
        f"{LEK}/escalations/{opened['id']}/transitions",
        {"to_step": "boete", "motivation": "Nog een boete.", "letter_fields": LETTER_FIELDS["boete"]},
    )
    assert twice.status_code == 422 and "geldt al een boete" in twice.json()["detail"]
    await move(bram, LEK, opened, "clientenstop_opheffen", "Wachtlijst opgelost.")
    result = await move(lotte, LEK, opened, "afgesloten", "Verplichtingen nagekomen.")
    closed = result["escalation"]
    assert closed["status"] == "closed" and closed["outcome"] == "nagekomen"
    assert [m["kind"] for m in closed["active_measures"]] == ["boete"]  # ended only on purpose


async def test_lekstroom_consult_in_two_weeks_and_improvement_in_two_months(api, clock):
    lotte = await api.as_("lek-inkoop")
    opened = await lotte.done(
        f"{LEK}/escalations", open_body(VLINDER_KVK, "kwaliteit", "kwaliteit", "professionele_standaarden"), 201
    )
    assert by_key(opened["open_deadlines"])["overleg_binnen"]["due_date"] == "2026-03-16"
    clock.set(at(2026, 3, 10))
    result = await move(lotte, LEK, opened, "verbetertraject", "Verbetertraject afgesproken op 10 maart.")
    assert result["event"]["payload"]["termijnen_gehaald"] == ["overleg_binnen"]
    [trajectory] = result["escalation"]["open_deadlines"]
    assert trajectory["due_date"] == "2026-05-11" and trajectory["reasons"] == ["verschoven: zondag (10 mei 2026)"]
    clock.set(at(2026, 5, 12, 6))
    await sweep(clock)
    detail = await lotte.ok(f"{LEK}/escalations/{opened['id']}")
    assert detail["current_step"]["key"] == "verbetertraject"
    assert [p["step"] for p in detail["proposals"]] == ["tekortkoming"]
    assert "tekortkoming" in [s["key"] for s in detail["allowed_next_steps"]]
    await move(lotte, LEK, opened, "tekortkoming", "Geen resultaat binnen 2 maanden.")
    result = await move(lotte, LEK, opened, "maatregelen_artikel_10", "Artikel 10 lid 3 toepassen.")
    assert result["escalation"]["status"] == "closed" and result["escalation"]["outcome"] == "tekortkoming"


async def test_vng_continuity_ladder_up_to_the_jeugdautoriteit(api, clock):
    ilse = await api.as_("zl-inkoop")
    opened = await ilse.done(
        f"{ZL}/escalations", open_body(VLINDER_KVK, "continuiteit", "continuiteit", "meerkosten"), 201
    )
    assert [d["key"] for d in opened["open_deadlines"]] == ["escalatie_mogelijk"]  # 1 april 2021 is past
    assert opened["open_deadlines"][0]["due_date"] == "2026-03-23"
    clock.set(at(2026, 3, 24, 3))
    await sweep(clock)
    assert in_a_row(await kinds(ilse, ZL, opened), MISSED_NOTIFY_SUGGEST)
    for step in ("accounthoudende_regio", "ozj", "jeugdautoriteit"):
        await move(ilse, ZL, opened, step, f"Opschalen: {step}.")
    result = await move(ilse, ZL, opened, "bestuurlijke_maatregelen", "Jeugdautoriteit bereidt maatregelen voor.")
    assert result["escalation"]["outcome"] == "bestuurlijke_maatregelen"

async def test_the_api_says_which_letter_fields_a_step_needs_and_opening_asks_for_the_start_letters(api, clock):
    """Issue 16: an API client learns from allowed_next_steps what each step's letters need (key, Dutch label, type,
    required); opening on a start step that sends a letter takes its fields and answers 400 per field without
    them. The letter names the shortcoming as filled in, never the summary."""
    ilse = await api.as_("zl-inkoop")
    body = open_body(SAMEN_STERK_KVK, "kwaliteit", "niet_veiligheid", "administratief", letter_fields={},
                     summary="Intern: de directeur reageert traag.")  # fmt: skip
    refused = await ilse.post(f"{ZL}/escalations", body)
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["letter_fields.tekortkoming"]
    opened = await ilse.done(f"{ZL}/escalations", {**body, "letter_fields": {
        **STEP_FIELDS["verzoek_plan_van_aanpak"], "uw_kenmerk": "SSJ-77"}}, 201)  # fmt: skip
    letter = next(e for e in (await ilse.ok(f"{ZL}/escalations/{opened['id']}/timeline"))["items"]
                  if e["kind"] == "escalatie_geopend")  # fmt: skip
    assert letter["payload"]["brief_velden"]["tekortkoming"]["tekst"] == STEP_FIELDS["verzoek_plan_van_aanpak"][
        "tekortkoming"]  # fmt: skip
    steps = {s["key"]: s for s in opened["allowed_next_steps"]}
    official = steps["officiele_brief"]
    assert official["letters"] == [{"letter": "officiele_brief_plan_van_aanpak",
                                    "title": "Officiële brief: plan van aanpak"}]  # fmt: skip
    fields = {f["key"]: f for f in official["letter_fields"]}
    assert fields["tekortkoming"]["required"] is True and fields["tekortkoming"]["type"] == "text"
    assert fields["tekortkoming"]["label"] == "De tekortkoming"
    assert fields["uw_kenmerk"]["required"] is False and fields["uw_kenmerk"]["type"] == "line"
    assert steps["monitoren_plan"]["letter_fields"] == []  # a step without a letter needs nothing


async def test_a_ladder_edit_leaves_a_running_escalation_on_its_version(api, clock):
    """Last in this module: it publishes Zuid-Limburg's quality ladder v2."""
    ilse = await api.as_("zl-inkoop")
    running = await ilse.done(
        f"{ZL}/escalations", open_body(SAMEN_STERK_KVK, "kwaliteit", "niet_veiligheid", "administratief"), 201
    )
    assert running["ladder"]["version"] == 1

    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    v1 = await ladders.latest_version(scope, await scope.objects(Ladder).where(Ladder.key == "kwaliteit").first())
    definition = dict(v1.definition)
    steps = []
    for step in definition["steps"]:
        if step["key"] == "verzoek_plan_van_aanpak":
            step = {**step, "title": "Plan van aanpak vragen", "next": ["monitoren_plan"]}
        steps.append(step)
    published = await ladders.publish(
        scope,
        LadderSpec.model_validate({**definition, "steps": steps}),
        note="officiële brief niet meer direct na het verzoek",
    )
    assert published.version == 2

    listed = {item["key"]: item for item in await ilse.ok(f"{ZL}/ladders")}
    assert listed["kwaliteit"]["latest_version"] == 2
    ladder = await ilse.ok(f"{ZL}/ladders/kwaliteit")
    assert [v["version"] for v in ladder["versions"]] == [1, 2] and ladder["versions"][1]["note"].startswith(
        "officiële"
    )
    old = await ilse.ok(f"{ZL}/ladders/kwaliteit/versions/1")
    assert next(s for s in old["definition"]["steps"] if s["key"] == "verzoek_plan_van_aanpak")["next"] == [
        "monitoren_plan",
        "officiele_brief",
    ]

    detail = await ilse.ok(f"{ZL}/escalations/{running['id']}")
    assert detail["ladder"]["version"] == 1 and detail["ladder"]["latest_version"] == 2
    assert detail["current_step"]["title"] == "Aanbieder vragen om een plan van aanpak (mail of kwartaalgesprek)"
    assert [s["key"] for s in detail["allowed_next_steps"]] == ["monitoren_plan", "officiele_brief"]
    result = await move(ilse, ZL, running, "officiele_brief", "Volgens versie 1 van de ladder.")
    assert result["escalation"]["current_step"]["key"] == "officiele_brief"

    newer = await ilse.done(
        f"{ZL}/escalations", open_body(SAMEN_STERK_KVK, "kwaliteit", "niet_veiligheid", "administratief"), 201
    )
    assert newer["ladder"]["version"] == 2 and newer["current_step"]["title"] == "Plan van aanpak vragen"
    assert [s["key"] for s in newer["allowed_next_steps"]] == ["monitoren_plan"]
    refused = await ilse.post(
        f"{ZL}/escalations/{newer['id']}/transitions", {"to_step": "officiele_brief", "motivation": "Zoals vroeger."}
    )
    assert (
        refused.status_code == 422 and "Toegestaan vanuit deze stap: 'Team inkoop monitort" in refused.json()["detail"]
    )

