"""Security headers on every response; CSRF tokens bound to the session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import build_exclude_path_pattern, should_bypass_middleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

# No inline scripts or styles anywhere: htmx is configured through a <meta> tag, styles come from files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


def security_headers_middleware(production: bool):
    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            handler = scope.get("route_handler")
            # Pages and answers behind a login are kept out of every cache (shared proxies, the browser's
            # back/forward store after logout); public pages and static files may be cached.
            private = handler is not None and not (handler.opt.get("public") or handler.opt.get("static"))

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    if private:
                        headers.setdefault("Cache-Control", "no-store")
                    headers.setdefault("Content-Security-Policy", CSP)
                    headers.setdefault("X-Content-Type-Options", "nosniff")
                    headers.setdefault("Referrer-Policy", "same-origin")
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                    if production:
                        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory


# --- CSRF, bound to the server-side session ---------------------------------------------------------------
#
# Litestar's CSRF middleware is a double-submit cookie: any token/cookie pair it ever signed passes, so a pair
# taken as an anonymous visitor passes with a victim's session cookie too. Here the token is signed with a secret
# kept in the session row (``SESSION_SECRET``): only a token made for *this* session passes. A visitor without a
# session has no secret (an empty session costs nothing); their tokens are bound to "" and pass only while there
# is no session. Login replaces the session (a new secret), logout deletes it: both rotate the token.
# The cookie stays (JavaScript-free forms and clients read it); it is re-issued whenever the session changes.

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
SESSION_SECRET = "_csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NONCE_HEX = 64


def session_binding(session: Any) -> str:
    """The CSRF secret of this session, or "" for a visitor without a session."""
    if isinstance(session, dict):
        return str(session.get(SESSION_SECRET) or "")
    return ""


def ensure_session_secret(session: Any) -> None:
    """A session with content gets its CSRF secret; a session holding nothing else loses it (and is not stored)."""
    if not isinstance(session, dict):
        return
    if any(key != SESSION_SECRET for key in session):
        session.setdefault(SESSION_SECRET, secrets.token_hex(32))
    else:
        session.pop(SESSION_SECRET, None)


def _signature(nonce: str, binding: str, key: str) -> str:
    return hmac.new(key.encode(), f"{nonce}:{binding}".encode(), hashlib.sha256).hexdigest()


def make_csrf_token(key: str, binding: str) -> str:
    nonce = secrets.token_hex(_NONCE_HEX // 2)
    return nonce + _signature(nonce, binding, key)


def csrf_token_valid(token: str | None, key: str, binding: str) -> bool:
    if not token or len(token) != _NONCE_HEX * 2:
        return False
    nonce, signature = token[:_NONCE_HEX], token[_NONCE_HEX:]
    return hmac.compare_digest(signature, _signature(nonce, binding, key))


def current_csrf_token(request: Request, key: str) -> str:
    """The visitor's token for this session: the cookie's when it is still valid, else a new one."""
    binding = session_binding(request.scope.get("session"))
    cookie = request.cookies.get(CSRF_COOKIE)
    return cookie if csrf_token_valid(cookie, key, binding) else make_csrf_token(key, binding)


def csrf_middleware(*, key: str, secure: bool, exclude: list[str]):
    """Check the token on unsafe methods against this session's secret. Must run inside the session middleware.

    The token comes from the ``x-csrftoken`` header (htmx) or the ``_csrf_token`` form field. Routes with opt
    ``exclude_from_csrf`` (streaming uploads, which check it themselves) and routes without a session (static
    files) are left alone.
    """
    pattern = build_exclude_path_pattern(exclude=exclude)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] != "http"
                or "session" not in scope
                or should_bypass_middleware(
                    scope=scope, scopes={ScopeType.HTTP}, exclude_opt_key="exclude_from_csrf",
                    exclude_path_pattern=pattern,
                )  # fmt: skip
            ):
                await app(scope, receive, send)
                return
            request: Request = scope["litestar_app"].request_class(scope=scope, receive=receive)
            state = ScopeState.from_scope(scope)
            ensure_session_secret(scope["session"])
            if scope["method"] in _SAFE_METHODS:
                state.csrf_token = current_csrf_token(request, key)
            else:
                binding = session_binding(scope["session"])
                submitted = request.headers.get(CSRF_HEADER)
                content_type, _ = request.content_type
                if not submitted and content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
                    submitted = (await request.form()).get(CSRF_FIELD)
                if not csrf_token_valid(submitted, key, binding):
                    raise PermissionDeniedException("CSRF token verification failed")
                state.csrf_token = submitted
            cookie = request.cookies.get(CSRF_COOKIE)

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start":
                    # The handler may have replaced the session (login, logout): bind the cookie to what is kept.
                    session = scope.get("session")
                    ensure_session_secret(session)
                    binding = session_binding(session)
                    if not csrf_token_valid(cookie, key, binding):
                        token = state.csrf_token
                        if not csrf_token_valid(token if isinstance(token, str) else None, key, binding):
                            token = make_csrf_token(key, binding)
                        MutableScopeHeaders.from_message(message).add(
                            "set-cookie",
                            Cookie(key=CSRF_COOKIE, value=token, path="/", secure=secure, httponly=False,
                                   samesite="lax").to_header(header=""),
                        )  # fmt: skip
                await send(message)

            await app(scope, receive, send_with_cookie)

        return middleware

    return factory
