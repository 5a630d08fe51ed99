"""The audit log: who decided what, when. Append-only."""

from piccolo.columns import JSONB, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from apps.accounts.tables import User
from apps.tenancy.tables import Region
from core.models import utcnow, uuid_pk


class AuditEntry(Table, tablename="audit_entry"):
    id = uuid_pk()
    # None: platform-wide. No index of its own: audit_entry_region_at (region, at, id) serves every lookup by region
    region = ForeignKey(Region, null=True, default=None)
    actor = ForeignKey(User, null=True, default=None)
    actor_label = Varchar(length=200, default="")
    action = Varchar(length=80, index=True)  # e.g. tenants.sync, login, escalation.transition
    target_type = Varchar(length=60, default="")
    target_id = Varchar(length=80, default="")
    detail = JSONB(default={})
    at = Timestamptz(default=utcnow, index=True)
    # index audit_entry_region_at on ["region", "at", "id"] (made in the migration): the log page, newest first
