"""Watching for missing figures (run by the sweep every minute): like any other deadline.

For each indicator the last ended period counts. ``remind_days_before`` the due date, a provider with a contract
over that period and no figure yet gets a reminder; after the due date a notice that the figures are missing, and
— where the indicator says ``signal_missing`` — a signal for triage. Figures of one period that are due on the
same day go in one notice. Each notice is claimed once in the ``job_run`` ledger (key per region, provider,
period, due date and stage), so the sweep can run as often as it likes; and each day's round of a region's
period and stage is marked done in the ledger too, so a sweep with nothing new touches no (provider, period) pair.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from uuid import UUID

from apps.notifications.tables import Notification
from apps.providers.tables import Contract
from apps.quality.indicators import due_on, last_closed_period, period_end, period_label
from apps.quality.services import MISSING, raise_signal
from apps.quality.tables import QualityFigure, QualityIndicator
from apps.tenancy.tables import Region
from core.clock import Clock, system_clock
from core.formatting import format_date_nl
from core.ledger import JobRun, claim_key
from core.tenancy import RegionScope, RegionsScope
from core.transactions import write_transaction

log = logging.getLogger("trede.quality")
REMIND, OVERDUE = "herinnering", "ontbreekt"
TEMPLATES = {REMIND: "kwaliteit_herinnering", OVERDUE: "kwaliteit_ontbreekt"}


async def watch_figures(clock: Clock = system_clock) -> dict[str, int]:
    """Cost follows what is due: one query reads the indicators of every active region, one more the rounds done
    today. A round is (region, period, due date, stage); each is worked through once a day — every (provider,
    period) pair of it claimed or found claimed — and then marked done for that day, so the other 1,439 sweeps of
    the day touch no pair. Once a day (not once) so that a contract entered later still gets its notice; a round
    that failed half-way is not marked and is tried again the next minute."""
    done = {"reminded": 0, "missing": 0}
    today = clock.today()
    regions = [row["id"] for row in await Region.select(Region.id).where(Region.active == True)]  # noqa: E712
    indicators = await (
        RegionsScope(regions).objects(QualityIndicator)
        .where((QualityIndicator.active == True) & (QualityIndicator.derived_from == ""))  # noqa: E712
        .order_by(QualityIndicator.position)
    )  # fmt: skip
    rounds: dict[str, tuple[UUID, list[QualityIndicator]]] = {}
    for indicator in indicators:
        stage = _stage(indicator, today)
        if stage is not None:
            region_id = UUID(str(indicator.region))
            key = _round_key(region_id, *stage, today)
            rounds.setdefault(key, (region_id, []))[1].append(indicator)
    if not rounds:
        return done
    finished = {row["key"] for row in await JobRun.select(JobRun.key).where(JobRun.key.is_in(list(rounds)))}
    for key, (region_id, due_indicators) in rounds.items():
        if key in finished:
            continue
        try:
            counts = await _watch_region(RegionScope(region_id), due_indicators, clock)
        except Exception:  # one region's trouble must not stop the others; its round is tried again next minute
            log.exception("quality watch failed for region %s", region_id)
            continue
        await claim_key(key, "quality-round", clock)
        done["reminded"] += counts[REMIND]
        done["missing"] += counts[OVERDUE]
    return done


def _stage(indicator: QualityIndicator, today: date) -> tuple[str, date, str] | None:
    """(period, due date, stage) of the indicator's last ended period today, or None while nothing is due."""
    period = last_closed_period(indicator.period, today)
    due = due_on(period, indicator.due_days)
    if today > due:
        return period, due, OVERDUE
    if today >= due - timedelta(days=indicator.remind_days_before):
        return period, due, REMIND
    return None


def _round_key(region_id: UUID, period: str, due: date, stage: str, today: date) -> str:
    return f"kwaliteit-ronde:{stage}:{region_id}:{period}:{due.isoformat()}:{today.isoformat()}"


def _pair_key(region_id: UUID, provider_id, period: str, due: date, stage: str) -> str:
    return f"kwaliteit-{stage}:{region_id}:{provider_id}:{period}:{due.isoformat()}"


async def _watch_region(scope: RegionScope, indicators: list[QualityIndicator], clock: Clock) -> dict[str, int]:
    """One region's due indicators: a notice per (provider, period, due date, stage) not yet claimed."""
    today = clock.today()
    counts = {REMIND: 0, OVERDUE: 0}
    contracts = await scope.select(Contract, Contract.provider, Contract.valid_from, Contract.valid_until)
    groups: dict[tuple, list[QualityIndicator]] = defaultdict(list)
    for indicator in indicators:
        stage = _stage(indicator, today)
        if stage is None:
            continue
        period, due, _ = stage
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
                groups[(contract["provider"], *stage)].append(indicator)
    keys = {group: _pair_key(scope.region_id, *group) for group in groups}
    claimed: set[str] = set()
    wanted = list(keys.values())
    for start in range(0, len(wanted), 500):  # the pairs claimed before (earlier today, or days ago) are skipped
        chunk = wanted[start : start + 500]
        claimed |= {row["key"] for row in await JobRun.select(JobRun.key).where(JobRun.key.is_in(chunk))}
    for (provider_id, period, due, stage), missing in groups.items():
        key = keys[(provider_id, period, due, stage)]
        if key in claimed:
            continue
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
