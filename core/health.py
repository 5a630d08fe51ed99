"""``/health/live`` (the process answers) and ``/health/ready`` (database, storage and broker answer)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from piccolo.engine import engine_finder

from core.broker import broker_ready

CHECK_TIMEOUT_SECONDS = 3.0


async def _check_database() -> None:
    from piccolo.querystring import QueryString

    await engine_finder().run_querystring(QueryString("SELECT 1"))


async def _run(check) -> tuple[bool, str]:
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return False, f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # the point of a readiness probe: report any failure, never raise
        return False, f"{type(exc).__name__}: {exc}"[:300]
    return True, "ok"


class HealthController(Controller):
    path = "/health"
    include_in_schema = True
    tags = ["health"]

    @get("/live", sync_to_thread=False, opt={"public": True, "static": True, "skip_session": True})
    def live(self) -> dict[str, str]:
        """Liveness: the process answers (no dependency is checked)."""
        return {"status": "ok"}

    @get(
        "/ready",
        opt={"public": True, "static": True, "skip_session": True},
        responses={503: ResponseSpec(dict[str, Any], description="A dependency does not answer (see checks).")},
    )
    async def ready(self, request: Request) -> Response[dict[str, Any]]:
        """Readiness: the database, object storage and broker answer; 503 with the failed checks otherwise."""
        import anyio

        state = request.app.state
        storage = state.storage
        broker = state.broker
        checks = {
            "database": _check_database,
            "storage": lambda: anyio.to_thread.run_sync(storage.check),
            "broker": lambda: broker_ready(broker),
        }
        results = dict(zip(checks, await asyncio.gather(*(_run(c) for c in checks.values())), strict=True))
        failed = [name for name, (ok, _) in results.items() if not ok]
        body: dict[str, Any] = {
            "status": "ok" if not failed else "unavailable",
            "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()},
        }
        if failed:
            body["failed"] = failed
        return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE if failed else HTTP_200_OK)
