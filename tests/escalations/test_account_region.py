"""The account-holding region (seed 004, issue 15 point 3): its default, the platform admin's choice, and the one
sharing across regions: a continuity escalation opened in Lekstroom for a provider whose account region is
Zuid-Limburg is listed for Zuid-Limburg's team, read there without Lekstroom's internal notes or other ladders, and
Zuid-Limburg takes the mediation step; an unrelated region sees nothing."""

from __future__ import annotations

import re
from datetime import date

from apps.accounts.roles import Role
from apps.admin import providers as admin_providers
from apps.audit.tables import AuditEntry
from apps.escalations import account_region, services
from apps.escalations.account_region import account_region_of, shared_escalation
from apps.escalations.tables import Escalation, TimelineEvent
from apps.notifications.tables import Notification
from apps.providers.tables import Contract, Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.tenancy import AccountRegionScope, PlatformScope, RegionScope
from tests.accounts.support import app_client, login
from tests.letter_fields import opening
from tests.workspace.support import field_error, post_form

LEK_TEAM = Actor(label="Lotte Lekstroom", roles=frozenset({Role.INKOOP_MEDEWERKER}))


async def test_the_default_is_the_region_with_the_most_running_contracts_ties_by_name(scopes, provider, clock):
    async def contract(slug: str, reference: str, until: date | None = None) -> None:
        await scopes[slug].new(Contract, provider=provider.id, reference=reference, valid_from=date(2025, 1, 1),
                               valid_until=until).save()  # fmt: skip

    async def holders() -> set[str]:
        """The regions whose account-holding scope (the rule in SQL) shares this provider's escalations: always the
        one region account_region_of (the rule in Python) names."""
        return {slug for slug, scope in scopes.items()
                if provider.id in (await AccountRegionScope.for_region(scope.region_id, clock.today())).provider_ids}

    assert await account_region_of(provider, clock) is None  # no contract: no account-holding region
    assert await holders() == set()
    await contract("west-brabant-west", "WBW-OUD", until=date(2025, 6, 30))
    assert (await account_region_of(provider, clock)).slug == "west-brabant-west"  # only ended ones: all count
    assert await holders() == {"west-brabant-west"}
    await contract("zuid-limburg", "ZL-1")
    await contract("lekstroom", "LEK-1")
    found = await account_region_of(provider, clock)
    assert (found.slug, found.chosen) == ("lekstroom", False)  # 1-1: "Jeugdhulp Lekstroom" comes first by name
    assert "standaard" in found.label and await holders() == {"lekstroom"}
    await contract("zuid-limburg", "ZL-2")
    assert (await account_region_of(provider, clock)).slug == "zuid-limburg" and await holders() == {"zuid-limburg"}
    for n in range(3):  # ended contracts do not make a region larger while others run
        await contract("west-brabant-west", f"WBW-{n}", until=date(2025, 12, 31))
    assert (await account_region_of(provider, clock)).slug == "zuid-limburg" and await holders() == {"zuid-limburg"}


async def _region(slug: str) -> Region:
    return await Region.objects().where(Region.slug == slug).first()


async def _vlinder() -> Provider:
    return await Provider.objects().where(Provider.kvk_number == "90000001").first()  # ZL and Lekstroom


async def test_the_platform_admin_chooses_the_account_region_audited(world, oidc_settings):
    vlinder = await _vlinder()
    zl, wbw = await _region("zuid-limburg"), await _region("west-brabant-west")
    url = f"/beheer/aanbieders/{vlinder.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "beheer", url)
        page = await http.get(url)
        assert page.status_code == 200 and "Jeugdhulp Lekstroom (standaard" in page.text  # the default, 1-1 by name
        refused = await post_form(http, f"{url}/accounthoudende-regio", {"regio": str(wbw.id)})  # no contract there
        assert refused.status_code == 422 and "contract" in field_error(refused.text, "regio")
        saved = await post_form(http, f"{url}/accounthoudende-regio", {"regio": str(zl.id)})
        assert saved.status_code == 303
        page = await http.get(saved.headers["location"])
        assert 'id="huidige-accounthouder">Jeugdhulp Zuid-Limburg<' in page.text
    assert (await _vlinder()).account_region == zl.id
    entries = (
        await PlatformScope()
        .select(AuditEntry, AuditEntry.action, AuditEntry.target_id, AuditEntry.detail, AuditEntry.actor_label)
        .where(AuditEntry.action == "provider.account_region")
    )
    assert [(e["target_id"], e["detail"]["naar"], e["actor_label"]) for e in entries] == [
        (str(vlinder.id), str(zl.id), "Bram Beheer")
    ]
    async with app_client(oidc_settings) as http:  # a region's team never reaches the admin page
        await login(http, "zl-lead")
        assert (await http.get(url)).status_code == 404


