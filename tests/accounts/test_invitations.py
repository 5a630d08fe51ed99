"""Invitations: sent through the outbox with a hashed token, accepted by logging in through the real local OpenID
provider, refused for another e-mail address, and clear pages for expired, revoked, used and unknown links."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import UUID

import pytest

from apps.accounts import invitations
from apps.accounts.invitations import InvitationError
from apps.accounts.roles import Role
from apps.accounts.services import load_person
from apps.accounts.tables import Invitation, Membership, User
from apps.audit.tables import AuditEntry
from apps.notifications.messages import render
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import SYSTEM, Actor
from core.clock import FrozenClock, system_clock
from tests.accounts.support import TEST_BASE, app_client, csrf_headers, login

NINA = "nina@devlinder.localhost"  # demo account nina-nieuw: no role yet
DEMO_INVITATION = "nieuwe.waarnemer@west-brabant-west.localhost"  # core.demo: an open invitation in WBW
NOT_DEMO = Invitation.email != DEMO_INVITATION


async def person_of(subject: str):
    user = await User.objects().where(User.subject == subject).first()
    return await load_person(user.id)


async def vlinder() -> Provider:
    return await Provider.objects().where(Provider.kvk_number == "90000001").first()


async def region(slug: str) -> Region:
    return await Region.objects().where(Region.slug == slug).first()


async def mail_of(invitation: Invitation) -> Notification:
    key = Notification.idempotency_key == f"invitation:{invitation.id}"
    return await Notification.objects().where(key).output(load_json=True).first()


async def token_of(invitation: Invitation) -> str:
    link = (await mail_of(invitation)).payload["link"]
    assert link.startswith(f"{TEST_BASE}/uitnodiging/")
    return link.removeprefix(TEST_BASE + "/uitnodiging/")


async def invite_nina(role: Role = Role.AANBIEDER_MEDEWERKER, email: str = NINA, **extra) -> tuple[Invitation, str]:
    admin = await person_of("vlinder-beheerder")
    invitation = await invitations.invite(
        email=email, role=role, invited_by=admin, provider_id=(await vlinder()).id, base_url=TEST_BASE, **extra
    )
    return invitation, await token_of(invitation)


async def actions() -> list[str]:
    return [row["action"] for row in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.at)]


async def memberships(subject: str) -> list[dict]:
    user = await User.objects().where(User.subject == subject).first()
    if user is None:
        return []
    return await Membership.select(Membership.role, Membership.region, Membership.provider).where(
        Membership.user == user.id
    )


async def test_invite_keeps_only_a_hash_and_mails_the_link_through_the_outbox(world):
    invitation, token = await invite_nina()
    stored = await Invitation.objects().where(Invitation.id == invitation.id).first()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(await Invitation.select().where(Invitation.id == invitation.id))
    assert stored.expires_at - stored.created_at == timedelta(days=14)
    assert stored.email == NINA and stored.role == "aanbieder_medewerker" and stored.region is None
    assert stored.invited_by_label == "Bas Vlinder"

    mail = await mail_of(invitation)
    assert mail.recipient == NINA and mail.channel == "email" and mail.status == "pending"
    rendered = render(mail.template, mail.payload)
    assert rendered.subject == "Uitnodiging voor Trede: Medewerker aanbieder bij Jeugdzorg De Vlinder B.V."
    assert f"{TEST_BASE}/uitnodiging/{token}" in rendered.text and f'href="{TEST_BASE}/uitnodiging/{token}"' in (
        rendered.html
    )
    assert "Bas Vlinder nodigt u uit" in rendered.text and "werkt één keer" in rendered.text
    assert "invitation.sent" in await actions()
    pending = await invitations.pending_invitations(provider_id=(await vlinder()).id)
    assert [p.email for p in pending] == [NINA]


async def test_the_role_must_fit_the_organisation_and_the_inviter_must_manage_it(world):
    admin = await person_of("vlinder-beheerder")
    provider = await vlinder()
    zl = await region("zuid-limburg")
    with pytest.raises(InvitationError, match="past niet"):
        await invitations.invite(email=NINA, role=Role.INKOOP_LEAD, invited_by=admin, provider_id=provider.id,
                                 base_url=TEST_BASE)  # fmt: skip
    with pytest.raises(ValueError):
        await invitations.invite(email=NINA, role=Role.INKOOP_LEAD, invited_by=admin, base_url=TEST_BASE)
    with pytest.raises(ValueError):
        await invitations.invite(email=NINA, role=Role.INKOOP_LEAD, invited_by=admin, region_id=zl.id,
                                 provider_id=provider.id, base_url=TEST_BASE)  # fmt: skip
    with pytest.raises(InvitationError, match="geen mensen uitnodigen"):  # a provider admin, not of the region
        await invitations.invite(email=NINA, role=Role.INKOOP_LEAD, invited_by=admin, region_id=zl.id,
                                 base_url=TEST_BASE)  # fmt: skip
    employee = await person_of("zl-inkoop")  # a team member, not the lead
    with pytest.raises(InvitationError, match="geen mensen uitnodigen"):
        await invitations.invite(email=NINA, role=Role.WAARNEMER, invited_by=employee, region_id=zl.id,
                                 base_url=TEST_BASE)  # fmt: skip
    region_actor = Actor(label="Ilse", roles=frozenset({Role.INKOOP_LEAD}))  # an Actor does not say where
    with pytest.raises(InvitationError):
        await invitations.invite(email=NINA, role=Role.WAARNEMER, invited_by=region_actor, region_id=zl.id,
                                 base_url=TEST_BASE)  # fmt: skip
    with pytest.raises(InvitationError, match="geldig e-mailadres"):
        await invitations.invite(email="nina-at-vlinder", role=Role.AANBIEDER_MEDEWERKER, invited_by=admin,
                                 provider_id=provider.id, base_url=TEST_BASE)  # fmt: skip
    lead = await person_of("zl-lead")
    assert await invitations.invite(email="nieuw@zl.localhost", role=Role.WAARNEMER, invited_by=lead,
                                    region_id=zl.id, base_url=TEST_BASE)  # fmt: skip
    assert await invitations.invite(email="iemand@zl.localhost", role=Role.INKOOP_LEAD, invited_by=SYSTEM,
                                    region_id=zl.id, base_url=TEST_BASE)  # fmt: skip
    assert await Notification.count().where(Notification.template == "uitnodiging") == 2
    assert await Invitation.count().where(NOT_DEMO) == 2


async def test_a_double_submit_sends_one_invitation_and_colleagues_are_not_invited_twice(world):
    await invite_nina()
    with pytest.raises(InvitationError, match="al een uitnodiging open"):
        await invite_nina(email=NINA.upper())
    with pytest.raises(InvitationError, match="al toegang"):
        await invite_nina(email="BAS@devlinder.localhost")  # the admin himself, in another case
    assert await Invitation.count().where(NOT_DEMO) == 1


async def test_invited_person_logs_in_from_the_link_and_gets_the_role(world, oidc_settings):
    invitation, token = await invite_nina()
    async with app_client(oidc_settings) as http:
        page = await http.get(f"/uitnodiging/{token}")
        assert page.status_code == 200
        assert "Uitnodiging voor Jeugdzorg De Vlinder B.V." in page.text
        assert "Medewerker aanbieder" in page.text and "Bas Vlinder nodigt u uit" in page.text
        assert f"/inloggen/dev?next=/uitnodiging/{token}" in page.text

        done = await login(http, "nina-nieuw", f"/uitnodiging/{token}")
        assert done.status_code == 200 and str(done.url) == f"{TEST_BASE}/uitnodiging/{token}"
        assert "U heeft de uitnodiging aanvaard" in done.text and 'href="/portaal"' in done.text
        portal = await http.get("/portaal/")
        assert portal.status_code == 200 and "Portaal van Jeugdzorg De Vlinder B.V." in portal.text

    nina = await User.objects().where(User.subject == "nina-nieuw").first()
    assert await memberships("nina-nieuw") == [
        {"role": "aanbieder_medewerker", "region": None, "provider": (await vlinder()).id}
    ]
    stored = await Invitation.objects().where(Invitation.id == invitation.id).first()
    assert stored.accepted_by == nina.id and stored.accepted_at is not None
    assert {"invitation.accepted", "role.granted"} <= set(await actions())
    assert await invitations.pending_invitations(provider_id=(await vlinder()).id) == []

    again = await invitations.redeem(token, user_id=nina.id, email=NINA)  # idempotent
    assert again.outcome == "already_accepted" and len(await memberships("nina-nieuw")) == 1


async def test_a_region_lead_invitation_from_the_platform_admin(world, oidc_settings):
    admin = await person_of("beheer")
    zl = await region("zuid-limburg")
    invitation = await invitations.invite(email="H.Nieuwland@Regio.localhost", role=Role.INKOOP_LEAD,
                                          invited_by=admin, region_id=zl.id, base_url=TEST_BASE)  # fmt: skip
    token = await token_of(invitation)
    pending = await invitations.pending_invitations(region_id=zl.id)
    assert [i.email for i in pending] == ["H.Nieuwland@Regio.localhost"]
    wbw = await invitations.pending_invitations(region_id=(await region("west-brabant-west")).id)
    assert [i.email for i in wbw] == [DEMO_INVITATION]
    assert await invitations.pending_invitations(region_id=(await region("lekstroom")).id) == []
    mail = await mail_of(invitation)
    assert mail.region == zl.id
    assert "de jeugdhulpregio Jeugdhulp Zuid-Limburg" in render(mail.template, mail.payload).text
    async with app_client(oidc_settings) as http:
        done = await login(http, "henk-nieuw", f"/uitnodiging/{token}")  # e-mail differs only in case
        assert "U heeft de uitnodiging aanvaard" in done.text and 'href="/werkruimte"' in done.text
        workspace = await http.get("/werkruimte")
        assert "Teamleider inkoop" in workspace.text and "Jeugdhulp Zuid-Limburg" in workspace.text
    assert await memberships("henk-nieuw") == [{"role": "inkoop_lead", "region": zl.id, "provider": None}]
    entry = await AuditEntry.objects().where(AuditEntry.action == "invitation.accepted").first()
    assert entry.region == zl.id


async def test_someone_with_another_email_address_is_refused_and_the_invitation_stays_open(world, oidc_settings):
    invitation, token = await invite_nina(email="noor@devlinder.localhost")
    async with app_client(oidc_settings) as http:
        page = await login(http, "nina-nieuw", f"/uitnodiging/{token}")
        assert page.status_code == 403
        assert "verstuurd naar een ander e-mailadres" in page.text and NINA in page.text
        assert "noor@devlinder.localhost" not in page.text  # the invited address is not revealed
        button = await http.post(f"/uitnodiging/{token}", headers=csrf_headers(http))
        assert button.status_code == 303
        assert (await http.get(f"/uitnodiging/{token}")).status_code == 403
    assert await memberships("nina-nieuw") == []
    stored = await Invitation.objects().where(Invitation.id == invitation.id).first()
    assert stored.accepted_at is None
    refused = await AuditEntry.objects().where(AuditEntry.action == "invitation.refused").output(load_json=True).first()
    assert refused.detail["reason"] == "email_mismatch" and refused.detail["logged_in_as"] == NINA


async def test_a_signed_in_person_accepts_with_the_button(world, oidc_settings):
    invitation, token = await invite_nina(role=Role.AANBIEDER_BEHEERDER)
    async with app_client(oidc_settings) as http:
        await login(http, "nina-nieuw")
        page = await http.get(f"/uitnodiging/{token}")
        assert page.status_code == 200 and "Uitnodiging aanvaarden" in page.text and "Beheerder aanbieder" in page.text
        without_csrf = await http.post(f"/uitnodiging/{token}")
        assert without_csrf.status_code == 403 and await memberships("nina-nieuw") == []
        accepted = await http.post(f"/uitnodiging/{token}", headers=csrf_headers(http), follow_redirects=True)
        assert accepted.status_code == 200 and "U heeft de uitnodiging aanvaard" in accepted.text
        twice = await http.post(f"/uitnodiging/{token}", headers=csrf_headers(http), follow_redirects=True)
        assert "U heeft de uitnodiging aanvaard" in twice.text
    assert await memberships("nina-nieuw") == [
        {"role": "aanbieder_beheerder", "region": None, "provider": (await vlinder()).id}
    ]
    assert (await actions()).count("invitation.accepted") == 1


async def test_expired_revoked_used_and_unknown_links_get_a_clear_page(world, oidc_settings):
    long_ago = FrozenClock(system_clock.now() - timedelta(days=15))
    _, expired = await invite_nina(email="oud@devlinder.localhost", clock=long_ago)
    revoked_invitation, revoked = await invite_nina(email="weg@devlinder.localhost")
    admin = await person_of("vlinder-beheerder")
    await invitations.revoke(revoked_invitation.id, by=admin)
    await invitations.revoke(revoked_invitation.id, by=admin)  # twice is harmless
    assert (await actions()).count("invitation.revoked") == 1
    _, used = await invite_nina()
    bas = await User.objects().where(User.subject == "vlinder-beheerder").first()
    nina_user = User(issuer="x", subject="nina-elders", email=NINA)
    await nina_user.save()
    assert (await invitations.redeem(used, user_id=nina_user.id, email=NINA)).outcome == "accepted"
    assert (await invitations.redeem(expired, user_id=bas.id, email="oud@devlinder.localhost")).outcome == "expired"

    async with app_client(oidc_settings) as http:
        page = await http.get(f"/uitnodiging/{expired}")
        assert page.status_code == 410 and "Deze uitnodiging is verlopen" in page.text
        page = await http.get(f"/uitnodiging/{revoked}")
        assert page.status_code == 410 and "ingetrokken" in page.text
        page = await http.get(f"/uitnodiging/{used}")
        assert page.status_code == 410 and "al gebruikt" in page.text
        page = await http.get(f"/uitnodiging/{used[:-4]}abcd")
        assert page.status_code == 404 and "Deze uitnodiging bestaat niet" in page.text
        assert (await http.get("/uitnodiging/zomaar")).status_code == 404
        after_login = await login(http, "nina-nieuw", f"/uitnodiging/{revoked}")  # logging in does not revive it
        assert after_login.status_code == 410
    assert await memberships("nina-nieuw") == []
    assert await invitations.pending_invitations(provider_id=(await vlinder()).id) == []


async def test_revoke_needs_the_right_to_manage_the_organisation(world):
    invitation, _ = await invite_nina()
    with pytest.raises(InvitationError):
        await invitations.revoke(invitation.id, by=await person_of("zl-lead"))
    with pytest.raises(InvitationError):
        await invitations.revoke(invitation.id, by=await person_of("kim-twee"))  # employee there, admin elsewhere
    await invitations.revoke(invitation.id, by=await person_of("beheer"))
    stored = await Invitation.objects().where(Invitation.id == invitation.id).first()
    assert stored.revoked_at is not None and stored.revoked_by == (await person_of("beheer")).user_id


def test_tokens_carry_their_organisation_and_the_path_parser_rejects_anything_else():
    region_id = UUID("12345678-1234-5678-1234-567812345678")
    token = invitations._new_token(region_id, None)
    assert token.startswith("r" + region_id.hex) and len(token) > 70
    assert invitations.token_from_path(f"/uitnodiging/{token}") == token
    assert invitations.token_from_path("/werkruimte") is None
    assert invitations.token_from_path("/uitnodiging/../../etc") is None
