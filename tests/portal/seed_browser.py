"""Run against a running `trede serve --embedded` database (DATABASE_URL in the environment): opens the escalations
of tests.portal.support and prints their ids and references as JSON (used by the browser test)."""

from __future__ import annotations

import asyncio
import json


async def main() -> None:
    from apps.providers.tables import Provider
    from tests.portal.support import VLINDER_KVK, open_vlinder_escalations

    opened = await open_vlinder_escalations()
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    print(json.dumps({"provider_id": str(vlinder.id),
                      **{k: {"id": str(e.id), "reference": e.reference} for k, e in opened.items()}}))  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
