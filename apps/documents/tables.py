"""Files in object storage: plans of action, evidence, letters. The key is Trede's; the file name is metadata."""

from piccolo.columns import BigInt, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from apps.accounts.tables import User
from apps.escalations.tables import Escalation
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.models import utcnow, uuid_pk


class Document(Table, tablename="document"):
    id = uuid_pk()
    region = ForeignKey(Region, null=True, default=None, index=True)  # None: the provider's own register
    provider = ForeignKey(Provider, null=True, default=None, index=True)
    escalation = ForeignKey(Escalation, null=True, default=None, index=True)
    kind = Varchar(length=40)  # plan_van_aanpak, verbeterplan, reactie, brief, vog, skj, big, bijlage
    object_key = Varchar(length=200, unique=True)  # generated, never derived from the file name
    original_filename = Varchar(length=255, default="")
    content_type = Varchar(length=120, default="application/octet-stream")
    size = BigInt(default=0)
    sha256 = Varchar(length=64, default="")
    uploaded_by = ForeignKey(User, null=True, default=None)
    uploaded_at = Timestamptz(default=utcnow)
    replaces = ForeignKey("self", null=True, default=None)
