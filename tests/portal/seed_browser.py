"""Run against a running `trede serve --embedded` database (DATABASE_URL in the environment): opens the escalations
of tests.portal.support, and a contract-ladder escalation for De Vlinder in Zuid-Limburg (the region's team sends an
ingebrekestelling on it in the browser), and prints their ids and references as JSON (used by the browser test)."""

from __future__ import annotations

import asyncio
import json


async def main() -> None:
    from apps.escalations.services import open_escalation
    from apps.providers.tables import Provider
    from apps.tenancy.tables import Region
    from core.actor import SYSTEM
    from core.tenancy import RegionScope
    from tests.portal.support import VLINDER_KVK, open_vlinder_escalations

    opened = await open_vlinder_escalations()
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    zl = await Region.objects().where(Region.slug == "zuid-limburg").first()
    opened["contract"] = await open_escalation(
        RegionScope(zl.id), provider=vlinder, ladder_key="contract", category="contract",
        subcategory="rechtmatigheid", summary="Declaraties zonder dossier.", motivation="Data-analyse.", actor=SYSTEM,
    )  # fmt: skip
    print(json.dumps({"provider_id": str(vlinder.id),
                      **{k: {"id": str(e.id), "reference": e.reference} for k, e in opened.items()}}))  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
