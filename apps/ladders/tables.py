"""Escalation ladders as versioned data. A version is never changed; an edit publishes the next version."""

from piccolo.columns import JSONB, ForeignKey, Integer, Text, Varchar
from piccolo.table import Table

from apps.tenancy.tables import Region
from core.models import created_at, uuid_pk


class Ladder(Table, tablename="ladder"):
    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    key = Varchar(length=64)  # e.g. "kwaliteit", stable across versions
    name = Varchar(length=200)
    # unique index ladder_region_key_key on ["region", "key"] (made in the migration)


class LadderVersion(Table, tablename="ladder_version"):
    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    ladder = ForeignKey(Ladder, null=False, index=True)
    version = Integer()
    definition = JSONB()  # the validated ladder (apps.tenancy.schema.LadderSpec) as JSON
    sha256 = Varchar(length=64)  # of the canonical definition: an unchanged sync publishes nothing
    note = Text(default="")
    created_at = created_at()
    # unique index ladder_version_number_key on ["ladder", "version"] (made in the migration)
