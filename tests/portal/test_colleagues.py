"""Provider admins manage their colleagues (invite, change a role, remove access, revoke an invitation), and a
person who works for two provider organisations switches between them without seeing the other's data."""

from __future__ import annotations

import pytest

from apps.accounts.services import Person
from apps.accounts.tables import Invitation, Membership, User
from apps.audit.tables import AuditEntry
from apps.notifications.tables import Notification
from apps.portal import colleagues as team
from apps.providers.tables import Provider
from tests.accounts.support import TEST_BASE, app_client, csrf_headers, login
from tests.portal.support import VLINDER_KVK

NINA = "nina@devlinder.localhost"


async def provider(kvk: str) -> Provider:
    return await Provider.objects().where(Provider.kvk_number == kvk).first()


async def user(subject: str) -> User:
    return await User.objects().where(User.subject == subject).first()


async def roles_at(subject: str, kvk: str) -> list[str]:
    found = await user(subject)
    if found is None:
        return []
    rows = await Membership.select(Membership.role).where(
        (Membership.user == found.id) & (Membership.provider == (await provider(kvk)).id)
    )
    return sorted(row["role"] for row in rows)


async def audit_actions() -> list[str]:
    return [row["action"] for row in await AuditEntry.select(AuditEntry.action)]


async def invitation_link(email: str) -> str:
    invitation = await Invitation.objects().where(Invitation.email == email).first()
    mail = await Notification.objects().where(Notification.idempotency_key == f"invitation:{invitation.id}").output(
        load_json=True
    ).first()  # fmt: skip
    return mail.payload["link"].removeprefix(TEST_BASE)


