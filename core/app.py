"""The Litestar application factory: one app, composed of the apps' routers."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from core.health import HealthController
from core.observability import configure_logging, metrics, prometheus_config, request_context_middleware
from core.security import security_headers_middleware
from core.settings import ROOT, Settings
from core.storage import storage_from_url

log = logging.getLogger("trede")

NODE = Path(ROOT) / "node_modules"
TEMPLATES = Path(ROOT) / "frontend" / "templates"
STATIC = Path(ROOT) / "frontend" / "static"


def static_routers():
    """Our own CSS plus the front-end packages installed by npm at setup (never vendored)."""
    return [
        create_static_files_router(path="/static/trede", directories=[STATIC], include_in_schema=False),
        create_static_files_router(
            path="/static/utrecht",
            include_in_schema=False,
            directories=[NODE / "@utrecht" / "component-library-css" / "dist"],
        ),
        create_static_files_router(
            path="/static/tokens", include_in_schema=False, directories=[NODE / "@utrecht" / "design-tokens" / "dist"]
        ),
        create_static_files_router(
            path="/static/htmx", directories=[NODE / "htmx.org" / "dist"], include_in_schema=False
        ),
    ]


def create_app(settings: Settings, *, start_background: bool = True) -> Litestar:
    """Build the app. With the in-process broker (``stub://``) the worker and scheduler start with it."""
    from apps.tenancy.controllers import HomeController, RegionApiController
    from core.broker import configure_broker
    from core.db import close_engine, prepare_engine
    from core.piccolo_conf import DB

    configure_logging(json_logs=settings.is_production)
    broker = configure_broker(settings.broker_url)
    storage = storage_from_url(settings.storage_url)

    @asynccontextmanager
    async def lifespan(app: Litestar):
        await prepare_engine(DB, pool=not settings.embedded_broker)
        worker = None
        stop = asyncio.Event()
        scheduler_task = None
        if settings.embedded_broker and start_background:
            from core.scheduler import scheduler_loop
            from core.workers import start_worker

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
            await close_engine(DB)

    app = Litestar(
        route_handlers=[HealthController, HomeController, RegionApiController, metrics, *static_routers()],
        lifespan=[lifespan],
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        plugins=[HTMXPlugin()],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.is_production,
            cookie_samesite="lax",
            exclude=["/health"],
        ),
        middleware=[
            request_context_middleware,
            prometheus_config.middleware,
            security_headers_middleware(settings.is_production),
        ],
        openapi_config=OpenAPIConfig(title="Trede API", version="1", path="/api/schema"),
        debug=False,
    )
    app.state.settings = settings
    app.state.storage = storage
    app.state.broker = broker
    return app
