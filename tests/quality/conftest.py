from __future__ import annotations

import pytest

from tests.accounts.support import TEST_BASE, provider_settings, settings_with_providers, start_dev_op


@pytest.fixture(scope="session")
def dev_op():
    op = start_dev_op([f"{TEST_BASE}/auth/callback/dev"], [f"{TEST_BASE}/"])
    yield op
    op.stop()


@pytest.fixture
def oidc_settings(tmp_path, dev_op):
    return settings_with_providers(tmp_path, [provider_settings(dev_op.issuer)])


@pytest.fixture
async def synced(db):
    """The regions of tenants/ (with their indicators), no demo data."""
    from apps.tenancy.services import sync_tenants
    from tests.support import ROOT

    await sync_tenants(ROOT / "tenants")
