"""Care providers (aanbieders): organisations identified by KvK number, under contract in one or more regions."""

from piccolo.columns import Date, ForeignKey, OnDelete, Varchar
from piccolo.table import Table

from apps.tenancy.tables import Region
from core.models import created_at, uuid_pk


class Provider(Table, tablename="provider"):
    """A provider organisation. Global: its contracts tie it to regions; each region's data stays the region's."""

    id = uuid_pk()
    kvk_number = Varchar(length=8, unique=True)  # Kamer van Koophandel: 8 digits, kept as text
    name = Varchar(length=200, index=True)
    agb_code = Varchar(length=8, null=True, default=None)  # Vektis AGB code, optional
    # Postal address the region's letters go to (from the contract or the KvK data); empty until someone sets it.
    postal_street = Varchar(length=200, default="")  # street and house number: "Voorbeeldstraat 12 A"
    postal_code = Varchar(length=7, default="")  # Dutch postcode as "1234 AB"
    postal_city = Varchar(length=100, default="")
    # The accounthoudende regio (seed 004): the region that coordinates continuity escalations of this provider
    # across regions. None: the default, its region with the most contracts (apps.escalations.account_region).
    # Set by the platform admin only; the one sharing across tenants (core.tenancy.AccountRegionScope).
    account_region = ForeignKey(Region, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = created_at()


class Contract(Table, tablename="contract"):
    """A provider's agreement with a region (DVO, Ontwikkel- or Resultaatovereenkomst)."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    provider = ForeignKey(Provider, null=False, index=True)
    reference = Varchar(length=80)
    kind = Varchar(length=40, default="dvo")
    valid_from = Date()
    valid_until = Date(null=True, default=None)
    # unique index contract_reference_key on ["region", "reference"] (made in the migration)
