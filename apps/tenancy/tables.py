"""Regions (tenants), their municipalities and role mailboxes. Filled from ``tenants/`` by the tenant loader."""

from piccolo.columns import JSONB, Boolean, Date, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from core.models import utcnow, uuid_pk


class Region(Table, tablename="region"):
    """A jeugdregio: a group of municipalities that buy youth care together. One tenant."""

    id = uuid_pk()
    slug = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    # The validated region file without municipalities and ladders: calendar, letters, measures settings.
    settings = JSONB(default={})
    source_file = Varchar(length=300, default="")
    source_sha256 = Varchar(length=64, default="")
    active = Boolean(default=True)
    synced_at = Timestamptz(default=utcnow)


class Municipality(Table, tablename="municipality"):
    """A municipality of a region, with the period it belongs to the region (mergers change the list)."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    cbs_code = Varchar(length=6)  # GM + 4 digits, e.g. GM0935 Maastricht
    name = Varchar(length=120)
    valid_from = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)  # last day, inclusive; None: still valid
    access_team_email = Varchar(length=254, default="")  # the toegang's mailbox for notices
    # the lokale aanstuurder's contacts from the region file: [{"function", "email", "phone"}] (ContactSpec)
    contacts = JSONB(default=[])
    # unique index municipality_region_code_key on ["region", "cbs_code"] (made in the migration)


class RegionMailbox(Table, tablename="region_mailbox"):
    """A role mailbox for notices: purchasing team (inkoop), GI's, the inspectorate, ..."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    role = Varchar(length=40)  # see apps.tenancy.schema.MAILBOX_ROLES
    name = Varchar(length=200)
    email = Varchar(length=254)
