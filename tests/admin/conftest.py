"""Fixtures of the admin tests: the local OpenID provider (node, infra/oidc-dev) and the demo world."""

from __future__ import annotations

import pytest

from tests.accounts.support import TEST_BASE, load_world, provider_settings, settings_with_providers, start_dev_op


@pytest.fixture(scope="session")
def dev_op():
    op = start_dev_op([f"{TEST_BASE}/auth/callback/dev"], [f"{TEST_BASE}/"])
    yield op
    op.stop()


@pytest.fixture
def oidc_settings(tmp_path, dev_op):
    return settings_with_providers(tmp_path, [provider_settings(dev_op.issuer)])


@pytest.fixture
async def world(db, dev_op):
    await load_world(dev_op.issuer)
