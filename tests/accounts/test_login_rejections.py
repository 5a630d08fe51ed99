"""Logins that must fail, each refused with a Dutch page and nothing signed in.

Token-level defects come from a fake provider (an httpx2 mock transport, the library under the app's OpenID
client: discovery, JWKS and a token endpoint that hands out forged ID tokens made with joserfc) driven through
the app's real callback. State, replay and PKCE are also tried against the real local OpenID provider.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from apps.accounts.sessions import PiccoloStore
from apps.audit.tables import AuditEntry
from tests.accounts.support import app_client, login, settings_with_providers

FAKE = "https://op.fake.example"
CLIENT = "trede-test"


class FakeProvider:
    """Discovery, JWKS and a token endpoint whose ID token each test forges."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "good", "use": "sig", "alg": "RS256"})
        self.published = [self.key]
        self.forge = None  # (nonce) -> id_token
        self.token_requests: list[dict] = []
        self.jwks_fetches = 0

    def claims(self, expected_nonce: str, **changes) -> dict:
        now = int(time.time())
        claims = {"iss": FAKE, "sub": "fake-1", "aud": CLIENT, "iat": now, "exp": now + 300, "nonce": expected_nonce,
                  "email": "fake@example.org", "name": "Fake Person"}  # fmt: skip
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict, key: RSAKey | None = None, header: dict | None = None) -> str:
        key = key or self.key
        return jwt.encode(header or {"alg": "RS256", "kid": key.kid}, claims, key)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx2.Response(200, json={
                "issuer": FAKE, "authorization_endpoint": f"{FAKE}/auth", "token_endpoint": f"{FAKE}/token",
                "jwks_uri": f"{FAKE}/jwks", "end_session_endpoint": f"{FAKE}/logout",
                "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
                "code_challenge_methods_supported": ["S256"],
            })  # fmt: skip
        if path == "/jwks":
            self.jwks_fetches += 1
            return httpx2.Response(200, json=KeySet(self.published).as_dict(private=False))
        if path == "/token":
            form = parse_qs(request.content.decode())
            self.token_requests.append(form)
            return httpx2.Response(200, json={"access_token": "at", "token_type": "Bearer", "expires_in": 60,
                                             "id_token": self.forge(self.nonce)})  # fmt: skip
        return httpx2.Response(404)


@pytest.fixture
def fake():
    return FakeProvider()


@pytest.fixture
def fake_settings(tmp_path):
    return settings_with_providers(
        tmp_path, [{"name": "fake", "issuer": FAKE, "client_id": CLIENT, "client_secret": "s3cret"}]
    )


async def _attempt(http: httpx.AsyncClient, fake: FakeProvider, forge) -> httpx.Response:
    start = await http.get("/inloggen/fake")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["location"]).query)
    fake.nonce = query["nonce"][0]
    fake.forge = forge
    return await http.get("/auth/callback/fake", params={"code": "abc", "state": query["state"][0]})


async def _assert_refused(http: httpx.AsyncClient, response: httpx.Response, reason: str) -> None:
    assert response.status_code == 400
    assert "Inloggen is niet gelukt" in response.text
    assert "Traceback" not in response.text and "eyJ" not in response.text  # no stack trace, no token
    assert (await http.get("/werkruimte")).status_code == 303  # nothing signed in
    failed = await AuditEntry.select(AuditEntry.detail).where(AuditEntry.action == "login.failed").output(
        load_json=True
    )
    assert failed and failed[-1]["detail"]["reason"] == reason, failed
    assert await AuditEntry.count().where(AuditEntry.action == "login") == 0


async def test_a_correct_token_from_the_fake_provider_logs_in(db, fake, fake_settings):
    """The baseline: the fake provider works, so each refusal below is due to its one defect."""
    async with app_client(fake_settings, transport_for_oidc=httpx2.MockTransport(fake.handler)) as http:
        response = await _attempt(http, fake, lambda nonce: fake.sign(fake.claims(nonce)))
        assert response.status_code == 303 and response.headers["location"] == "/werkruimte"
        assert (await http.get("/werkruimte")).status_code == 200
    assert fake.token_requests[0]["code_verifier"][0]  # PKCE verifier sent with the code
    assert fake.token_requests[0]["redirect_uri"] == ["http://testserver/auth/callback/fake"]


def _none_token(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "other", "use": "sig", "alg": "RS256"})
SAME_KID_OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "good", "use": "sig", "alg": "RS256"})