async def test_a_continuity_escalation_is_coordinated_by_the_account_holding_region(world, oidc_settings, clock):
    vlinder = await _vlinder()
    lek_region, zl_region = await _region("lekstroom"), await _region("zuid-limburg")
    wbw_region = await _region("west-brabant-west")
    lek = RegionScope(lek_region.id)
    await Provider.update({Provider.account_region: zl_region.id}).where(Provider.id == vlinder.id)
    continuity = await services.open_escalation(
        lek, provider=vlinder, ladder_key="continuiteit", category="continuiteit", subcategory="meerkosten",
        summary="Geen overeenstemming over de meerkosten van De Vlinder.", motivation="Eerste contactmoment.",
        actor=LEK_TEAM,
    )  # fmt: skip
    await services.add_note(lek, continuity.id, actor=LEK_TEAM, text="Intern: de liquiditeit is krap.")
    quality = await services.open_escalation(
        lek, provider=vlinder, ladder_key="kwaliteit", category="kwaliteit",
        summary="Kwaliteit art. 28 bij De Vlinder.", motivation="Signaal van de toegang.", actor=LEK_TEAM,
        letter_fields=opening("kwaliteit"),
    )  # fmt: skip
    shared_url = f"/regio/zuid-limburg/accounthouder/{continuity.id}"

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", "/regio/zuid-limburg/accounthouder")
        listed = await http.get("/regio/zuid-limburg/accounthouder")
        assert listed.status_code == 200
        assert continuity.reference in listed.text and "Jeugdhulp Lekstroom" in listed.text
        assert "a. Gemeente en aanbieder proberen tot overeenstemming te komen" in listed.text  # the step
        assert quality.reference not in listed.text  # another ladder of the same provider in Lekstroom
        page = await http.get(shared_url)
        assert page.status_code == 200 and continuity.reference in page.text
        assert "De interne notities" in page.text and "de liquiditeit is krap" not in page.text
        assert (await http.get(f"/regio/zuid-limburg/accounthouder/{quality.id}")).status_code == 404
        assert (await http.get(f"/regio/zuid-limburg/escalaties/{continuity.id}")).status_code == 404  # no region page
        refused = await post_form(http, f"{shared_url}/bemiddeling", {"motivering": ""})
        assert refused.status_code == 422
        assert "Geef een motivering" in field_error(refused.text, "bemiddeling-motivering")
        form = {"motivering": "Wij bemiddelen als accounthoudende regio.", "sleutel": "k1"}
        taken = await post_form(http, f"{shared_url}/bemiddeling", form)
        assert taken.status_code == 303
        page = await http.get(taken.headers["location"])
        assert 'id="huidige-stap">b. Accounthoudende regio bemiddelt<' in page.text
        assert 'action="' + shared_url + '/bemiddeling"' not in page.text  # taken: no second mediation form
        again = await post_form(http, f"{shared_url}/bemiddeling", {"motivering": "Nog eens.", "sleutel": "k2"})
        assert again.status_code == 422

    escalation = await lek.get(Escalation, continuity.id)
    assert escalation.current_step == "accounthoudende_regio"  # the owning region's row, moved by its own engine
    step = await lek.objects(TimelineEvent).where(
        (TimelineEvent.escalation == continuity.id) & (TimelineEvent.kind == "stap_gewijzigd")
    ).first()  # fmt: skip
    assert step.actor_label == "Ilse Inkoop (accounthoudende regio Jeugdhulp Zuid-Limburg)"
    # audited in both regions
    lek_audit = await lek.select(AuditEntry, AuditEntry.action).where(AuditEntry.target_id == str(continuity.id))
    assert "escalation.transition" in {a["action"] for a in lek_audit}
    zl_audit = await RegionScope(zl_region.id).select(AuditEntry, AuditEntry.detail).where(
        AuditEntry.action == "escalation.account_region_mediation")  # fmt: skip
    assert [a["detail"]["regio"] for a in zl_audit] == ["lekstroom"]
    # the ladder's notice for the account-holding region reaches Zuid-Limburg's purchasing team, not a mailbox
    zl_notices = await RegionScope(zl_region.id).select(Notification, Notification.recipient, Notification.channel,
                                                        Notification.payload)  # fmt: skip
    zl_notices = [n for n in zl_notices if n["payload"].get("escalation_id") == str(continuity.id)]
    assert {n["channel"] for n in zl_notices} == {"email", "inapp"}
    mails = sorted(n["recipient"] for n in zl_notices if n["channel"] == "email")
    assert mails == ["i.inkoop@zuid-limburg.localhost", "l.leider@zuid-limburg.localhost"]
    assert {n["payload"]["pad"] for n in zl_notices} == {shared_url}
    lek_mails = await lek.select(Notification, Notification.recipient).where(
        Notification.recipient == "accounthouder@lekstroom.example")  # fmt: skip
    assert lek_mails == []
    told = await lek.objects(TimelineEvent).where(
        (TimelineEvent.escalation == continuity.id) & (TimelineEvent.kind == "melding_verstuurd")
    ).order_by(TimelineEvent.sequence, ascending=False).first()  # fmt: skip
    assert told.payload["ontvangers"] == [
        {"rol": "account_houdende_regio", "adres": "team inkoop Jeugdhulp Zuid-Limburg"}
    ]

    async with app_client(oidc_settings) as http:  # the owning region sees who coordinates; it holds no account
        await login(http, "lek-inkoop", f"/regio/lekstroom/escalaties/{continuity.id}")
        page = await http.get(f"/regio/lekstroom/escalaties/{continuity.id}")
        assert 'id="accounthoudende-regio">Jeugdhulp Zuid-Limburg, coördineert<' in page.text
        assert "accounthoudende-regio" not in (await http.get(f"/regio/lekstroom/escalaties/{quality.id}")).text
        assert 'id="accounthouder-leeg"' in (await http.get("/regio/lekstroom/accounthouder")).text
        assert (await http.get(f"/regio/west-brabant-west/accounthouder/{continuity.id}")).status_code == 404
    async with app_client(oidc_settings) as http:  # and the provider, in its portal
        await login(http, "vlinder-beheerder", f"/portaal/escalaties/{continuity.id}")
        page = await http.get(f"/portaal/escalaties/{continuity.id}")
        assert 'id="accounthoudende-regio">Jeugdhulp Zuid-Limburg, coördineert<' in page.text
    assert await shared_escalation(wbw_region, continuity.id, clock) is None  # an unrelated region: nothing


