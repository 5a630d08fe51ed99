"""Who may use a route. Every route either carries ``opt={"public": True}`` or one of the guards below;
``check_routes_declare_access`` refuses to build an app with a route that does neither.

- ``authenticate`` (app-wide, first): loads the signed-in person from the session (idle and absolute timeouts
  apply) into ``request.state.person``; refuses a non-public route without one (401: pages redirect to login).
- ``signed_in``: any signed-in person.
- ``requires(*roles)``: the person holds one of the roles somewhere (a region, a provider, or platform admin).
- ``region_role(*roles)``: for routes with a region in the path (``{region:str}`` slug or ``{region_id:uuid}``):
  the person holds one of the roles *in that region*; otherwise 404, the same answer as for a missing region.
- ``region_role_or_municipality(*roles)``: as ``region_role``, or a role held for a municipality of that region.
- ``provider_role(*roles)``: the same for ``{provider_id:uuid}``.

Guards decide whether a route may be used at all; which rows a person sees is decided by the scopes
(``core.tenancy.RegionScope`` / ``ProviderScope`` / ``MunicipalityScope``) that the controllers build from
``request.state.person``.
"""

from __future__ import annotations

import time
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler

from apps.accounts.roles import Role
from apps.accounts.services import Person, load_person
from apps.accounts.sessions import ABSOLUTE_TIMEOUT, signed_in_rows
from apps.notifications.inapp import unread_count
from apps.tenancy.tables import Region
from core.logs import set_region

PERSON = "person"
REGION = "trede.region"


def declares_access(description: str):
    def mark(guard):
        guard.trede_access = description
        return guard

    return mark


async def current_person(connection: ASGIConnection) -> Person | None:
    """The signed-in person of this request (loaded once per request), or None."""
    state = connection.scope["state"]
    if PERSON in state:
        return state[PERSON]
    person = None
    session = connection.scope.get("session") or {}
    user_id = session.get("uid") if isinstance(session, dict) else None
    if user_id:
        auth_at = session.get("auth_at", 0)
        if not isinstance(auth_at, int | float) or time.time() - auth_at > ABSOLUTE_TIMEOUT.total_seconds():
            connection.scope["session"] = {}  # too old: the session ends here
        else:
            person = await load_person(user_id, signed_in_rows(connection))
            if person is None:
                connection.scope["session"] = {}  # the user was removed or deactivated
    state[PERSON] = person
    return person


async def authenticate(connection: ASGIConnection, route_handler: BaseRouteHandler) -> None:
    if route_handler.opt.get("static"):
        return
    person = await current_person(connection)
    if person is None and not route_handler.opt.get("public"):
        raise NotAuthorizedException("Log in om verder te gaan.")
    # Full pages show the bell; API answers and htmx partials (polling every few seconds) do not need the count.
    is_partial = connection.headers.get("hx-request") == "true"
    if person is not None and not is_partial and not connection.url.path.startswith("/api/"):
        connection.scope["state"]["unread"] = await unread_count(person)  # the bell in every page's header


async def _person(connection: ASGIConnection) -> Person:
    person = await current_person(connection)
    if person is None:
        raise NotAuthorizedException("Log in om verder te gaan.")
    return person


@declares_access("any signed-in person")
async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    await _person(connection)


def requires(*roles: Role):
    wanted = frozenset(roles)

    @declares_access(f"holds one of {sorted(wanted)} anywhere")
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        person = await _person(connection)
        if not person.all_roles() & wanted:
            raise NotFoundException()

    return guard


async def _region_id(connection: ASGIConnection) -> UUID | None:
    params = connection.path_params
    if "region_id" in params:
        try:
            return UUID(str(params["region_id"]))
        except ValueError:
            return None
    slug = params.get("region") or params.get("region_slug")
    if slug is None:
        raise ImproperlyConfiguredException("region_role needs a {region} or {region_id} path parameter")
    region = await region_of_request(connection, str(slug))
    return region.id if region else None


async def region_of_request(connection: ASGIConnection, slug: str) -> Region | None:
    """The region named by ``slug``, read once per request: the guard reads it, the page's handler reuses it."""
    state = connection.scope["state"]
    cached = state.get(REGION)
    if cached is not None and cached.slug == slug:
        return cached
    region = await Region.objects().where(Region.slug == slug).first()
    if region is not None:
        state[REGION] = region
    return region


def region_role(*roles: Role):
    wanted = frozenset(roles)

    @declares_access(f"holds one of {sorted(wanted)} in the region of the path")
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        person = await _person(connection)
        region_id = await _region_id(connection)
        if region_id is None or not person.region_roles.get(region_id, frozenset()) & wanted:
            raise NotFoundException()
        # The request's log lines (and its access line) name the region from here on.
        set_region(str(connection.path_params.get("region_slug") or connection.path_params.get("region") or region_id))

    return guard


def region_role_or_municipality(*roles: Role):
    """Like ``region_role``, and also a person who holds a role *for a municipality* of the path's region (the access
    team / lokale aanstuurder of Roosendaal): the disputes pages. Which disputes they read is the scope's
    (``core.tenancy.MunicipalityScope``: their municipality's only)."""
    wanted = frozenset(roles)

    @declares_access(f"holds one of {sorted(wanted)} in the region of the path, or a role for a municipality of it")
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        person = await _person(connection)
        region_id = await _region_id(connection)
        if region_id is None or not (
            person.region_roles.get(region_id, frozenset()) & wanted or person.region_municipalities.get(region_id)
        ):
            raise NotFoundException()
        set_region(str(connection.path_params.get("region_slug") or connection.path_params.get("region") or region_id))

    return guard


def provider_role(*roles: Role):
    wanted = frozenset(roles)

    @declares_access(f"holds one of {sorted(wanted)} in the provider of the path")
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        person = await _person(connection)
        try:
            provider_id = UUID(str(connection.path_params["provider_id"]))
        except (KeyError, ValueError):
            raise NotFoundException() from None
        if not person.provider_roles.get(provider_id, frozenset()) & wanted:
            raise NotFoundException()

    return guard


@declares_access("platform admin")
async def platform_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    person = await _person(connection)
    if not person.is_platform_admin:
        raise NotFoundException()


def access_of(route_handler: BaseRouteHandler) -> str | None:
    """How a route declares who may use it: "public" or the guards' descriptions; None when it does not."""
    if route_handler.opt.get("public"):
        return "public"
    declared = [g.trede_access for g in route_handler.resolve_guards() if hasattr(g, "trede_access")]
    return "; ".join(declared) or None


def is_automatic_options(route_handler: BaseRouteHandler) -> bool:
    """Litestar's own OPTIONS answer (CORS preflight): it returns the allowed methods, never data."""
    return set(getattr(route_handler, "http_methods", ())) == {"OPTIONS"}


def check_routes_declare_access(app) -> None:
    missing = [
        f"{', '.join(sorted(handler.http_methods))} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if access_of(handler) is None and not is_automatic_options(handler)
    ]
    if missing:
        raise ImproperlyConfiguredException(
            "routes without a declaration of who may use them (opt public or an apps.accounts.guards guard): "
            + "; ".join(missing)
        )