FORGERIES = {
    "wrong nonce": (lambda f, n: f.sign(f.claims("not-the-nonce")), "id_token_nonce"),
    "no nonce": (lambda f, n: f.sign(f.claims(n, nonce=None)), "id_token_nonce"),
    "wrong audience": (lambda f, n: f.sign(f.claims(n, aud="another-client")), "id_token_aud"),
    "audience list without azp": (lambda f, n: f.sign(f.claims(n, aud=[CLIENT, "other"])), "id_token_azp"),
    "wrong issuer": (lambda f, n: f.sign(f.claims(n, iss="https://evil.example")), "id_token_iss"),
    "expired": (lambda f, n: f.sign(f.claims(n, exp=int(time.time()) - 600)), "id_token_exp"),
    "issued long ago": (lambda f, n: f.sign(f.claims(n, iat=int(time.time()) - 7200)), "id_token_iat"),
    "issued in the future": (lambda f, n: f.sign(f.claims(n, iat=int(time.time()) + 3600)), "id_token_iat"),
    "no iat": (lambda f, n: f.sign(f.claims(n, iat=None)), "id_token_iat"),
    "no subject": (lambda f, n: f.sign(f.claims(n, sub=None)), "id_token_sub"),
    "signed with an unknown key": (lambda f, n: f.sign(f.claims(n), key=OTHER_KEY), "id_token_signature"),
    "signed with another key under a known kid": (
        lambda f, n: f.sign(f.claims(n), key=SAME_KID_OTHER_KEY),
        "id_token_signature",
    ),
    "alg none": (lambda f, n: _none_token(f.claims(n)), "id_token_algorithm"),
    "alg HS256 with the public key as secret": (
        lambda f, n: _none_token(f.claims(n)).replace(
            base64.urlsafe_b64encode(b'{"alg": "none", "typ": "JWT"}').rstrip(b"=").decode(),
            base64.urlsafe_b64encode(b'{"alg": "HS256", "typ": "JWT"}').rstrip(b"=").decode(),
        )
        + "c2lnbmF0dXJl",
        "id_token_algorithm",
    ),
    "tampered payload": (
        lambda f, n: (lambda t: t.split(".")[0] + "." + _none_token(f.claims(n, sub="admin")).split(".")[1] + "."
                      + t.split(".")[2])(f.sign(f.claims(n))),
        "id_token_signature",
    ),  # fmt: skip
    "not a JWT": (lambda f, n: "not-a-token", "id_token_malformed"),
    "no ID token": (lambda f, n: None, "id_token_malformed"),
}


@pytest.mark.parametrize("defect", list(FORGERIES))
async def test_forged_id_tokens_are_refused(db, fake, fake_settings, defect):
    forge, reason = FORGERIES[defect]
    async with app_client(fake_settings, transport_for_oidc=httpx2.MockTransport(fake.handler)) as http:
        response = await _attempt(http, fake, lambda nonce: forge(fake, nonce))
        await _assert_refused(http, response, reason)


async def test_unknown_key_id_refetches_the_jwks_once_and_accepts_a_rotated_key(db, fake, fake_settings):
    async with app_client(fake_settings, transport_for_oidc=httpx2.MockTransport(fake.handler)) as http:
        first = await _attempt(http, fake, lambda nonce: fake.sign(fake.claims(nonce)))
        assert first.status_code == 303
        assert fake.jwks_fetches == 1  # cached from now on
        rotated = RSAKey.generate_key(2048, parameters={"kid": "rotated", "use": "sig", "alg": "RS256"})
        fake.published = [fake.key, rotated]
        second = await _attempt(http, fake, lambda nonce: fake.sign(fake.claims(nonce), key=rotated))
        assert second.status_code == 303
        assert fake.jwks_fetches == 2
        third = await _attempt(http, fake, lambda nonce: fake.sign(fake.claims(nonce), key=OTHER_KEY))
        assert third.status_code == 400
        assert fake.jwks_fetches == 2  # fetched a moment ago: an unknown key stays unknown, no refetch storm


async def test_a_nonce_cannot_be_replayed_in_a_later_login(db, fake, fake_settings):
    async with app_client(fake_settings, transport_for_oidc=httpx2.MockTransport(fake.handler)) as http:
        captured = {}

        def first(nonce):
            captured["token"] = fake.sign(fake.claims(nonce))
            return captured["token"]

        assert (await _attempt(http, fake, first)).status_code == 303
    async with app_client(fake_settings, transport_for_oidc=httpx2.MockTransport(fake.handler)) as http:
        response = await _attempt(http, fake, lambda nonce: captured["token"])  # the old token, old nonce
        assert response.status_code == 400
        assert (await http.get("/werkruimte")).status_code == 303


