"""Files in object storage: plans of action, evidence, letters, dossiers. The key is Trede's; the file name is
metadata. A dossier is built by the worker on request (``DossierRequest``)."""

from piccolo.columns import BigInt, ForeignKey, Text, Timestamptz, Varchar
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
    kind = Varchar(length=40)  # plan_van_aanpak, verbeterplan, reactie, brief, vog, skj, big, bijlage, dossier
    object_key = Varchar(length=200, unique=True)  # generated, never derived from the file name
    original_filename = Varchar(length=255, default="")
    content_type = Varchar(length=120, default="application/octet-stream")
    size = BigInt(default=0)
    sha256 = Varchar(length=64, default="")
    uploaded_by = ForeignKey(User, null=True, default=None)
    uploaded_at = Timestamptz(default=utcnow)
    replaces = ForeignKey("self", null=True, default=None)


class DossierRequest(Table, tablename="dossier_request"):
    """A team member asked for the dossier of an escalation; the worker builds it (``apps.escalations.dossier_jobs``)
    and stores it as a ``Document`` of kind "dossier" (no provider: it holds internal notes, the portal never
    lists it). Status: requested, building (claimed by a worker), ready (``document`` set) or failed."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    escalation = ForeignKey(Escalation, null=False, index=True)
    requested_by = ForeignKey(User, null=True, default=None)
    requested_by_label = Varchar(length=200, default="")
    requested_at = Timestamptz(default=utcnow, index=True)
    status = Varchar(length=12, default="requested", index=True)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    document = ForeignKey(Document, null=True, default=None)
    error = Text(default="")  # in Dutch, for the page
