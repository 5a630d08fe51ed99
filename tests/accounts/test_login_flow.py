"""The whole login through the real local OpenID provider: code flow with PKCE, state and nonce, a rotated
session id, KvK linking, roles on /werkruimte, logout at the provider, and the audit trail."""

from __future__ import annotations

from apps.accounts.tables import Membership, User
from apps.audit.tables import AuditEntry
from tests.accounts.support import app_client, csrf_headers, login


async def _audit_actions() -> list[str]:
    return [row["action"] for row in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.at)]


async def test_login_start_redirects_to_the_provider_with_pkce_state_and_nonce(world, oidc_settings, dev_op):
    async with app_client(oidc_settings) as http:
        response = await http.get("/inloggen/dev")
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith(f"{dev_op.issuer}/auth?")
        for part in ("code_challenge_method=S256", "code_challenge=", "state=", "nonce=", "response_type=code",
                     "client_id=trede-dev", "scope=openid+email+profile"):  # fmt: skip
            assert part in location
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("trede_session="))
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie  # development; production sets Secure (test_session_cookie_is_secure...)


async def test_purchasing_member_logs_in_and_sees_only_their_region(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await http.get("/inloggen/dev", params={"login_hint": "zl-inkoop"})
        before = http.cookies.get("trede_session")
        page = await login(http, "zl-inkoop")
        assert page.status_code == 200 and str(page.url) == "http://testserver/werkruimte"
        after = http.cookies.get("trede_session")
        assert after and after != before  # rotated at login
        html = page.text
        assert "Werkruimte van Ilse Inkoop" in html
        assert "Jeugdhulp Zuid-Limburg" in html and "Medewerker team inkoop" in html
        assert "Drie medewerkers werken zonder geldige VOG" in html
        assert "Kwartaalrapportages Q2 en Q3 ontbreken" in html
        assert "Klachtenregeling" not in html and "Lekstroom" not in html  # another region's escalation
    from apps.accounts.sessions import PiccoloStore

    assert await PiccoloStore().get(before) is None  # the pre-login session entry is gone


async def test_provider_user_is_linked_by_kvk_and_sees_their_organisation_in_every_region(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        page = await login(http, "vlinder-medewerker")
        html = page.text
        assert "Jeugdzorg De Vlinder B.V." in html and "Medewerker aanbieder" in html
        assert "Drie medewerkers werken zonder geldige VOG" in html  # their escalation in Zuid-Limburg
        assert "Kwartaalrapportages" not in html  # another provider, same region
        assert "Klachtenregeling" not in html  # another provider, a region where they also have a contract
    user = await User.objects().where(User.subject == "vlinder-medewerker").first()
    roles = await Membership.select(Membership.role, Membership.provider.kvk_number).where(Membership.user == user.id)
    assert roles == [{"role": "aanbieder_medewerker", "provider.kvk_number": "90000001"}]
    assert "role.granted" in await _audit_actions()


async def test_kvk_link_happens_on_first_login_only(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker")
    user = await User.objects().where(User.subject == "vlinder-medewerker").first()
    await Membership.delete().where(Membership.user == user.id)  # a provider admin took the role away
    async with app_client(oidc_settings) as http:
        page = await login(http, "vlinder-medewerker")
        assert "U heeft nog geen rol in Trede" in page.text
    assert await Membership.count().where(Membership.user == user.id) == 0


async def test_provider_admin_and_municipality_member(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        html = (await login(http, "vlinder-beheerder")).text
        assert "Beheerder aanbieder" in html and "Medewerker aanbieder" not in html
    async with app_client(oidc_settings) as http:
        html = (await login(http, "zl-toegang")).text
        assert "Medewerker gemeente / toegang" in html and "Drie medewerkers" in html and "Klachtenregeling" not in html


async def test_lekstroom_member_sees_only_lekstroom(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        html = (await login(http, "lek-inkoop")).text
        assert "Klachtenregeling" in html
        assert "Drie medewerkers" not in html and "Kwartaalrapportages" not in html


async def test_logout_ends_the_session_here_and_at_the_provider(world, oidc_settings, dev_op):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead")
        session_id = http.cookies.get("trede_session")
        refused = await http.post("/uitloggen")  # no CSRF token
        assert refused.status_code == 403
        response = await http.post("/uitloggen", headers=csrf_headers(http))
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith(f"{dev_op.issuer}/session/end?")
        assert "id_token_hint=" in location and "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2F" in location
        gone = await http.get("/werkruimte")
        assert gone.status_code == 303 and gone.headers["location"] == "/inloggen?next=/werkruimte"
    from apps.accounts.sessions import PiccoloStore

    assert await PiccoloStore().get(session_id) is None
    assert (await _audit_actions())[-2:] == ["login", "logout"]


async def test_login_is_audited_with_the_user(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-waarnemer")
    entry = await AuditEntry.objects().where(AuditEntry.action == "login").output(load_json=True).first()
    user = await User.objects().where(User.subject == "zl-waarnemer").first()
    assert entry.actor == user.id and entry.detail["provider"] == "dev"


async def test_next_is_only_a_path_on_this_site(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        page = await login(http, "zl-inkoop", next_path="https://evil.example/")
        assert str(page.url) == "http://testserver/werkruimte"
    async with app_client(oidc_settings) as http:
        page = await login(http, "zl-inkoop", next_path="//evil.example/")
        assert str(page.url) == "http://testserver/werkruimte"


async def test_the_login_page_lists_the_providers(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        page = await http.get("/inloggen")
        assert page.status_code == 200
        assert 'href="/inloggen/dev?next=/werkruimte"' in page.text
        assert "Inloggen met de lokale OpenID-provider" in page.text
