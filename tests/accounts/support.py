"""The local OpenID provider (infra/oidc-dev) for tests, and logging in through it with httpx.

``app_client`` serves the app in the test's event loop (ASGI) at http://testserver, while the OP is a real node
process on a free port: an httpx client with a mount for testserver follows the whole login across both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import httpx2
import pytest

from tests.support import ROOT, make_settings_env

DEV_OP = ROOT / "infra" / "oidc-dev" / "server.mjs"
CLIENT_ID = "trede-dev"
CLIENT_SECRET = "trede-dev-secret"
TEST_BASE = "http://testserver"


@dataclass
class DevOP:
    process: subprocess.Popen
    issuer: str
    output: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_dev_op(redirect_uris: list[str], post_logout_uris: list[str], timeout: float = 20) -> DevOP:
    """Start infra/oidc-dev/server.mjs on a free port and wait for its READY line."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the local OpenID provider (infra/oidc-dev)")
    env = {
        **os.environ,
        "OIDC_DEV_PORT": "0",
        "OIDC_DEV_CLIENT_ID": CLIENT_ID,
        "OIDC_DEV_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_DEV_REDIRECT_URIS": ",".join(redirect_uris),
        "OIDC_DEV_POST_LOGOUT_REDIRECT_URIS": ",".join(post_logout_uris),
    }
    process = subprocess.Popen(
        [node, str(DEV_OP)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    ready = threading.Event()
    op = DevOP(process=process, issuer="")

    def read() -> None:  # keep reading, or the pipe fills and the OP blocks
        for line in process.stdout:
            op.output.append(line.rstrip())
            if line.startswith("READY "):
                op.issuer = line.split()[1]
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout):
        op.stop()
        pytest.fail("the local OpenID provider did not start:\n" + "\n".join(op.output))
    return op


def provider_settings(issuer: str, name: str = "dev", **extra: str) -> dict:
    return {"name": name, "issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "label": "de lokale OpenID-provider", **extra}  # fmt: skip


def settings_with_providers(tmp_path: Path, providers: list[dict], **overrides: str):
    from core.settings import load_settings

    return load_settings(make_settings_env(tmp_path, OIDC_PROVIDERS=json.dumps(providers), **overrides))


async def load_world(issuer: str | None) -> None:
    """Regions from tenants/, the demo providers and escalations, and the demo accounts for ``issuer``."""
    from apps.tenancy.services import sync_tenants
    from core.demo import ensure_demo_accounts, load_demo_data

    await sync_tenants(ROOT / "tenants")
    await load_demo_data()
    if issuer:
        await ensure_demo_accounts(issuer)


@asynccontextmanager
async def app_client(settings, *, transport_for_oidc: httpx2.AsyncBaseTransport | None = None):
    """An httpx client on the app (ASGI, this event loop) that reaches any other host over the network."""
    from apps.accounts.oidc import OidcRegistry
    from core.app import create_app

    app = create_app(settings, start_background=False)
    if transport_for_oidc is not None:
        app.state.oidc = OidcRegistry.from_settings(settings, transport=transport_for_oidc)
    async with httpx.AsyncClient(
        base_url=TEST_BASE, mounts={TEST_BASE: httpx.ASGITransport(app=app)}, timeout=20
    ) as http:
        http.app = app
        yield http


async def login(http: httpx.AsyncClient, account: str, next_path: str = "/werkruimte") -> httpx.Response:
    """Log in as a demo account through the real OP (login_hint selects the account); the final response."""
    return await http.get(
        "/inloggen/dev", params={"login_hint": account, "next": next_path}, follow_redirects=True
    )


def csrf_headers(http: httpx.AsyncClient) -> dict[str, str]:
    token = http.cookies.get("csrftoken", domain="testserver") or http.cookies.get("csrftoken")
    return {"x-csrftoken": token} if token else {}


async def session_row_count() -> int:
    from apps.accounts.tables import WebSession

    return await WebSession.count()
