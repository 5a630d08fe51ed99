"""Who reads and writes what through the API, what bad input gets, and the read-only endpoints."""

from __future__ import annotations

import pytest

from apps.accounts.roles import Role
from apps.accounts.tables import Membership, User
from apps.escalations import services
from apps.escalations.tables import Escalation, TimelineEvent
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.tenancy import RegionScope, UserScope
from tests.api.conftest import KOMPAS_KVK, SAMEN_STERK_KVK, VLINDER_KVK
from tests.letter_fields import opening

ZL = "/api/v1/regions/zuid-limburg"
LEK = "/api/v1/regions/lekstroom"


@pytest.fixture(scope="module")
async def opened(api):
    """An escalation of De Vlinder in Zuid-Limburg with an internal note, opened through the API."""
    ilse = await api.as_("zl-inkoop")
    body = {
        "provider_kvk": VLINDER_KVK,
        "ladder": "kwaliteit",
        "category": "niet_veiligheid",
        "subcategory": "administratief",
        "summary": "Jaarverslag ontbreekt.",
        "motivation": "Signaal.",
        "letter_fields": opening("niet_veiligheid"),
    }
    escalation = await ilse.done(f"{ZL}/escalations", body, 201)
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    note_by = Actor(label="Ilse Inkoop", roles=frozenset({"inkoop_medewerker"}))
    await services.add_note(
        RegionScope(region.id), escalation["id"], text="Intern: bestuurder lijkt onwillig.", actor=note_by
    )
    return escalation


async def test_region_detail_and_ladders_for_members_only(api):
    tessa = await api.as_("zl-toegang")
    region = await tessa.ok(ZL)
    assert region["slug"] == "zuid-limburg" and len(region["municipalities"]) == 16
    assert {"cbs_code": "GM1954", "name": "Beekdaelen", "valid_from": "2019-01-01", "valid_until": None} in region[
        "municipalities"
    ]
    assert "GM0951" not in {m["cbs_code"] for m in region["municipalities"]}  # Nuth: merged in 2019
    assert {m["role"] for m in region["mailboxes"]} >= {"inkoop", "gi", "inspectie"}
    kwaliteit = next(ladder for ladder in region["ladders"] if ladder["key"] == "kwaliteit")
    assert kwaliteit["latest_version"] == 1 and [v["version"] for v in kwaliteit["versions"]] == [1]
    ladders = await tessa.ok(f"{ZL}/ladders")
    assert {"key": "kwaliteit", "name": kwaliteit["name"], "latest_version": 1} in ladders
    ladder = await tessa.ok(f"{ZL}/ladders/kwaliteit")
    assert ladder["definition"]["key"] == "kwaliteit" and ladder["versions"][0]["version"] == 1
    assert (await tessa.get(f"{ZL}/ladders/bestaat_niet")).status_code == 404
    assert (await tessa.get(f"{ZL}/ladders/kwaliteit/versions/7")).status_code == 404
    assert (await tessa.get(f"{ZL}/ladders/kwaliteit/versions/een")).status_code == 404

    lotte = await api.as_("lek-inkoop")
    for path in (ZL, f"{ZL}/ladders", f"{ZL}/ladders/kwaliteit", f"{ZL}/escalations", "/api/v1/regions/nergens"):
        assert (await lotte.get(path)).status_code == 404, path
    assert (await lotte.ok(LEK))["slug"] == "lekstroom"
    public = await api.client().get("/api/v1/regions")
    assert public.status_code == 200


