"""Server-side sessions in the database (shared by web processes), their timeouts and cookie, the rate limit on
login, security headers, and the small helpers of sign-in."""

from __future__ import annotations

import json
import time

import pytest

from apps.accounts.ratelimit import LIMITS, hit
from apps.accounts.services import kvk_number
from apps.accounts.sessions import PiccoloStore
from apps.accounts.tables import RateLimitCounter, User, WebSession
from tests.accounts.support import app_client, login, provider_settings, settings_with_providers


async def test_the_store_sets_gets_renews_and_expires(db):
    store = PiccoloStore()
    await store.set("a", b"one", expires_in=60)
    assert await store.get("a") == b"one"
    assert 0 < await store.expires_in("a") <= 60
    await store.set("a", "two", expires_in=3600)  # upsert
    assert await store.get("a") == b"two" and await WebSession.count() == 1
    await store.get("a", renew_for=7200)
    assert await store.expires_in("a") > 3600
    await WebSession.update({WebSession.expires_at: int(time.time()) - 1}).where(WebSession.key == "a")
    assert await store.get("a") is None and not await store.exists("a")
    assert await WebSession.count() == 0  # an expired entry is removed when read
    await store.set("b", b"x")
    assert await store.expires_in("b") is None and await store.exists("b")
    await store.set("c", b"y", expires_in=1)
    await WebSession.update({WebSession.expires_at: 1}).where(WebSession.key == "c")
    assert await store.delete_expired() == 1
    await store.delete_all()
    assert await WebSession.count() == 0


async def test_a_session_made_by_one_web_process_works_in_another(world, oidc_settings):
    async with app_client(oidc_settings) as first:
        await login(first, "zl-inkoop")
        cookie = first.cookies.get("trede_session")
    async with app_client(oidc_settings) as second:  # another app instance: nothing shared but the database
        page = await second.get("/werkruimte", headers={"cookie": f"trede_session={cookie}"})
        assert page.status_code == 200 and "Ilse Inkoop" in page.text


async def test_a_request_reads_the_session_the_person_and_their_roles_in_one_query(world, oidc_settings):
    """Issue 20: the session, the user and the memberships are one statement per request, and still current: a role
    granted or a deactivation between two requests counts at the next one."""
    from apps.accounts.tables import Membership
    from apps.tenancy.tables import Region
    from core.tenancy import RegionScope
    from tests.querycount import counting_statements

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        with counting_statements() as seen:
            page = await http.get("/werkruimte")
        assert page.status_code == 200 and "Ilse Inkoop" in page.text
        who = [q for q in seen.queries if any(name in q for name in ("web_session", "app_user", "membership"))]
        assert len(who) == 1, who
        ilse = await User.objects().where(User.subject == "zl-inkoop").first()
        other = await Region.objects().where(Region.slug != "zuid-limburg").first()
        assert other.name not in page.text
        await RegionScope(other.id).new(Membership, user=ilse.id, role="waarnemer").save()
        assert other.name in (await http.get("/werkruimte")).text
        await User.update({User.active: False}).where(User.id == ilse.id)
        assert (await http.get("/werkruimte")).status_code == 303