async def test_the_account_holding_list_pages_by_keyset_open_ones_first(world, oidc_settings, clock, monkeypatch):
    """A region holding the account of a large provider sees its continuity escalations page by page (issue 20:
    no cap, no OFFSET): every one exactly once, the running ones before the closed, and back again."""
    monkeypatch.setattr(account_region, "PAGE_SIZE", 2)
    vlinder = await _vlinder()
    lek_region, zl_region = await _region("lekstroom"), await _region("zuid-limburg")
    lek = RegionScope(lek_region.id)
    await Provider.update({Provider.account_region: zl_region.id}).where(Provider.id == vlinder.id)
    opened = []
    for n in range(5):
        opened.append(await services.open_escalation(
            lek, provider=vlinder, ladder_key="continuiteit", category="continuiteit", subcategory="meerkosten",
            summary=f"Continuïteitsvraag {n} van De Vlinder.", motivation="Eerste contactmoment.", actor=LEK_TEAM,
        ))  # fmt: skip
    closed = opened[0]
    await services.close_escalation(lek, closed.id, actor=LEK_TEAM, outcome="ingetrokken", motivation="Opgelost.")

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", "/regio/zuid-limburg/accounthouder")
        url, pages = "/regio/zuid-limburg/accounthouder", []
        while url:
            page = await http.get(url)
            assert page.status_code == 200
            pages.append(page.text)
            found = re.search(r'rel="next" href="([^"]+)"', page.text)
            url = found.group(1).replace("&amp;", "&") if found else ""
        link = r'href="/regio/zuid-limburg/accounthouder/[^"]+">([^<]+)<'
        seen = [ref for text in pages for ref in re.findall(link, text)]
        assert len(seen) == len(set(seen)) and {e.reference for e in opened} <= set(seen)  # each exactly once
        assert len(pages) == (len(seen) + 1) // 2 >= 3  # the demo's own one of Over de Grens besides these five
        assert f"{len(seen)} continuïteitsvraagstukken" in pages[0] and "deze pagina toont er 2" in pages[0]
        assert seen[-1] == closed.reference  # the closed one last
        back = re.search(r'rel="prev" href="([^"]+)"', pages[1]).group(1).replace("&amp;", "&")
        assert (await http.get(back)).text.count("/regio/zuid-limburg/accounthouder/") == \
            pages[0].count("/regio/zuid-limburg/accounthouder/")  # fmt: skip
        stale = await http.get("/regio/zuid-limburg/accounthouder?na=niet-van-ons")
        assert stale.status_code == 200 and "deze pagina toont er 2" in stale.text  # a foreign cursor: page 1


async def test_the_admins_provider_list_is_searchable_and_paged(world, oidc_settings, monkeypatch):
    """10,000 providers nationally: the admin finds one by name or KvK number and pages through the rest."""
    monkeypatch.setattr(admin_providers, "PAGE_SIZE", 2)
    vlinder = await _vlinder()
    total = await Provider.count()
    async with app_client(oidc_settings) as http:
        await login(http, "beheer", "/beheer/aanbieders")
        url, names = "/beheer/aanbieders", []
        while url:
            page = await http.get(url)
            assert page.status_code == 200
            names += re.findall(r'href="/beheer/aanbieders/[^"]+">([^<]+)<', page.text)
            found = re.search(r'rel="next" href="([^"]+)"', page.text)
            url = found.group(1).replace("&amp;", "&") if found else ""
        assert len(names) == total and names == sorted(names)
        by_kvk = await http.get(f"/beheer/aanbieders?zoek={vlinder.kvk_number}")
        assert re.findall(r'href="/beheer/aanbieders/[^"]+">([^<]+)<', by_kvk.text) == [vlinder.name]
        by_name = await http.get("/beheer/aanbieders", params={"zoek": vlinder.name[3:9].lower()})
        assert vlinder.name in by_name.text
        none = await http.get("/beheer/aanbieders?zoek=bestaat-niet")
        assert 'id="aanbieders-geen"' in none.text