async def test_every_member_reads_only_the_team_writes(api, opened):
    path = f"{ZL}/escalations/{opened['id']}"
    for account in ("zl-toegang", "zl-waarnemer"):
        reader = await api.as_(account)
        assert (await reader.ok(path))["reference"] == opened["reference"]
        timeline = await reader.ok(f"{path}/timeline")
        assert any(e["internal"] and e["kind"] == "notitie" for e in timeline["items"])  # region users: flagged
        listed = await reader.ok(f"{ZL}/escalations")
        assert opened["id"] in [item["id"] for item in listed["items"]]
        for write, body in [
            (f"{path}/transitions", {"to_step": "monitoren_plan", "motivation": "x"}),
            (f"{path}/close", {"outcome": "ingetrokken", "motivation": "x"}),
            (
                f"{ZL}/escalations",
                {
                    "provider_kvk": VLINDER_KVK,
                    "ladder": "kwaliteit",
                    "category": "veiligheid",
                    "summary": "x",
                    "motivation": "x",
                },
            ),
            (f"{ZL}/deadlines/{opened['open_deadlines'][0]['id']}/suspend", {"reason": "x"}),
        ]:
            response = await reader.post(write, body)
            assert response.status_code == 403, (account, write, response.text)
    assert (await (await api.as_("zl-inkoop")).ok(path))["current_step"]["key"] == "verzoek_plan_van_aanpak"


async def test_other_regions_ids_are_not_found(api, opened):
    lotte = await api.as_("lek-inkoop")
    deadline = opened["open_deadlines"][0]["id"]
    # Through her own region's paths, Zuid-Limburg's escalation and deadline do not exist.
    for path in (
        f"{LEK}/escalations/{opened['id']}",
        f"{LEK}/escalations/{opened['id']}/timeline",
        f"{LEK}/escalations/{opened['id']}/deadlines",
    ):
        assert (await lotte.get(path)).status_code == 404, path
    for path, body in [
        (f"{LEK}/escalations/{opened['id']}/transitions", {"to_step": "monitoren_plan", "motivation": "x"}),
        (f"{LEK}/escalations/{opened['id']}/close", {"outcome": "ingetrokken", "motivation": "x"}),
        (f"{LEK}/deadlines/{deadline}/suspend", {"reason": "x"}),
        (f"{LEK}/deadlines/{deadline}/resume", {}),
        (f"{LEK}/deadlines/{deadline}/extend", {"days": 2, "reason": "x"}),
    ]:
        response = await lotte.post(path, body)
        assert response.status_code == 404, (path, response.text)
        assert opened["reference"] not in response.text
    # A provider without a contract in Lekstroom cannot be escalated there.
    refused = await lotte.post(
        f"{LEK}/escalations",
        {
            "provider_kvk": SAMEN_STERK_KVK,
            "ladder": "kwaliteit",
            "category": "kwaliteit",
            "summary": "x",
            "motivation": "x",
        },
    )
    assert refused.status_code == 422 and "geen contract" in refused.json()["detail"]
    ilse = await api.as_("zl-inkoop")
    assert (await ilse.get(f"{ZL}/escalations/00000000-0000-0000-0000-000000000000")).status_code == 404
    assert (await ilse.get(f"{ZL}/escalations/niet-een-id")).status_code in (400, 404)


async def test_a_provider_user_of_two_organisations_pages_through_both_by_keyset(api, opened):
    """Vera also works for Kompas: her list merges both organisations in one order, and pages of one, each after
    the one before, are that list."""
    await api.as_("vlinder-medewerker")  # the first login makes her account
    user = await User.objects().where(User.subject == "vlinder-medewerker").first()
    kompas = await Provider.objects().where(Provider.kvk_number == KOMPAS_KVK).first()
    membership = UserScope(user.id).new(Membership, provider=kompas.id, role=Role.AANBIEDER_MEDEWERKER)
    await membership.save()
    try:
        vera = await api.as_("vlinder-medewerker")
        everything = await vera.ok("/api/v1/provider/escalations", limit=200)
        vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
        both = await Escalation.count().where(Escalation.provider.is_in([vlinder.id, kompas.id]))
        assert everything["total"] == len(everything["items"]) == both and everything["next_after"] is None
        assert {item["provider"]["kvk"] for item in everything["items"]} == {VLINDER_KVK, KOMPAS_KVK}
        dues = [item["next_deadline"]["due_at"] for item in everything["items"] if item["next_deadline"]]
        assert dues == sorted(dues) and everything["items"][: len(dues)] == [
            item for item in everything["items"] if item["next_deadline"]
        ]
        pages = [await vera.ok("/api/v1/provider/escalations", limit=1)]
        while pages[-1]["next_after"]:
            pages.append(await vera.ok("/api/v1/provider/escalations", limit=1, after=pages[-1]["next_after"]))
        assert [item for p in pages for item in p["items"]] == everything["items"]
    finally:
        await UserScope(user.id).delete(Membership).where(Membership.id == membership.id)