async def test_provider_error_and_missing_code_are_refused(db, fake, fake_settings):
    async with app_client(fake_settings, transport_for_oidc=httpx2.MockTransport(fake.handler)) as http:
        start = await http.get("/inloggen/fake")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        response = await http.get("/auth/callback/fake", params={"error": "access_denied", "state": state})
        await _assert_refused(http, response, "provider_error:access_denied")
        start = await http.get("/inloggen/fake")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        response = await http.get("/auth/callback/fake", params={"state": state})
        assert response.status_code == 400
        start = await http.get("/inloggen/fake")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        response = await http.get("/auth/callback/fake", params={"state": state, "code": "x", "iss": "https://mix.up"})
        assert response.status_code == 400


# Against the real local OpenID provider ------------------------------------------------------------------------


async def _to_callback(http: httpx.AsyncClient, account: str) -> str:
    """Walk the login up to (not into) the app's callback; the callback URL the provider sent back."""
    response = await http.get("/inloggen/dev", params={"login_hint": account})
    while True:
        location = str(response.url.join(response.headers["location"]))
        if location.startswith("http://testserver/auth/callback/"):
            return location
        response = await http.get(location)
        assert response.status_code in (302, 303), response.text


async def test_wrong_state_is_refused(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        callback = await _to_callback(http, "zl-inkoop")
        parts = urlsplit(callback)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query["state"] = "forged-state"
        response = await http.get(parts.path, params=query)
        await _assert_refused(http, response, "state")


async def test_a_callback_cannot_be_replayed(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        callback = await _to_callback(http, "zl-inkoop")
        assert (await http.get(callback)).status_code == 303  # the real login
        again = await http.get(callback)  # the same state and code once more
        assert again.status_code == 400
    async with app_client(oidc_settings) as attacker:  # someone else with a captured callback URL
        response = await attacker.get(callback)
        assert response.status_code == 400
        assert (await attacker.get("/werkruimte")).status_code == 303


async def test_a_login_without_its_pkce_verifier_is_refused(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        callback = await _to_callback(http, "zl-inkoop")
        store = PiccoloStore()
        session_id = http.cookies.get("trede_session")
        data = json.loads(await store.get(session_id))
        for pending in data["oidc_pending"].values():
            pending.pop("code_verifier")  # the verifier is lost
        await store.set(session_id, json.dumps(data).encode(), expires_in=600)
        response = await http.get(callback)
        await _assert_refused(http, response, "pkce_verifier_missing")


async def test_the_provider_refuses_a_code_without_the_pkce_verifier(world, oidc_settings):
    """The second wall: even if the app sent no verifier, the provider would not hand out tokens."""
    from apps.accounts.oidc import LoginFailed

    async with app_client(oidc_settings) as http:
        callback = await _to_callback(http, "zl-inkoop")
        code = parse_qs(urlsplit(callback).query)["code"][0]
        client = http.app.state.oidc.get("dev")
        with pytest.raises(LoginFailed) as refused:
            await client.exchange(code=code, redirect_uri="http://testserver/auth/callback/dev", code_verifier=None)
        assert refused.value.reason == "token_error:invalid_grant"


async def test_a_code_for_another_session_is_refused(world, oidc_settings):
    """Login CSRF: a victim's browser must not accept an attacker's code (the state belongs to the attacker)."""
    async with app_client(oidc_settings) as attacker:
        callback = await _to_callback(attacker, "zl-waarnemer")
    async with app_client(oidc_settings) as victim:
        await victim.get("/inloggen/dev")  # the victim has a login of its own going
        response = await victim.get(callback)
        await _assert_refused(victim, response, "state")


async def test_an_inactive_user_cannot_log_in(world, oidc_settings):
    from apps.accounts.tables import User

    await User.update({User.active: False}).where(User.subject == "zl-inkoop")
    async with app_client(oidc_settings) as http:
        response = await login(http, "zl-inkoop")
        assert response.status_code == 400 and "Inloggen is niet gelukt" in response.text


async def test_an_unknown_provider_name_is_not_found(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        assert (await http.get("/inloggen/nope")).status_code == 404
        assert (await http.get("/auth/callback/nope", params={"state": "x", "code": "y"})).status_code == 404
