"""Evidence watch (run by the daily sweep): evidence that is about to expire is a reminder to the provider; evidence
that has expired is a signal for every region the provider has a contract with — and, where the region file says
so, an escalation in the safety category at once (seed 000: no valid VOG is a safety shortcoming).

Each item acts once per stage: the ledger (``job_run``) holds "evidence-reminder:<id>" and "evidence-expired:<id>".
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apps.escalations.signals import escalate_signal
from apps.escalations.tables import Signal
from apps.evidence.services import KINDS, VOG_MEDEWERKER, VOG_VRIJWILLIGER
from apps.evidence.tables import EvidenceItem
from apps.notifications.tables import Notification
from apps.providers.tables import Contract, Provider
from apps.tenancy.tables import Region
from core.actor import SYSTEM
from core.clock import Clock, system_clock
from core.formatting import format_date_nl
from core.ledger import claim_key
from core.tenancy import ProviderScope, RegionScope

log = logging.getLogger("trede.evidence")
SUBCATEGORY = {VOG_MEDEWERKER: "vog_werknemers", VOG_VRIJWILLIGER: "vog_vrijwilligers"}  # SKJ/BIG: deskundigheid


async def watch_evidence(clock: Clock = system_clock) -> dict[str, int]:
    today = clock.today()
    regions = {r.id: r for r in await Region.objects().where(Region.active == True).output(load_json=True)}  # noqa: E712
    longest_notice = max((r.settings.get("evidence_watch", {}).get("remind_days_before", 60) for r in regions.values()),
                         default=60)  # fmt: skip
    done = {"reminded": 0, "expired": 0}
    items = await EvidenceItem.objects().where(EvidenceItem.valid_until <= today + timedelta(days=longest_notice))
    for item in items:
        contract_regions = await _contract_regions(item.provider, regions)
        if not contract_regions:
            continue
        if item.valid_until < today:
            if await claim_key(f"evidence-expired:{item.id}", "evidence", clock):
                for region in contract_regions:
                    await _expired(region, item, clock)
                done["expired"] += 1
        elif await claim_key(f"evidence-reminder:{item.id}", "evidence", clock):
            await _remind(contract_regions[0], item, clock)
            done["reminded"] += 1
    return done


async def _contract_regions(provider_id, regions: dict) -> list[Region]:
    scope = await ProviderScope.for_provider(provider_id)
    return sorted((regions[r] for r in scope.region_ids if r in regions), key=lambda r: r.slug)


def _describe(item: EvidenceItem) -> str:
    return f"{KINDS.get(item.kind, item.kind)} van {item.person}"


async def _remind(region: Region, item: EvidenceItem, clock: Clock) -> None:
    """The provider hears it first; the notice lives in one of its contract regions (rows belong to a region)."""
    await RegionScope(region.id).new(
        Notification, recipient=f"provider:{item.provider}", channel="email", template="bewijs_verloopt",
        payload={"wat": _describe(item), "vervaldatum": format_date_nl(item.valid_until)},
        idempotency_key=f"evidence-reminder:{item.id}", created_at=clock.now(),
    ).save()  # fmt: skip


async def _expired(region: Region, item: EvidenceItem, clock: Clock) -> None:
    scope = RegionScope(region.id)
    provider = await Provider.objects().where(Provider.id == item.provider).first()
    description = (f"{_describe(item)} ({provider.name}, KvK {provider.kvk_number}) is verlopen sinds "
                   f"{format_date_nl(item.valid_until + timedelta(days=1))}.")  # fmt: skip
    signal = scope.new(Signal, provider=item.provider, reported_by="Trede (bewaking bewijsstukken)",
                       description=description, source="evidence_watch", received_at=clock.now())  # fmt: skip
    await signal.save()
    settings = (region.settings or {}).get("evidence_watch", {})
    if not settings.get("opens_escalation"):
        return
    contract = await scope.select(Contract, Contract.id).where(Contract.provider == item.provider).first()
    if contract is None:
        return
    try:
        await escalate_signal(
            scope, signal.id, actor=SYSTEM, ladder_key=settings.get("ladder", "kwaliteit"), category="veiligheid",
            subcategory=SUBCATEGORY.get(item.kind, "deskundigheid"), summary=description,
            motivation="Automatisch geopend door de bewaking van bewijsstukken: een verlopen VOG of registratie "
                       "raakt de veiligheid van cliënten (escalatiemodel, categorie veiligheid).",
            clock=clock,
        )  # fmt: skip
    except Exception:  # the signal stays for triage by people; never lose it because the ladder differs
        log.exception("evidence watch could not open an escalation in %s", region.slug)