async def test_provider_user_reads_own_escalations_shared_events_only_and_never_writes(api, opened):
    vera = await api.as_("vlinder-medewerker")  # linked to De Vlinder by the KvK claim at first login
    mine = await vera.ok("/api/v1/provider/escalations")
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    assert mine["items"] and all(item["provider"]["kvk"] == VLINDER_KVK for item in mine["items"])
    all_of_vlinder = await Escalation.count().where(Escalation.provider == vlinder.id)
    assert mine["total"] == all_of_vlinder and opened["id"] in [item["id"] for item in mine["items"]]

    detail = await vera.ok(f"/api/v1/provider/escalations/{opened['id']}")
    assert detail["reference"] == opened["reference"] and "allowed_next_steps" not in detail
    timeline = await vera.ok(f"/api/v1/provider/escalations/{opened['id']}/timeline")
    assert timeline["items"] and all(not e["internal"] for e in timeline["items"])
    assert "onwillig" not in str(timeline) and "notitie" not in [e["kind"] for e in timeline["items"]]
    internal = await TimelineEvent.count().where(
        (TimelineEvent.escalation == opened["id"]) & (TimelineEvent.visibility == "internal")
    )
    assert internal == 1

    other = await Escalation.objects().where(Escalation.provider != vlinder.id).first()
    assert (await vera.get(f"/api/v1/provider/escalations/{other.id}")).status_code == 404
    assert (await vera.get(f"/api/v1/provider/escalations/{other.id}/timeline")).status_code == 404
    # No writing: the region's routes are not theirs.
    for path, body in [
        (f"{ZL}/escalations/{opened['id']}/transitions", {"to_step": "monitoren_plan", "motivation": "Klaar."}),
        (f"{ZL}/escalations/{opened['id']}/close", {"outcome": "opgelost", "motivation": "Klaar."}),
        (
            f"{ZL}/escalations",
            {
                "provider_kvk": KOMPAS_KVK,
                "ladder": "kwaliteit",
                "category": "veiligheid",
                "summary": "x",
                "motivation": "x",
            },
        ),
    ]:
        assert (await vera.post(path, body)).status_code in (403, 404), path
    assert (await vera.get(f"{ZL}/escalations/{opened['id']}")).status_code == 404
    # Region users have no provider view.
    assert (await (await api.as_("zl-inkoop")).get("/api/v1/provider/escalations")).status_code == 404


