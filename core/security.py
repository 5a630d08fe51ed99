"""Security headers on every response."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
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
