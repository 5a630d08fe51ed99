"""OpenID Connect relying party on Authlib's framework-neutral client (Litestar has no Authlib integration).

Authorization code flow with PKCE (S256), state and nonce. The pending login (state, nonce, code verifier)
lives in the visitor's server-side session, one entry per state, used once. The ID token is checked here, in
``validate_id_token``: signature against the provider's JWKS (cached; fetched again, at most every
``JWKS_REFETCH_SECONDS``, when the key id is unknown), an allow-list of algorithms (never ``none`` or HMAC),
iss, aud (and azp), exp, iat, sub and nonce.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.integrations.base_client import BaseApp, FrameworkIntegration, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jws, jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from core.settings import OidcProvider, Settings

SCOPE = "openid email profile"
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 60
ID_TOKEN_MAX_AGE_SECONDS = 600  # a fresh login: the ID token was issued moments ago
JWKS_REFETCH_SECONDS = 30
PENDING_SECONDS = 600  # how long a started login may take
PENDING_KEY = "oidc_pending"
MAX_PENDING = 5


class LoginFailed(Exception):
    """A login that must not go on. ``reason`` is a short code for the audit log (never token contents)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class OidcClient(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    client_cls = AsyncOAuth2Client

    def __init__(self, provider: OidcProvider, *, transport: httpx2.AsyncBaseTransport | None = None):
        client_kwargs: dict[str, Any] = {"scope": SCOPE, "code_challenge_method": "S256", "timeout": 10}
        if transport is not None:
            client_kwargs["transport"] = transport
        super().__init__(
            framework=FrameworkIntegration(provider.name),
            name=provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )
        self.provider = provider
        self._jwks_refetched_at = -float(JWKS_REFETCH_SECONDS)

    async def metadata(self) -> dict[str, Any]:
        try:
            metadata = await self.load_server_metadata()
        except (httpx2.HTTPError, ValueError) as exc:
            raise LoginFailed("discovery_unavailable") from exc
        if metadata.get("issuer") != self.provider.issuer:
            self.server_metadata.clear()  # load again next time
            raise LoginFailed("issuer_mismatch")
        return metadata

    async def jwk_set(self, *, force: bool = False) -> dict[str, Any]:
        """The provider's keys, cached. ``force`` (an unknown key id) fetches them again, at most every
        ``JWKS_REFETCH_SECONDS``: forged key ids cannot make us hammer the provider."""
        metadata = await self.metadata()
        if "jwks" in metadata and not force:
            return metadata["jwks"]
        if "jwks" in metadata and time.monotonic() - self._jwks_refetched_at < JWKS_REFETCH_SECONDS:
            return metadata["jwks"]
        try:
            jwks = await self.fetch_jwk_set(force=True)
        except (httpx2.HTTPError, ValueError, RuntimeError) as exc:
            raise LoginFailed("jwks_unavailable") from exc
        if force:
            self._jwks_refetched_at = time.monotonic()
        return jwks

    async def start(self, redirect_uri: str, **params: str) -> dict[str, Any]:
        """The authorization URL plus what the callback needs: state, nonce, code_verifier."""
        metadata = await self.metadata()
        if "S256" not in metadata.get("code_challenge_methods_supported", ["S256"]):
            raise LoginFailed("pkce_unsupported")
        return await self.create_authorization_url(redirect_uri, **params)

    async def exchange(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> dict[str, Any]:
        await self.metadata()
        params: dict[str, Any] = {"code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            params["code_verifier"] = code_verifier
        try:
            return dict(await self.fetch_access_token(**params))
        except OAuthError as exc:
            raise LoginFailed(f"token_error:{exc.error}"[:60]) from exc
        except Exception as exc:  # network, a malformed answer: the login fails, the page stays calm
            raise LoginFailed("token_endpoint_unavailable") from exc

    async def logout_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        try:
            metadata = await self.metadata()
        except LoginFailed:
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        result = await self.create_logout_url(
            post_logout_redirect_uri=post_logout_redirect_uri, id_token_hint=id_token_hint, client_id=self.client_id
        )
        return result["url"]


async def validate_id_token(client: OidcClient, id_token: Any, *, nonce: str, now: float | None = None) -> dict:
    """The claims of a valid ID token for this client and login attempt; raises ``LoginFailed`` otherwise."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        raise LoginFailed("id_token_malformed")
    metadata = await client.metadata()
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in offered if alg in ALLOWED_ALGORITHMS]
    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError) as exc:
        raise LoginFailed("id_token_malformed") from exc
    if header.get("alg") not in algorithms:
        raise LoginFailed("id_token_algorithm")

    async def decode(force: bool):
        keys = KeySet.import_key_set(await client.jwk_set(force=force))
        return jwt.decode(id_token, keys, algorithms=algorithms)

    try:
        try:
            token = await decode(force=False)
        except InvalidKeyIdError:
            token = await decode(force=True)  # the provider may have rotated its keys
    except (JoseError, ValueError) as exc:
        raise LoginFailed("id_token_signature") from exc

    claims = token.claims
    moment = time.time() if now is None else now
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    checks = {
        "iss": claims.get("iss") == client.provider.issuer,
        "aud": client.client_id in audiences,
        "azp": len(audiences) <= 1 or claims.get("azp") == client.client_id,
        "exp": _number(claims.get("exp")) and claims["exp"] > moment - LEEWAY_SECONDS,
        "iat": _number(claims.get("iat"))
        and moment - ID_TOKEN_MAX_AGE_SECONDS - LEEWAY_SECONDS <= claims["iat"] <= moment + LEEWAY_SECONDS,
        "sub": isinstance(claims.get("sub"), str) and 0 < len(claims["sub"]) <= 255,
        "nonce": isinstance(claims.get("nonce"), str) and hmac.compare_digest(claims["nonce"], nonce),
    }
    for name, ok in checks.items():
        if not ok:
            raise LoginFailed(f"id_token_{name}")
    return claims


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class OidcRegistry:
    """The configured providers by name, each with its client (metadata and JWKS cached per process)."""

    clients: dict[str, OidcClient]

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None) -> OidcRegistry:
        return cls({p.name: OidcClient(p, transport=transport) for p in settings.oidc_providers})

    def get(self, name: str) -> OidcClient | None:
        return self.clients.get(name)

    @property
    def providers(self) -> list[OidcProvider]:
        return [client.provider for client in self.clients.values()]


def remember_pending(session: dict, state: str, data: dict[str, Any], now: float | None = None) -> None:
    """Keep a started login in the session (at most a few at once: several tabs)."""
    moment = time.time() if now is None else now
    pending = {k: v for k, v in session.get(PENDING_KEY, {}).items() if v.get("exp", 0) > moment}
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k]["exp"]))
    pending[state] = {**data, "exp": moment + PENDING_SECONDS}
    session[PENDING_KEY] = pending


def take_pending(session: dict, state: str | None, now: float | None = None) -> dict[str, Any] | None:
    """The started login for ``state``, removed from the session (a state is good for one callback)."""
    pending = dict(session.get(PENDING_KEY, {}))
    entry = pending.pop(state, None) if state else None
    if pending:
        session[PENDING_KEY] = pending
    else:
        session.pop(PENDING_KEY, None)
    moment = time.time() if now is None else now
    if entry is None or entry.get("exp", 0) <= moment:
        return None
    return entry
