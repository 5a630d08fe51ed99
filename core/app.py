"""The Litestar application factory: one app, composed of the apps' routers."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Request, Response, Router
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.problem_details import ProblemDetailsPlugin
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from piccolo.engine import engine_finder

from apps.accounts.calendar_feed import CalendarFeedController
from apps.accounts.controllers import AccountController, AuthController, WorkspaceController, login_url
from apps.accounts.guards import authenticate, check_routes_declare_access
from apps.accounts.oidc import OidcRegistry
from apps.accounts.sessions import PiccoloStore, session_config
from apps.admin.controllers import admin_routers
from apps.audit.pages import PlatformAuditController, RegionAuditController
from apps.escalations.api import EscalationApiController, ProviderEscalationApiController
from apps.escalations.controllers import workspace_controllers
from apps.escalations.letters import configure as configure_letters  # letters are stored where documents are
from apps.ladders.api import CalendarApiController, RegionDetailApiController
from apps.ladders.pages import AdminLadderController, RegionLadderController
from apps.ladders.services import cached_diagram
from apps.notifications.devmail import DevMailboxController
from apps.notifications.pages import DeliveryController, NoticeController, PlatformDeliveryController
from apps.portal.controllers import portal_routers
from apps.portal.disputes import PortalDisputeController
from apps.providers.controllers import PortalOrganisationController, RegionProviderAddressController
from apps.quality.controllers import quality_controllers
from apps.tenancy.controllers import HomeController, RegionApiController
from core.broker import configure_broker
from core.clock import system_clock
from core.db import close_engine, one_connection_middleware, prepare_engine
from core.edge import BadInput, refuse_odd_input
from core.formatting import JINJA_FILTERS
from core.health import HealthController
from core.logs import configure_logging, request_context_middleware
from core.observability import metrics, prometheus_config
from core.problems import COMPONENTS, problem
from core.scheduler import scheduler_loop
from core.security import csrf_middleware, security_headers_middleware
from core.settings import ROOT, Settings
from core.storage import storage_from_url
from core.tracing import flush_traces, route_span_middleware, trace_broker, tracer_provider, web_plugin
from core.workers import start_worker

log = logging.getLogger("trede")

NODE = Path(ROOT) / "node_modules"
TEMPLATES = Path(ROOT) / "frontend" / "templates"
STATIC = Path(ROOT) / "frontend" / "static"
# Static files and health probes: public, no session, no user lookup.
STATIC_OPT = {"public": True, "static": True, "skip_session": True}


def static_routers():
    """Our own CSS plus the front-end packages installed by npm at setup (never vendored)."""
    return [
        create_static_files_router(
            path="/static/trede", directories=[STATIC], include_in_schema=False, opt=STATIC_OPT
        ),
        create_static_files_router(
            path="/static/utrecht",
            include_in_schema=False,
            directories=[NODE / "@utrecht" / "component-library-css" / "dist"],
            opt=STATIC_OPT,
        ),
        create_static_files_router(
            path="/static/tokens",
            include_in_schema=False,
            directories=[NODE / "@utrecht" / "design-tokens" / "dist"],
            opt=STATIC_OPT,
        ),
        create_static_files_router(
            path="/static/htmx", directories=[NODE / "htmx.org" / "dist"], include_in_schema=False, opt=STATIC_OPT
        ),
    ]


ERROR_PAGES = {
    400: ("Ongeldige invoer", "Het adres bevat een waarde die Trede niet kan gebruiken. Pas het filter of de zoekterm "
          "aan en probeer het opnieuw."),
    403: ("Geen toegang", "U heeft geen toegang tot deze pagina, of het formulier is verlopen: laad hem opnieuw."),
    404: ("Niet gevonden", "Deze pagina bestaat niet, of u heeft er geen toegang toe."),
    405: ("Niet toegestaan", "Deze handeling kan hier niet."),
    429: ("Te veel pogingen", "U heeft het te vaak geprobeerd. Wacht een paar minuten en probeer het dan opnieuw."),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", "text/html")


def http_error(request: Request, exc: HTTPException) -> Response:
    """Errors answer in the language of the route: problem details (RFC 9457) under /api/, a Dutch page elsewhere.

    401 (no session) redirects pages to the login page; htmx requests get HX-Redirect instead of a redirect.
    """
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 401 and not request.url.path.startswith("/api/"):
        target = login_url(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if request.headers.get("hx-request") == "true":
            return Response(content="", status_code=401, headers={"HX-Redirect": target})
        return Redirect(target, status_code=303)
    if _wants_json(request) or status not in ERROR_PAGES:
        detail = exc.detail if status < 500 else "Er ging iets mis."
        return problem(request, status, detail, headers=headers)
    title, message = ERROR_PAGES[status]
    if isinstance(exc, BadInput):
        message = exc.detail  # the Dutch reason, not the page's general one
    return Template("fout.html", context={"title": title, "message": message}, status_code=status, headers=headers)


def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected error: logged with its traceback and the request id, answered without details."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    if _wants_json(request):
        return problem(request, 500, "Er ging iets mis.")
    return Template(
        "fout.html",
        context={"title": "Er ging iets mis", "message": "Probeer het later opnieuw. Blijft het misgaan, neem dan "
                 "contact op met de beheerder en noem het tijdstip."},
        status_code=500,
    )  # fmt: skip


def api_v1_controllers() -> list:
    """The JSON API v1 (issue 3): region detail, ladders, calendar, escalations, the provider's escalations."""
    return [RegionDetailApiController, CalendarApiController, EscalationApiController, ProviderEscalationApiController]


