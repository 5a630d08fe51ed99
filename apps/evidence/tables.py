"""The evidence register of a provider: VOG per employee and per volunteer, SKJ and BIG registrations.

An ``EvidenceItem`` is the provider's own, across all its regions (no ``region`` column): the provider registers it
once and every region where it has a contract sees it. An ``EvidenceReview`` is one region's verdict on an item
(accepted or rejected, with a reason): region-owned, read through ``RegionScope`` by the region and through
``ProviderScope`` by the provider. The latest review of a region counts; earlier ones stay as history. An
``EvidenceDelivery`` says the provider delivered an item for one escalation (region-owned): the delivery met the
escalation's terms for a ``bewijsstuk``, and a review of the item in that region is a verdict on the escalation too.
"""

from piccolo.columns import JSONB, BigInt, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from apps.accounts.tables import User
from apps.escalations.tables import Escalation
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.models import created_at, utcnow, uuid_pk


class EvidenceItem(Table, tablename="evidence_item"):
    id = uuid_pk()
    provider = ForeignKey(Provider, null=False, index=True)
    kind = Varchar(length=20)  # vog_medewerker, vog_vrijwilliger, skj, big
    person = Varchar(length=200)  # the person's name or staff number
    number = Varchar(length=20, default="")  # SKJ or BIG registration number: text, leading zeros matter
    issued_on = Date()  # VOG: date of issue; SKJ/BIG: date of (re-)registration
    valid_until = Date()  # VOG: issue + 3 years; SKJ/BIG: registration + 5 years (re-registration due)
    # An optional scan: in object storage under a key of Trede's; the file name is metadata only.
    object_key = Varchar(length=200, null=True, default=None, unique=True)
    original_filename = Varchar(length=255, default="")
    content_type = Varchar(length=120, default="")
    size = BigInt(default=0)
    sha256 = Varchar(length=64, default="")
    replaces = ForeignKey("self", null=True, default=None)  # a renewed VOG replaces the earlier one
    registered_by = ForeignKey(User, null=True, default=None)
    registered_at = Timestamptz(default=utcnow, index=True)
    # (made in the migration) indexes evidence_item_provider_kind_person on ["provider", "kind", "person", "id"]:
    # the register's pages; evidence_item_replaces on ["replaces"]; evidence_item_provider_valid_until on
    # ["provider", "valid_until"]: what expires


class EvidenceReview(Table, tablename="evidence_review"):
    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    provider = ForeignKey(Provider, null=False, index=True)
    evidence = ForeignKey(EvidenceItem, null=False, index=True)
    verdict = Varchar(length=20)  # geaccepteerd, afgewezen
    reason = Text(default="")
    reviewed_by = ForeignKey(User, null=True, default=None)
    reviewed_by_label = Varchar(length=200, default="")
    reviewed_at = created_at()


class EvidenceDelivery(Table, tablename="evidence_delivery"):
    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    escalation = ForeignKey(Escalation, null=False, index=True)
    evidence = ForeignKey(EvidenceItem, null=False, index=True)
    provider = ForeignKey(Provider, null=False)
    # The deadlines the delivery met (ids as text): a verdict reopens, or meets again, exactly these.
    met_deadlines = JSONB(default=[])
    delivered_by = ForeignKey(User, null=True, default=None)
    delivered_at = created_at()
    # (made in the migration) unique index evidence_delivery_escalation_evidence on ["escalation", "evidence"]
