"""The ledger of periodic work: one row per (job, time slot), so several schedulers enqueue each slot once."""

from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table

from core.models import utcnow, uuid_pk


class JobRun(Table, tablename="job_run"):
    id = uuid_pk()
    key = Varchar(length=120, unique=True)  # "<job>:<slot>", e.g. "sweep:29401234"
    job = Varchar(length=60, index=True)
    enqueued_at = Timestamptz(default=utcnow)
    finished_at = Timestamptz(null=True, default=None)