def admin_route_handlers() -> list:
    """Issue 8: region onboarding (/beheer/regios), the ladder pages and editor, the audit log pages."""
    return [*admin_routers(), RegionLadderController, AdminLadderController, PlatformAuditController,
            RegionAuditController]  # fmt: skip


def register_template_globals(engine: JinjaTemplateEngine, settings: Settings | None = None) -> None:
    engine.engine.globals["dev_mailbox"] = bool(settings and settings.dev_mailbox)  # the footer links to it
    # frontend/templates/ladders/_diagram.html: a published version's diagram drawn once per process
    engine.engine.globals["ladder_diagram"] = cached_diagram
    engine.engine.filters.update(JINJA_FILTERS)  # the Dutch dates of core.formatting: {{ moment|nl_datetime }}


def create_app(settings: Settings, *, start_background: bool = True) -> Litestar:
    """Build the app. With the in-process broker (``stub://``) the worker and scheduler start with it."""
    configure_logging(json_logs=settings.is_production)
    broker = configure_broker(settings.broker_url)
    storage = storage_from_url(settings.storage_url)
    tracing = tracer_provider(settings, "trede-web")  # None unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    trace_broker(broker, tracing)  # messages enqueued here carry the request's trace; the embedded worker's too

    @asynccontextmanager
    async def lifespan(app: Litestar):
        db = engine_finder()  # core.piccolo_conf's engine, chosen from DATABASE_URL when first asked for
        await prepare_engine(db, pool=not settings.embedded_broker)
        worker = None
        stop = asyncio.Event()
        scheduler_task = None
        if settings.embedded_broker and start_background:
            worker = start_worker(broker, threads=2)
            scheduler_task = asyncio.create_task(scheduler_loop(stop))
            log.info("embedded worker and scheduler started")
        try:
            yield
        finally:
            stop.set()
            if scheduler_task:
                await scheduler_task
            if worker:
                worker.stop(timeout=10_000)
            await close_engine(db)
            if tracing:
                flush_traces()
    app = Litestar(
        route_handlers=[
            HealthController,
            HomeController,
            RegionApiController,
            *api_v1_controllers(),
            AuthController,
            WorkspaceController,
            *workspace_controllers(),
            AccountController,
            CalendarFeedController,
            NoticeController,
            DeliveryController,
            PlatformDeliveryController,
            *([DevMailboxController] if settings.dev_mailbox else []),  # development only: /ontwikkeling/post
            *admin_route_handlers(),  # issue 8: /beheer/regios, ladders, audit log
            metrics,
            *portal_routers(settings),
            RegionProviderAddressController,  # issue 16: the provider's postal address for letters
            PortalOrganisationController,
            PortalDisputeController,  # issue 15: the provider opens a dispute about one case and takes its steps
            *quality_controllers(),
            *static_routers(),
        ],
        lifespan=[lifespan],
        template_config=TemplateConfig(
            directory=TEMPLATES, engine=JinjaTemplateEngine,
            engine_callback=lambda engine: register_template_globals(engine, settings),
        ),
        plugins=[HTMXPlugin(), ProblemDetailsPlugin(), *([web_plugin(tracing)] if tracing else [])],
        middleware=[
            one_connection_middleware,  # outermost: the session, guards, handler and a streamed body share one
            request_context_middleware,
            *([route_span_middleware] if tracing else []),
            prometheus_config.middleware,
            security_headers_middleware(settings.is_production),
            session_config(secure=settings.is_production).middleware,
            # Inside the session middleware: the token is checked against this session's secret.
            csrf_middleware(key=settings.secret_key, secure=settings.is_production, exclude=["/health"]),
        ],
        stores={"sessions": PiccoloStore()},
        guards=[refuse_odd_input, authenticate],  # odd input first: the other guards read the path
        exception_handlers={HTTPException: http_error, Exception: server_error},
        # The schema (route shapes only, no data) is public, as JSON only: /api/schema/openapi.json.
        openapi_config=OpenAPIConfig(
            title="Trede API",
            version="1",
            description="The JSON API v1 of Trede. Errors are RFC 9457 problem details (application/problem+json) "
            "with the reason in Dutch in `detail`; see core/problems.py for what each status means.",
            components=COMPONENTS,  # the session cookie and the CSRF header (core/problems.py)
            use_handler_docstrings=True,
            render_plugins=[JsonRenderPlugin()],
            openapi_router=Router(path="/api/schema", route_handlers=[], opt={"public": True}, include_in_schema=False),
        ),
        debug=False,
        logging_config=None,  # core.logs configures the root logger; Litestar adds no handler of its own
    )
    check_routes_declare_access(app)
    app.state.settings = settings
    app.state.oidc = OidcRegistry.from_settings(settings)
    app.state.storage = storage
    configure_letters(storage, settings.base_url)
    app.state.broker = broker
    app.state.clock = system_clock  # the API reads time from here; tests put a FrozenClock in its place
    return app
