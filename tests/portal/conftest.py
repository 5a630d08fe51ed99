"""Fixtures of the portal tests: a small upload limit and the demo world with De Vlinder's escalations."""

from __future__ import annotations

import pytest

from tests.accounts.support import load_world, provider_settings, settings_with_providers


@pytest.fixture
async def _evidence_cleanup(db):
    """The evidence tables are not in the suite's delete list (tests/conftest.py): empty them after each test."""
    yield
    for table in ("evidence_delivery", "evidence_review", "evidence_item"):
        await db.run_ddl(f'DELETE FROM "{table}"')


@pytest.fixture
def upload_max() -> int:
    return 200_000


@pytest.fixture
def oidc_settings(tmp_path, dev_op, upload_max):
    return settings_with_providers(tmp_path, [provider_settings(dev_op.issuer)], UPLOAD_MAX_BYTES=str(upload_max))


@pytest.fixture
async def world(db, dev_op, _evidence_cleanup):
    from tests.portal.support import open_vlinder_escalations

    await load_world(dev_op.issuer)
    return await open_vlinder_escalations()
