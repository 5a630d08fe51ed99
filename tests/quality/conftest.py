"""Fixtures of the quality tests (the OpenID provider and the demo world come from tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
async def synced(db):
    """The regions of tenants/ (with their indicators), no demo data."""
    from apps.tenancy.services import sync_tenants
    from tests.support import ROOT

    await sync_tenants(ROOT / "tenants")
