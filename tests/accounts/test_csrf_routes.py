"""Issue 21 point 4 on every unsafe route of the app: a signed-in person's session cookie with an anonymous
visitor's token/cookie pair (in the header, or in the form field) is refused with 403 and writes nothing; the
same request with the session's own token gets past the check. The routes come from the app itself, so a new
route is walked without being listed here (the streaming uploads, which check the token themselves, too)."""

from __future__ import annotations

import contextlib
import re
import uuid

import httpx

from apps.audit.tables import AuditEntry
from tests.accounts.support import TEST_BASE, app_client, csrf_headers, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Who is the victim on each part of the app: someone whose role passes the route's guard.
VICTIMS = (("/beheer/", "beheer"), ("/portaal/", "vlinder-beheerder"), ("/regio/", "zl-lead"),
           ("/api/v1/regions/", "zl-lead"), ("", "zl-inkoop"))  # fmt: skip
PARAM = re.compile(r"\{(\w+):(\w+)\}")


def unsafe_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        for method in getattr(route, "route_handler_map", {}):
            if method in UNSAFE:
                found.append((method, route.path))
    return sorted(found)


def victim_of(path: str) -> str:
    return next(account for prefix, account in VICTIMS if path.startswith(prefix))


def fill(path: str, ids: dict[str, str]) -> str:
    """A real escalation of the victim's side where one is named (so the route gets as far as it can), the
    region Zuid-Limburg, the quality ladder, and a fresh id for everything else."""

    def value(match: re.Match) -> str:
        name, kind = match.groups()
        if name == "escalation_id":
            return ids["portal" if path.startswith("/portaal/") else "region"]
        if name in ("region_slug", "slug"):
            return "zuid-limburg"
        if name == "ladder_key":
            return "kwaliteit"
        return str(uuid.uuid4()) if kind == "uuid" or name.endswith("_id") else "x"

    return PARAM.sub(value, path)


async def first_escalation(http: httpx.AsyncClient, page: str, prefix: str) -> str:
    text = (await http.get(page)).text
    return re.search(rf'href="{re.escape(prefix)}([0-9a-f-]{{36}})"', text).group(1)


async def test_an_anonymous_token_is_refused_with_a_victims_session_on_every_unsafe_route(world, oidc_settings):
    async with contextlib.AsyncExitStack() as stack:
        attacker = await stack.enter_async_context(app_client(oidc_settings))
        await attacker.get("/")
        token = attacker.cookies.get("csrftoken")
        routes = unsafe_routes(attacker.app)
        assert len(routes) >= 44  # the routes of the issue, and whatever came after
        sessions: dict[str, httpx.AsyncClient] = {}
        for account in sorted({account for _, account in VICTIMS}):
            sessions[account] = await stack.enter_async_context(app_client(oidc_settings))
            await login(sessions[account], account)
        ids = {"portal": await first_escalation(sessions["vlinder-beheerder"], "/portaal", "/portaal/escalaties/"),
               "region": await first_escalation(sessions["zl-lead"], "/regio/zuid-limburg/escalaties/",
                                                "/regio/zuid-limburg/escalaties/")}  # fmt: skip
        audited = await AuditEntry.count()
        passed = []
        for method, template in routes:
            path, victim = fill(template, ids), sessions[victim_of(template)]
            transplant = {"cookie": f"trede_session={victim.cookies.get('trede_session')}; csrftoken={token}"}
            async with httpx.AsyncClient(base_url=TEST_BASE, transport=httpx.ASGITransport(app=victim.app),
                                         timeout=20) as forger:  # no cookie jar: exactly this pair  # fmt: skip
                by_header = await forger.request(method, path, headers={**transplant, "x-csrftoken": token})
                by_field = await forger.request(method, path, headers=transplant, data={"_csrf_token": token})
            if (by_header.status_code, by_field.status_code) != (403, 403):
                passed.append((method, path, by_header.status_code, by_field.status_code))
        assert passed == []
        assert await AuditEntry.count() == audited  # nothing was decided on the victims' behalf

        # The check is what refused them: with the session's own token the same requests get past it (to the
        # handler's own answer: 303, 400, 404, 422), still signed in.
        refused = []
        for method, template in routes:
            if template == "/uitloggen":
                continue  # it would end the session the other routes use (its own test: test_csrf_session)
            victim = sessions[victim_of(template)]
            own = await victim.request(method, fill(template, ids), headers=csrf_headers(victim))
            if own.status_code in (401, 403) or own.headers.get("location", "").startswith("/inloggen"):
                refused.append((method, template, own.status_code))
        assert refused == []