async def test_list_filters_and_pagination(api, opened):
    ilse = await api.as_("zl-inkoop")
    everything = await ilse.ok(f"{ZL}/escalations", limit=200)
    assert everything["total"] >= 3
    dues = [item["next_deadline"]["due_at"] for item in everything["items"] if item["next_deadline"]]
    assert dues == sorted(dues)
    by_kvk = await ilse.ok(f"{ZL}/escalations", provider=VLINDER_KVK)
    by_id = await ilse.ok(f"{ZL}/escalations", provider=opened["provider"]["id"])
    assert by_kvk["items"] == by_id["items"] and {i["provider"]["kvk"] for i in by_kvk["items"]} == {VLINDER_KVK}
    filtered = await ilse.ok(
        f"{ZL}/escalations", step="verzoek_plan_van_aanpak", status="open", category="niet_veiligheid"
    )
    assert filtered["items"] and all(i["current_step"]["key"] == "verzoek_plan_van_aanpak" for i in filtered["items"])
    first = await ilse.ok(f"{ZL}/escalations", limit=1)
    page = await ilse.ok(f"{ZL}/escalations", limit=1, after=first["next_after"])
    assert page["items"] == everything["items"][1:2] and page["limit"] == 1
    # pages of two, each after the one before (by keyset, also across the escalations without a running deadline),
    # are the list; the total (from the region's tally) is what the list holds, also for a filter
    assert everything["total"] == len(everything["items"]) and everything["total_capped"] is False
    pages = [await ilse.ok(f"{ZL}/escalations", limit=2)]
    while pages[-1]["next_after"]:
        pages.append(await ilse.ok(f"{ZL}/escalations", limit=2, after=pages[-1]["next_after"]))
    assert [item for p in pages for item in p["items"]] == everything["items"]
    assert len(pages) == (everything["total"] + 1) // 2
    assert {p["total"] for p in pages} == {everything["total"]}
    assert filtered["total"] == len(filtered["items"]) and by_kvk["total"] == len(by_kvk["items"])
    closed = await ilse.ok(f"{ZL}/escalations", status="closed", limit=200)
    assert closed["total"] == len(closed["items"]) == sum(1 for i in everything["items"] if i["status"] == "closed")
    assert (await ilse.ok(f"{ZL}/escalations", overdue="true"))["items"] == []  # the system clock: nothing late
    for params in (
        {"limit": 201},
        {"limit": 0},
        {"after": "niet-van-ons"},
        {"after": "x" * 301},
        {"status": "kapot"},
        {"provider": "xyz"},
        {"overdue": "misschien"},
    ):
        response = await ilse.get(f"{ZL}/escalations", **params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["errors"], params


async def test_garbage_to_every_post_is_400_never_500(api, opened):
    ilse = await api.as_("zl-inkoop")
    deadline = opened["open_deadlines"][0]["id"]
    posts = [
        f"{ZL}/escalations",
        f"{ZL}/escalations/{opened['id']}/transitions",
        f"{ZL}/escalations/{opened['id']}/close",
        f"{ZL}/deadlines/{deadline}/suspend",
        f"{ZL}/deadlines/{deadline}/resume",
        f"{ZL}/deadlines/{deadline}/extend",
    ]
    garbage = [
        b"{not json",
        b"[1, 2, 3]",
        b'"tekst"',
        b"null",
        b'{"onbekend": true}',
        b'{"to_step": 5, "outcome": [], "summary": {}, "reason": 1, "days": "veel", "motivation": 3}',
        "\u0000\ufffd".encode(),
    ]
    for path in posts:
        for body in garbage:
            response = await ilse.http.post(
                path, content=body, headers={"content-type": "application/json", **_csrf(ilse)}
            )
            assert response.status_code == 400, (path, body, response.status_code, response.text[:300])
            assert response.json()["detail"], (path, body)
    response = await ilse.post(
        f"{ZL}/escalations", {"provider_kvk": "123", "ladder": "", "category": "x", "summary": "x" * 2001}
    )
    fields = {e["field"] for e in response.json()["errors"]}
    assert response.status_code == 400 and {"provider_kvk", "ladder", "summary"} <= fields, response.text
    missing = await ilse.post(
        f"{ZL}/escalations/{opened['id']}/transitions", {"to_step": "monitoren_plan", "motivation": " "}
    )
    assert missing.status_code == 422 and missing.json()["detail"].startswith("Geef een motivering")
    unknown = await ilse.post(f"{ZL}/escalations/{opened['id']}/transitions", {"to_step": "vliegen", "motivation": "x"})
    assert unknown.status_code == 422 and "kent de stap 'vliegen' niet" in unknown.json()["detail"]
    extend = await ilse.post(f"{ZL}/deadlines/{deadline}/extend", {"new_term": "8 wekn", "reason": "x"})
    assert extend.status_code == 422 and "'8 wekn' is geen termijn" in extend.json()["detail"]
    both = await ilse.post(f"{ZL}/deadlines/{deadline}/extend", {"new_term": "8 weken", "days": 2, "reason": "x"})
    assert both.status_code == 422 and "óf" in both.json()["detail"]
    no_csrf = await ilse.http.post(f"{ZL}/escalations/{opened['id']}/close", json={"outcome": "x", "motivation": "y"})
    assert no_csrf.status_code == 403


def _csrf(client) -> dict:
    from tests.accounts.support import csrf_headers

    return csrf_headers(client.http)


async def test_idempotency_key_header_and_body(api, opened):
    ilse = await api.as_("zl-inkoop")
    body = {
        "provider_kvk": VLINDER_KVK,
        "ladder": "kwaliteit",
        "category": "niet_veiligheid",
        "summary": "x",
        "motivation": "y",
        "letter_fields": opening("niet_veiligheid"),
    }
    escalation = await ilse.done(f"{ZL}/escalations", body, 201)
    path = f"{ZL}/escalations/{escalation['id']}/transitions"
    first = await ilse.done(
        path, {"to_step": "monitoren_plan", "motivation": "Plan ontvangen.", "idempotency_key": "k-1"}, 201
    )
    again = await ilse.done(
        path, {"to_step": "monitoren_plan", "motivation": "Plan ontvangen."}, 200, headers={"Idempotency-Key": "k-1"}
    )
    assert again["replayed"] and again["event"]["sequence"] == first["event"]["sequence"]
    clash = await ilse.post(
        path,
        {"to_step": "monitoren_plan", "motivation": "x", "idempotency_key": "k-2"},
        headers={"Idempotency-Key": "k-3"},
    )
    assert clash.status_code == 400
    closed = await ilse.done(
        f"{ZL}/escalations/{escalation['id']}/close", {"outcome": "ingetrokken", "motivation": "Dubbel gemeld."}
    )
    assert closed["status"] == "closed" and closed["outcome"] == "ingetrokken"
    assert (
        await ilse.post(f"{ZL}/escalations/{escalation['id']}/close", {"outcome": "ingetrokken", "motivation": "x"})
    ).status_code == 409  # closed already: the state, not the request


async def test_calendar_is_public_and_explains_moves(api):
    anonymous = api.client()
    response = await anonymous.get("/api/v1/calendar/add", params={"from": "2026-03-02", "term": "10 werkdagen"})
    assert response.status_code == 200 and response.json()["due_date"] == "2026-03-16"
    easter = await anonymous.get("/api/v1/calendar/add", params={"from": "2026-03-23", "term": "2 weken"})
    assert easter.json()["due_date"] == "2026-04-07" and easter.json()["reasons"] == [
        "verschoven: Tweede Paasdag (6 april 2026)"
    ]
    carnival = await anonymous.get(
        "/api/v1/calendar/add", params={"from": "2026-02-03", "term": "2 weken", "region": "zuid-limburg"}
    )
    assert carnival.json()["due_date"] == "2026-02-18"
    assert carnival.json()["reasons"] == ["verschoven: Carnavalsdinsdag (kantoren gesloten) (17 februari 2026)"]
    for params in (
        {"from": "2026-02-30", "term": "2 weken"},
        {"from": "2026-03-02", "term": "2 wekn"},
        {"term": "2 weken"},
    ):
        bad = await anonymous.get("/api/v1/calendar/add", params=params)
        assert bad.status_code == 400, (params, bad.text)
    unknown = await anonymous.get(
        "/api/v1/calendar/add", params={"from": "2026-03-02", "term": "2 weken", "region": "nergens"}
    )
    assert unknown.status_code == 404
    await anonymous.aclose()


async def test_the_api_answers_401_without_a_session_and_publishes_openapi(api):
    anonymous = api.client()
    assert (await anonymous.get(f"{ZL}/escalations")).status_code == 401
    assert (await anonymous.get("/api/v1/provider/escalations")).status_code == 401
    schema = (await anonymous.get("/api/schema/openapi.json")).json()
    paths = schema["paths"]
    assert "/api/v1/regions/{region_slug}/escalations/{escalation_id}/transitions" in paths
    transition = paths["/api/v1/regions/{region_slug}/escalations/{escalation_id}/transitions"]["post"]
    assert transition["summary"] and transition["tags"] == ["escalations"]
    assert "to_step" in str(schema["components"]["schemas"])
    await anonymous.aclose()
