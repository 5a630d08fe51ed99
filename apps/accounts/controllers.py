"""Login through OpenID Connect, logout (RP-initiated), and the signed-in landing page /werkruimte."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote, urlsplit
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST

from apps.accounts.calendar_feed import account_section  # the calendar feed's part of this page
from apps.accounts.guards import PERSON, signed_in
from apps.accounts.invitations import redeem_after_login
from apps.accounts.oidc import LoginFailed, OidcClient, OidcRegistry, remember_pending, take_pending, validate_id_token
from apps.accounts.ratelimit import client_address, rate_limit
from apps.accounts.services import LoginRefused, sign_in, workspace
from apps.accounts.sessions import PiccoloStore, rotate_session
from apps.accounts.tables import User
from core.audit import audit

log = logging.getLogger("trede.accounts")
LOGIN_PATH = "/inloggen"


def safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no host, no //evil.example) is a place to return to after login."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/werkruimte"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/werkruimte"
    return value


def login_url(next_path: str | None = None) -> str:
    return f"{LOGIN_PATH}?next={quote(next_path, safe='/')}" if next_path else LOGIN_PATH


def _registry(request: Request) -> OidcRegistry:
    return request.app.state.oidc


def _client(request: Request, idp: str) -> OidcClient:
    client = _registry(request).get(idp)
    if client is None:
        raise NotFoundException()
    return client


def _callback_uri(request: Request, idp: str) -> str:
    return f"{request.app.state.settings.base_url}/auth/callback/{idp}"


def _failure(status: int = HTTP_400_BAD_REQUEST) -> Template:
    """The one answer to every failed login: Dutch, without details (they are in the audit log)."""
    return Template("inloggen_mislukt.html", status_code=status)


class AuthController(Controller):
    include_in_schema = False

    @get(LOGIN_PATH, opt={"public": True})
    async def login_page(self, request: Request) -> Template:
        return Template(
            "inloggen.html",
            context={"providers": _registry(request).providers, "next": safe_next(request.query_params.get("next"))},
        )

    @get(f"{LOGIN_PATH}/{{idp:str}}", opt={"public": True}, guards=[rate_limit("login")])
    async def start(self, request: Request, idp: FromPath[str]) -> Response:
        client = _client(request, idp)
        extra = {}
        hint = request.query_params.get("login_hint")
        if hint and len(hint) <= 200:
            extra["login_hint"] = hint  # standard OIDC; the development provider selects that demo account
        try:
            started = await client.start(_callback_uri(request, idp), **extra)
        except LoginFailed as exc:
            await audit("login.failed", actor_label="(onbekend)", detail={"provider": idp, "reason": exc.reason,
                                                                        "address": client_address(request)})
            return _failure(503)
        remember_pending(
            request.session,
            started["state"],
            {
                "idp": idp,
                "nonce": started["nonce"],
                "code_verifier": started["code_verifier"],
                "redirect_uri": _callback_uri(request, idp),
                "next": safe_next(request.query_params.get("next")),
            },
        )
        return Redirect(started["url"], status_code=302)

    @get("/auth/callback/{idp:str}", opt={"public": True}, guards=[rate_limit("login")])
    async def callback(self, request: Request, idp: FromPath[str]) -> Response:
        client = _client(request, idp)
        params = request.query_params  # `state` is a reserved parameter name in Litestar: read it here
        try:
            pending = take_pending(request.session, params.get("state"))
            if pending is None or pending.get("idp") != idp:
                raise LoginFailed("state")
            if params.get("error"):
                raise LoginFailed(f"provider_error:{params.get('error')}"[:60])
            if params.get("iss") and params.get("iss") != client.provider.issuer:  # RFC 9207 mix-up defence
                raise LoginFailed("iss_response")
            if not params.get("code"):
                raise LoginFailed("code_missing")
            if not pending.get("code_verifier"):
                raise LoginFailed("pkce_verifier_missing")
            token = await client.exchange(
                code=params["code"], redirect_uri=pending["redirect_uri"], code_verifier=pending["code_verifier"]
            )
            claims = await validate_id_token(client, token.get("id_token"), nonce=pending["nonce"])
            user = await sign_in(client.provider, claims)
        except (LoginFailed, LoginRefused) as exc:
            log.info("login failed at %s: %s", idp, exc.reason)
            await audit(
                "login.failed", actor_label="(onbekend)",
                detail={"provider": idp, "reason": exc.reason, "address": client_address(request)},
            )  # fmt: skip
            return _failure()

        # A new session (new id, old entry deleted) that holds only the login: no fixation, no leftovers.
        rotate_session(request)
        request.set_session(
            {"uid": str(user.id), "auth_at": int(time.time()), "idp": idp, "id_token": token["id_token"]}
        )
        await audit(
            "login", actor_id=user.id, actor_label=user.name or user.email, target_type="user", target_id=str(user.id),
            detail={"provider": idp, "address": client_address(request)},
        )  # fmt: skip
        if time.time() % 20 < 1:  # now and then, remove sessions that have expired
            await PiccoloStore().delete_expired()
        await redeem_after_login(pending["next"], user)  # a login from an invitation link accepts it (or refuses)
        return Redirect(pending["next"], status_code=HTTP_303_SEE_OTHER)

    # Public: an expired session can still log out. "ends_session": the isolation test calls it last.
    @post("/uitloggen", opt={"public": True, "ends_session": True}, status_code=HTTP_303_SEE_OTHER)
    async def logout(self, request: Request) -> Redirect:
        session = request.session
        user_id, idp, id_token = session.get("uid"), session.get("idp"), session.get("id_token")
        request.clear_session()
        home = f"{request.app.state.settings.base_url}/"
        if not user_id:
            return Redirect("/", status_code=HTTP_303_SEE_OTHER)
        await audit(
            "logout", actor_id=UUID(str(user_id)), target_type="user", target_id=str(user_id), detail={"provider": idp}
        )
        client = _registry(request).get(idp) if idp else None
        url = await client.logout_url(id_token_hint=id_token, post_logout_redirect_uri=home) if client else None
        return Redirect(url or "/", status_code=HTTP_303_SEE_OTHER)


class WorkspaceController(Controller):
    include_in_schema = False

    @get("/werkruimte", guards=[signed_in])
    async def workspace(self, request: Request) -> Template:
        person = request.scope["state"][PERSON]
        return Template("werkruimte.html", context={"person": person, "workspace": await workspace(person)})


class AccountController(Controller):
    """Mijn gegevens: who I am, and whether I want the daily digest of this week's deadlines."""

    path = "/account"
    include_in_schema = False

    @get("/", guards=[signed_in])
    async def show(self, request: Request, saved: FromQuery[bool] = False) -> Template:
        person = request.scope["state"][PERSON]
        user = await User.objects().where(User.id == person.user_id).first()
        return Template("account.html", context={"person": person, "digest": user.digest_opt_in, "saved": saved,
                                                 **await account_section(request, person)})  # fmt: skip

    @post("/", guards=[signed_in], status_code=HTTP_303_SEE_OTHER)
    async def save(self, request: Request) -> Redirect:
        person = request.scope["state"][PERSON]
        form = await request.form()
        wanted = form.get("dagoverzicht") == "ja"
        await User.update({User.digest_opt_in: wanted}).where(User.id == person.user_id)
        await audit("account.digest", actor_id=person.user_id, actor_label=person.label, target_type="user",
                    target_id=str(person.user_id), detail={"dagoverzicht": wanted})  # fmt: skip
        return Redirect("/account?saved=true", status_code=HTTP_303_SEE_OTHER)
