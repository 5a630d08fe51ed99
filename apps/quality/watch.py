"""Watching for missing figures (run by the sweep every minute): like any other deadline.

For each indicator the last ended period counts. ``remind_days_before`` the due date, a provider with a contract
over that period and no figure yet gets a reminder; after the due date a notice that the figures are missing, and
— where the indicator says ``signal_missing`` — a signal for triage. Figures of one period that are due on the
same day go in one notice. Each notice is claimed once in the ``job_run`` ledger (key per region, provider,
period, due date and stage), so the sweep can run as often as it likes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from apps.notifications.tables import Notification
from apps.providers.tables import Contract
from apps.quality.indicators import due_on, last_closed_period, period_end, period_label
from apps.quality.services import MISSING, raise_signal
from apps.quality.tables import QualityFigure, QualityIndicator
from apps.tenancy.tables import Region
from core.clock import Clock, system_clock
from core.formatting import format_date_nl
from core.ledger import claim_key
from core.tenancy import RegionScope
from core.transactions import write_transaction

log = logging.getLogger("trede.quality")
REMIND, OVERDUE = "herinnering", "ontbreekt"
TEMPLATES = {REMIND: "kwaliteit_herinnering", OVERDUE: "kwaliteit_ontbreekt"}


async def watch_figures(clock: Clock = system_clock) -> dict[str, int]:
    done = {"reminded": 0, "missing": 0}
    for region in await Region.select(Region.id).where(Region.active == True):  # noqa: E712
        try:
            counts = await _watch_region(RegionScope(region["id"]), clock)
        except Exception:  # one region's trouble must not stop the others
            log.exception("quality watch failed for region %s", region["id"])
            continue
        done["reminded"] += counts[REMIND]
        done["missing"] += counts[OVERDUE]
    return done


async def _watch_region(scope: RegionScope, clock: Clock) -> dict[str, int]:
    today = clock.today()
    counts = {REMIND: 0, OVERDUE: 0}
    indicators = await (
        scope.objects(QualityIndicator)
        .where((QualityIndicator.active == True) & (QualityIndicator.derived_from == ""))  # noqa: E712
        .order_by(QualityIndicator.position)
    )
    if not indicators:
        return counts
    contracts = await scope.select(Contract, Contract.provider, Contract.valid_from, Contract.valid_until)
    groups: dict[tuple, list[QualityIndicator]] = defaultdict(list)
    for indicator in indicators:
        period = last_closed_period(indicator.period, today)
        due = due_on(period, indicator.due_days)
        if today > due:
            stage = OVERDUE
        elif today >= due - timedelta(days=indicator.remind_days_before):
            stage = REMIND
        else:
            continue
        end = period_end(period)
        given = {
            row["provider"]
            for row in await scope.select(QualityFigure, QualityFigure.provider).where(
                (QualityFigure.indicator == indicator.id) & (QualityFigure.period == period)
                & (QualityFigure.status == "actueel")
            )
        }  # fmt: skip
        for contract in contracts:
            covers = contract["valid_from"] <= end and (
                contract["valid_until"] is None or contract["valid_until"] >= end
            )
            if covers and contract["provider"] not in given:
                groups[(contract["provider"], period, due, stage)].append(indicator)
    for (provider_id, period, due, stage), missing in groups.items():
        key = f"kwaliteit-{stage}:{scope.region_id}:{provider_id}:{period}:{due.isoformat()}"
        async with write_transaction():
            if not await claim_key(key, "quality", clock):
                continue
            await scope.new(
                Notification, recipient=f"provider:{provider_id}", channel="email", template=TEMPLATES[stage],
                payload={"periode": period_label(period), "vervaldatum": format_date_nl(due),
                         "indicatoren": [i.name for i in missing]},
                idempotency_key=key, created_at=clock.now(),
            ).save()  # fmt: skip
            if stage == OVERDUE:
                for indicator in missing:
                    if indicator.signal_missing:
                        await raise_signal(
                            scope, indicator, provider_id, period, MISSING,
                            f"{indicator.name} over {period_label(period)} is niet aangeleverd (uiterlijk "
                            f"{format_date_nl(due)}).",
                            clock=clock,
                        )  # fmt: skip
            counts[stage] += 1
    return counts
