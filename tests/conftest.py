"""Test set-up: a fresh database per run — SQLite by default, PostgreSQL when TEST_DATABASE_URL says so.

The engine is chosen when ``core.piccolo_conf`` is first imported, so DATABASE_URL is settled here, before
any test module imports a table.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.support import make_settings_env

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres://", "postgresql://"))
_TMP = Path(tempfile.mkdtemp(prefix="trede-tests-"))


def _create_postgres_database(server_url: str) -> str:
    """A new, empty database on the server of ``server_url``; returns its URL."""
    import asyncpg

    name = f"trede_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


def _drop_postgres_database(server_url: str, database_url: str) -> None:
    import asyncpg

    name = database_url.rpartition("/")[2]

    async def drop() -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


def new_database_url() -> str:
    """A further fresh database of the same kind as the suite's (for subprocess tests)."""
    if ON_POSTGRES:
        url = _create_postgres_database(TEST_DATABASE_URL)
        _CREATED.append(url)
        return url
    return f"sqlite:///{_TMP / f'db-{uuid.uuid4().hex[:8]}.sqlite3'}"


_CREATED: list[str] = []
if ON_POSTGRES:
    DATABASE_URL = _create_postgres_database(TEST_DATABASE_URL)
    _CREATED.append(DATABASE_URL)
else:
    DATABASE_URL = f"sqlite:///{_TMP / 'suite.sqlite3'}"
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("TREDE_VAR_DIR", str(_TMP / "var"))


def pytest_report_header(config):
    return f"trede database: {'PostgreSQL' if ON_POSTGRES else 'SQLite'} ({DATABASE_URL})"


def pytest_sessionfinish(session, exitstatus):
    for url in _CREATED:
        try:
            _drop_postgres_database(TEST_DATABASE_URL, url)
        except Exception as exc:  # leave a note, never mask the test result
            print(f"could not drop test database {url}: {exc}", file=sys.stderr)
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
async def migrated_database():
    from core.bootstrap import migrate_database

    await migrate_database()
    return DATABASE_URL


TABLES_IN_DELETE_ORDER = [
    "audit_entry",
    "notification",
    "quality_signal",
    "quality_figure",
    "quality_indicator",
    "evidence_delivery",
    "evidence_review",
    "evidence_item",
    "document",
    "measure",
    "timeline_event",
    "deadline",
    "signal",
    "escalation",
    "ladder_version",
    "ladder",
    "invitation",
    "calendar_feed",
    "membership",
    "app_user",
    "contract",
    "provider",
    "region_mailbox",
    "municipality",
    "region",
    "job_run",
    "metric_snapshot",
    "web_session",
    "rate_limit_counter",
]


@pytest.fixture
async def db(migrated_database):
    """An empty, migrated database; emptied again after the test."""
    from core.piccolo_conf import DB

    yield DB
    for table in TABLES_IN_DELETE_ORDER:
        await DB.run_ddl(f'DELETE FROM "{table}"')


@pytest.fixture(scope="session")
def tenants_dir() -> Path:
    return ROOT / "tenants"


@pytest.fixture
def tenants_copy(tmp_path) -> Path:
    """A copy of tenants/ to break or change in a test."""
    target = tmp_path / "tenants"
    shutil.copytree(ROOT / "tenants", target, ignore=shutil.ignore_patterns("*.md"))
    return target


@pytest.fixture
def settings_env(tmp_path):
    return make_settings_env(tmp_path)


@pytest.fixture
def app_settings(settings_env):
    from core.settings import load_settings

    return load_settings(settings_env)


@pytest.fixture
async def client(db, app_settings):
    """An HTTP client on the app, sharing the test's event loop (and so its database connections)."""
    import httpx

    from core.app import create_app

    app = create_app(app_settings, start_background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        http.app = app
        yield http


@pytest.fixture
async def synced(db, tenants_dir):
    from apps.tenancy.services import sync_tenants

    return await sync_tenants(tenants_dir)


# --- the local OpenID provider, the demo world and the browser: shared by the page and browser tests ---------------


@pytest.fixture(scope="session")
def dev_op():
    """The local OpenID provider (node, infra/oidc-dev) for the in-process app clients of the whole session."""
    from tests.accounts.support import TEST_BASE, start_dev_op

    op = start_dev_op([f"{TEST_BASE}/auth/callback/dev"], [f"{TEST_BASE}/"])
    yield op
    op.stop()


@pytest.fixture
def oidc_settings(tmp_path, dev_op):
    from tests.accounts.support import provider_settings, settings_with_providers

    return settings_with_providers(tmp_path, [provider_settings(dev_op.issuer)])


@pytest.fixture
async def world(db, dev_op):
    """The regions of tenants/, the demo providers, escalations and accounts (linked to the dev OP)."""
    from tests.accounts.support import load_world

    await load_world(dev_op.issuer)


@pytest.fixture(scope="module", autouse=True)
def html_of_the_visited_pages_is_valid():
    """The W3C Nu HTML Checker over every page the module's browser tests checked (``assert_accessible`` kept
    them), in one Java start at the end of the module: no errors."""
    yield
    support = sys.modules.get("tests.browser_support")  # only a browser test module loads it
    if support is not None:
        errors = support.NU.errors()
        assert errors == [], "The Nu HTML Checker finds errors:\n" + "\n".join(errors)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser build)."""
    from tests.browser_support import chromium

    with chromium() as launched:
        yield launched
