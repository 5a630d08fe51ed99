"""Fixtures of the API tests: one local OpenID provider, one app and one database world per module, and one
logged-in client per demo account (logged in once, through the real provider, on first use).

The tests move time by putting a ``FrozenClock`` in ``app.state.clock`` (the API reads it) and by calling the
sweep in-process with the same clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from core.clock import AMSTERDAM, FrozenClock, system_clock
from tests.accounts.support import (
    TEST_BASE,
    csrf_headers,
    load_world,
    login,
    provider_settings,
    settings_with_providers,
    start_dev_op,
)
from tests.conftest import TABLES_IN_DELETE_ORDER

VLINDER_KVK = "90000001"  # Jeugdzorg De Vlinder B.V.: contracts in Zuid-Limburg and Lekstroom
SAMEN_STERK_KVK = "90000002"  # Zuid-Limburg
ANKER_KVK = "90000003"  # West-Brabant West
KOMPAS_KVK = "90000004"  # West-Brabant West and Lekstroom


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A Dutch local moment (aware)."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


async def _empty_database() -> None:
    from core.piccolo_conf import DB

    for table in TABLES_IN_DELETE_ORDER:
        await DB.run_ddl(f'DELETE FROM "{table}"')


class Api:
    """The app with one cookie jar per demo account."""

    def __init__(self, app) -> None:
        self.app = app
        self.clients: dict[str, httpx.AsyncClient] = {}

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=TEST_BASE, mounts={TEST_BASE: httpx.ASGITransport(app=self.app)}, timeout=20)

    async def as_(self, account: str) -> Client:
        if account not in self.clients:
            http = self.client()
            page = await login(http, account)
            assert page.status_code == 200 and "/werkruimte" in str(page.url), page.text[:300]
            self.clients[account] = http
        return Client(self.clients[account])

    @property
    def clock(self):
        return self.app.state.clock

    def freeze(self, moment: datetime) -> FrozenClock:
        self.app.state.clock = FrozenClock(moment)
        return self.app.state.clock


class Client:
    """A logged-in client: JSON in, JSON out; POSTs carry the CSRF header like htmx does."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params={k: v for k, v in params.items() if v is not None})

    async def post(self, path: str, body: Any = None, *, headers: dict | None = None, **kwargs) -> httpx.Response:
        return await self.http.post(path, json=body, headers={**csrf_headers(self.http), **(headers or {})}, **kwargs)

    async def ok(self, path: str, **params: Any) -> Any:
        response = await self.get(path, **params)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response.json()

    async def done(self, path: str, body: Any, status: int = 200, **kwargs) -> Any:
        response = await self.post(path, body, **kwargs)
        assert response.status_code == status, (path, body, response.status_code, response.text[:500])
        return response.json()


@pytest.fixture(scope="module")
def dev_op():
    op = start_dev_op([f"{TEST_BASE}/auth/callback/dev"], [f"{TEST_BASE}/"])
    yield op
    op.stop()


@pytest.fixture(scope="module")
async def api(migrated_database, dev_op, tmp_path_factory):
    from core.app import create_app

    settings = settings_with_providers(tmp_path_factory.mktemp("api"), [provider_settings(dev_op.issuer)])
    await _empty_database()
    await load_world(dev_op.issuer)
    world = Api(create_app(settings, start_background=False))
    yield world
    for http in world.clients.values():
        await http.aclose()
    await _empty_database()


@pytest.fixture
def clock(api):
    """Monday 2 March 2026, 10:00 in the app (and for the sweep); the system clock again after the test."""
    frozen = api.freeze(at(2026, 3, 2))
    yield frozen
    api.app.state.clock = system_clock


async def sweep(clock: FrozenClock) -> dict[str, int]:
    from apps.workers.services import run_sweep

    return await run_sweep(int(clock.now().timestamp() // 60), clock)