async def test_a_provider_employee_may_not_manage_colleagues(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        home = await login(http, "vlinder-medewerker", "/portaal/")
        assert "U werkt voor <strong>Jeugdzorg De Vlinder B.V.</strong>" in home.text
        assert "/portaal/collegas/" not in home.text  # no link to a page they may not use
        assert (await http.get("/portaal/collegas/")).status_code == 403
        kim = await user("kim-twee")
        for path in ("/portaal/collegas/uitnodigen", f"/portaal/collegas/{kim.id}/rol",
                     f"/portaal/collegas/{kim.id}/verwijderen"):  # fmt: skip
            response = await http.post(path, data={"email": NINA, "rol": "aanbieder_beheerder"},
                                       headers=csrf_headers(http))  # fmt: skip
            assert response.status_code == 403, path
    assert await roles_at("kim-twee", VLINDER_KVK) == ["aanbieder_medewerker"]
    assert await Invitation.count().where(Invitation.email == NINA) == 0


async def test_admin_invites_a_colleague_who_joins_and_is_then_managed(world, oidc_settings):
    async with app_client(oidc_settings) as admin:
        page = await login(admin, "vlinder-beheerder", "/portaal/collegas/")
        assert page.status_code == 200 and "Collega's van Jeugdzorg De Vlinder B.V." in page.text
        assert "Bas Vlinder" in page.text and "Kim Tweeling" in page.text
        assert 'aria-current="page">Collega&#39;s</a>' in page.text or 'aria-current="page">Collega\'s' in page.text

        # Server-side validation: a Dutch error next to the field, what was typed is kept.
        wrong = await admin.post("/portaal/collegas/uitnodigen", data={"email": "nina-devlinder", "rol":
                                 "aanbieder_beheerder"}, headers=csrf_headers(admin))  # fmt: skip
        assert wrong.status_code == 422
        assert 'id="email-fout">Fout: Vul een geldig e-mailadres in' in wrong.text
        assert 'value="nina-devlinder"' in wrong.text and 'value="aanbieder_beheerder" selected' in wrong.text

        sent = await admin.post("/portaal/collegas/uitnodigen", data={"email": NINA, "rol": "aanbieder_medewerker"},
                                headers=csrf_headers(admin))  # fmt: skip
        assert sent.status_code == 303
        again = await admin.post("/portaal/collegas/uitnodigen", data={"email": NINA, "rol": "aanbieder_medewerker"},
                                 headers=csrf_headers(admin))  # a double submit  # fmt: skip
        assert again.status_code == 422 and "Er staat al een uitnodiging open" in again.text
        assert await Invitation.count().where(Invitation.email == NINA) == 1
        listed = await admin.get("/portaal/collegas/")
        assert f"De uitnodiging voor {NINA} is aangemaakt" in listed.text
        assert "verstuurd." not in listed.text and "e-mail wacht op verzending" in listed.text  # not sent yet
        assert f'data-email="{NINA}"' in listed.text and "als medewerker aanbieder" in listed.text

        async with app_client(oidc_settings) as nina:
            link = await invitation_link(NINA)
            joined = await login(nina, "nina-nieuw", link)
            assert "U heeft de uitnodiging aanvaard" in joined.text
        nina_user = await user("nina-nieuw")
        listed = await admin.get("/portaal/collegas/")
        assert "Nina Nieuw" in listed.text and "Er staan geen uitnodigingen open." in listed.text

        promoted = await admin.post(f"/portaal/collegas/{nina_user.id}/rol", data={"rol": "aanbieder_beheerder"},
                                    headers=csrf_headers(admin))  # fmt: skip
        assert promoted.status_code == 303
        twice = await admin.post(f"/portaal/collegas/{nina_user.id}/rol", data={"rol": "aanbieder_beheerder"},
                                 headers=csrf_headers(admin))  # fmt: skip
        assert twice.status_code == 303
        assert await roles_at("nina-nieuw", VLINDER_KVK) == ["aanbieder_beheerder"]
        assert (await audit_actions()).count("role.changed") == 1  # the double submit changed nothing

        bas = await user("vlinder-beheerder")
        own = await admin.post(f"/portaal/collegas/{bas.id}/rol", data={"rol": "aanbieder_medewerker"},
                               headers=csrf_headers(admin))  # fmt: skip
        assert own.status_code == 422 and "U kunt uw eigen rol hier niet wijzigen" in own.text
        own = await admin.post(f"/portaal/collegas/{bas.id}/verwijderen", headers=csrf_headers(admin))
        assert own.status_code == 422 and "U kunt uw eigen toegang hier niet intrekken" in own.text
        assert await roles_at("vlinder-beheerder", VLINDER_KVK) == ["aanbieder_beheerder"]

        kim = await user("kim-twee")
        removed = await admin.post(f"/portaal/collegas/{kim.id}/verwijderen", headers=csrf_headers(admin),
                                   follow_redirects=True)  # fmt: skip
        assert "Kim Tweeling heeft geen toegang meer" in removed.text
        assert 'id="collega-' + str(kim.id) not in removed.text
        assert await roles_at("kim-twee", VLINDER_KVK) == []
        assert await roles_at("kim-twee", "90000004") == ["aanbieder_beheerder"]  # her other organisation stays
        second = await admin.post(f"/portaal/collegas/{kim.id}/verwijderen", headers=csrf_headers(admin))
        assert second.status_code == 404  # no longer a colleague: a second click changes nothing

        outsider = await user("zl-inkoop")  # not a colleague: the same answer as a missing person
        response = await admin.post(f"/portaal/collegas/{outsider.id}/rol", data={"rol": "aanbieder_beheerder"},
                                    headers=csrf_headers(admin))  # fmt: skip
        assert response.status_code == 404
    assert {"invitation.sent", "invitation.accepted", "role.changed", "role.revoked"} <= set(await audit_actions())


async def test_admin_revokes_an_open_invitation(world, oidc_settings):
    async with app_client(oidc_settings) as admin:
        await login(admin, "vlinder-beheerder", "/portaal/collegas/")
        await admin.post("/portaal/collegas/uitnodigen", data={"email": "noor@devlinder.localhost",
                         "rol": "aanbieder_medewerker"}, headers=csrf_headers(admin))  # fmt: skip
        invitation = await Invitation.objects().where(Invitation.email == "noor@devlinder.localhost").first()
        link = await invitation_link("noor@devlinder.localhost")
        revoked = await admin.post(f"/portaal/collegas/uitnodigingen/{invitation.id}/intrekken",
                                   headers=csrf_headers(admin), follow_redirects=True)  # fmt: skip
        assert "De uitnodiging is ingetrokken" in revoked.text and "Er staan geen uitnodigingen open." in revoked.text
        page = await admin.get(link)
        assert page.status_code == 410 and "ingetrokken" in page.text
        demo = await Invitation.objects().where(Invitation.region.is_not_null()).first()  # a region's invitation
        assert (await admin.post(f"/portaal/collegas/uitnodigingen/{demo.id}/intrekken",
                                 headers=csrf_headers(admin))).status_code == 404  # fmt: skip
    assert "invitation.revoked" in await audit_actions()


async def test_the_organisation_always_keeps_an_admin(world):
    vlinder = await provider(VLINDER_KVK)
    bas = await user("vlinder-beheerder")
    # Someone acting as admin of De Vlinder without being in its team (a stale session, say) cannot demote or
    # remove the last admin: the rule holds in the service, not only in the page.
    outsider = Person(user_id=(await user("zl-inkoop")).id, name="X", email="x@x",
                      provider_roles={vlinder.id: frozenset({"aanbieder_beheerder"})})  # fmt: skip
    with pytest.raises(team.ColleagueError, match="minstens één beheerder"):
        await team.change_role(vlinder.id, bas.id, "aanbieder_medewerker", by=outsider)
    with pytest.raises(team.ColleagueError, match="minstens één beheerder"):
        await team.remove(vlinder.id, bas.id, by=outsider)
    with pytest.raises(team.ColleagueError, match="Kies een rol"):
        await team.change_role(vlinder.id, bas.id, "inkoop_lead", by=outsider)
    assert await roles_at("vlinder-beheerder", VLINDER_KVK) == ["aanbieder_beheerder"]


async def test_a_person_at_two_providers_switches_and_sees_only_the_active_one(world, oidc_settings):
    kompas = await provider("90000004")
    vlinder = await provider(VLINDER_KVK)
    async with app_client(oidc_settings) as http:
        home = await login(http, "kim-twee", "/portaal/")
        assert "(u werkt voor 2 organisaties)" in home.text and 'name="organisatie"' in home.text
        first = "Jeugdzorg De Vlinder B.V." if str(vlinder.id) < str(kompas.id) else "Praktijk Kompas Jeugd-GGZ"
        assert f"U werkt voor <strong>{first}</strong>" in home.text

        switched = await http.post("/portaal/organisatie/", data={"organisatie": str(kompas.id)},
                                   headers=csrf_headers(http), follow_redirects=True)  # fmt: skip
        assert "U werkt nu voor Praktijk Kompas Jeugd-GGZ." in switched.text
        assert "U werkt voor <strong>Praktijk Kompas Jeugd-GGZ</strong>" in switched.text
        assert "Klachtenregeling niet op orde" in switched.text  # Kompas' escalation in Lekstroom
        assert world["zl"].reference not in switched.text and "Jaarverantwoording 2025" not in switched.text
        assert (await http.get(f"/portaal/escalaties/{world['zl'].id}")).status_code == 404  # De Vlinder's
        register = await http.get("/portaal/bewijs")
        assert "Bewijsregister van Praktijk Kompas Jeugd-GGZ" in register.text
        assert "Medewerker 0147" not in register.text  # De Vlinder's demo VOG
        team_page = await http.get("/portaal/collegas/")
        assert team_page.status_code == 200 and "Collega's van Praktijk Kompas Jeugd-GGZ" in team_page.text
        assert "Bas Vlinder" not in team_page.text

        elsewhere = await provider("90000002")  # not hers: ignored
        await http.post("/portaal/organisatie/", data={"organisatie": str(elsewhere.id)}, headers=csrf_headers(http))
        still = await http.get("/portaal/")
        assert "U werkt voor <strong>Praktijk Kompas Jeugd-GGZ</strong>" in still.text

        back = await http.post("/portaal/organisatie/", data={"organisatie": str(vlinder.id)},
                               headers=csrf_headers(http), follow_redirects=True)  # fmt: skip
        assert "U werkt voor <strong>Jeugdzorg De Vlinder B.V.</strong>" in back.text
        assert world["zl"].reference in back.text and "Klachtenregeling niet op orde" not in back.text
        assert (await http.get("/portaal/collegas/")).status_code == 403  # an employee at De Vlinder
        assert (await http.get(f"/portaal/escalaties/{world['zl'].id}")).status_code == 200