async def test_visitors_without_a_login_get_no_session(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        for path in ("/", "/inloggen", "/static/trede/trede.css", "/health/live", "/api/v1/regions"):
            response = await http.get(path)
            assert "trede_session" not in response.headers.get("set-cookie", ""), path
    assert await WebSession.count() == 0


async def test_idle_timeout_ends_the_session(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        await WebSession.update({WebSession.expires_at: int(time.time()) - 1}, force=True)
        response = await http.get("/werkruimte")
        assert response.status_code == 303 and response.headers["location"].startswith("/inloggen")


async def test_absolute_timeout_ends_the_session_however_active(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        key = http.cookies.get("trede_session")
        store = PiccoloStore()
        data = json.loads(await store.get(key))
        data["auth_at"] -= 11 * 3600
        await store.set(key, json.dumps(data).encode(), expires_in=3600)
        response = await http.get("/werkruimte")
        assert response.status_code == 303
        assert await store.get(key) is None  # and the entry is gone


async def test_a_deactivated_user_is_signed_out_at_the_next_request(world, oidc_settings):
    from apps.accounts.tables import User

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        await User.update({User.active: False}).where(User.subject == "zl-inkoop")
        assert (await http.get("/werkruimte")).status_code == 303


async def test_production_cookies_are_secure_and_hsts_is_sent(world, tmp_path, dev_op):
    settings = settings_with_providers(
        tmp_path, [provider_settings(dev_op.issuer)], TREDE_ENV="production", BASE_URL="https://testserver"
    )
    async with app_client(settings) as http:
        response = await http.get("/inloggen/dev")
        cookies = response.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("trede_session="))
        assert "Secure" in session and "HttpOnly" in session
        assert "Strict-Transport-Security" in response.headers
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]


async def test_development_has_no_hsts(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        response = await http.get("/inloggen")
        assert "Strict-Transport-Security" not in response.headers
        assert 'data-hx-headers=\'{"x-csrftoken": "' in response.text  # htmx sends the CSRF token


async def test_rate_limit_counts_per_client_and_window(db):
    assert all([await hit("t", "1.2.3.4", limit=3, window=60, now=1000) for _ in range(3)])
    assert not await hit("t", "1.2.3.4", limit=3, window=60, now=1001)
    assert await hit("t", "5.6.7.8", limit=3, window=60, now=1001)  # another address
    assert await hit("t", "1.2.3.4", limit=3, window=60, now=1021)  # the next window


async def test_too_many_login_attempts_get_429(world, oidc_settings):

    limit, window = LIMITS["login"]
    slot = int(time.time()) // window
    for current in (slot, slot + 1):  # also the next window, should it begin while the test runs
        await RateLimitCounter(key=f"login:127.0.0.1:{current}", hits=limit, expires_at=(current + 1) * window).save()
    async with app_client(oidc_settings) as http:
        response = await http.get("/inloggen/dev", headers={"accept": "text/html"})
        assert response.status_code == 429
        assert "Te veel pogingen" in response.text and "Retry-After" in response.headers
        callback = await http.get("/auth/callback/dev", params={"state": "x", "code": "y"})
        assert callback.status_code == 429
    assert await WebSession.count() == 0


async def test_a_logged_in_person_is_counted_by_account_as_well_as_by_address(world, oidc_settings):
    limit, window = LIMITS["upload"]
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal/bewijs")
        vera = await User.objects().where(User.subject == "vlinder-medewerker").first()
        slot = int(time.time()) // window
        for current in (slot, slot + 1):  # Vera used up her uploads (from other addresses); this address did not
            await RateLimitCounter(key=f"upload:account:{vera.id}:{current}", hits=limit,
                                   expires_at=(current + 1) * window).save()  # fmt: skip
        refused = await http.post("/portaal/bewijs/nieuw", data={"soort": "big"}, headers={"accept": "text/html"})
        assert refused.status_code == 429 and "Te veel pogingen" in refused.text
    async with app_client(oidc_settings) as http:  # her colleague at the same address is not refused
        await login(http, "vlinder-beheerder", "/portaal/bewijs")
        other = await http.post("/portaal/bewijs/nieuw", data={"soort": "big"}, headers={"accept": "text/html"})
        assert other.status_code != 429
    assert await RateLimitCounter.exists().where(RateLimitCounter.key == f"upload:127.0.0.1:{slot}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("90000001", "90000001"), ("urn:etoegang:1.9:EntityConcernedID:KvKnr:90000001", "90000001"),
     (90000001, "90000001"), ("9000001", None), ("", None), (None, None), ("900000012", None)],
)  # fmt: skip
def test_kvk_number_from_the_claim(value, expected):
    assert kvk_number(value) == expected
