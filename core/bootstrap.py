"""Bringing a database up to date: migrations, tenants/, and demo data for the embedded default."""

from __future__ import annotations

import contextlib
import io

from apps.tenancy.services import sync_tenants
from core.demo import DEV_PROVIDER_NAME, ensure_demo_accounts, load_demo_data
from core.settings import Settings
from core.storage import storage_from_url


async def migrate_database() -> None:
    """Run every pending migration of every app. Raises RuntimeError with Piccolo's message on failure."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    # Piccolo prints a progress table per app; keep the operator's terminal to what matters.
    with contextlib.redirect_stdout(io.StringIO()) as output:
        response = await run_forwards(app_name="all")
    if not response.success:
        raise RuntimeError(f"Migration failed: {response.message}\n{output.getvalue()[-2000:]}")


async def bootstrap_embedded(settings: Settings) -> list[str]:
    """What `make run` does before serving: migrate, apply tenants/, add demo data to an empty database."""
    lines = []
    await migrate_database()
    lines.append("Database migrated.")
    for change in await sync_tenants(settings.tenants_dir):
        lines.append(f"tenants: {change.describe()}")
    added = await load_demo_data(storage_from_url(settings.storage_url))
    lines.append(added)
    for provider in settings.oidc_providers:
        if provider.name == DEV_PROVIDER_NAME:  # the local OpenID provider of `make run`
            lines.append(await ensure_demo_accounts(provider.issuer))
    return lines
