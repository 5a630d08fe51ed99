"""Figures a periodic job computed, stored so that every process serves the same ones (table ``metric_snapshot``).

The sweep computes the domain gauges of ``/metrics`` once a minute (one sweep per slot, claimed in the ledger)
and stores them here; a scrape of any web process reads the stored figures, at most every few seconds, and
never counts rows itself. Derived data: left out of backups. Registered by ``apps/workers``, like the ledger.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from piccolo.columns import Text, Timestamptz, Varchar
from piccolo.table import Table

from core.models import utcnow, uuid_pk


class MetricSnapshot(Table, tablename="metric_snapshot"):
    id = uuid_pk()
    name = Varchar(length=60, unique=True)  # e.g. "domain"
    figures = Text(default="{}")  # JSON
    computed_at = Timestamptz(default=utcnow)


async def store_snapshot(name: str, figures: dict, moment: datetime) -> None:
    await MetricSnapshot.raw(
        'INSERT INTO "metric_snapshot" ("id", "name", "figures", "computed_at") VALUES ({}, {}, {}, {}) '
        'ON CONFLICT ("name") DO UPDATE SET "figures" = excluded."figures", "computed_at" = excluded."computed_at"',
        str(uuid.uuid4()), name, json.dumps(figures, sort_keys=True), moment,
    )  # fmt: skip


async def read_snapshot(name: str) -> tuple[dict, datetime] | None:
    row = await MetricSnapshot.select(MetricSnapshot.figures, MetricSnapshot.computed_at).where(
        MetricSnapshot.name == name
    ).first()
    return (json.loads(row["figures"]), row["computed_at"]) if row else None
