"""People who log in (through OpenID Connect) and the roles they hold per region or provider."""

from piccolo.columns import Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.models import created_at, uuid_pk


class User(Table, tablename="app_user"):
    id = uuid_pk()
    issuer = Varchar(length=300)
    subject = Varchar(length=255)
    email = Varchar(length=254, default="", index=True)
    name = Varchar(length=200, default="")
    is_platform_admin = Boolean(default=False)
    active = Boolean(default=True)
    created_at = created_at()
    last_login_at = Timestamptz(null=True, default=None)
    # unique index app_user_identity_key on ["issuer", "subject"] (made in the migration)


class Membership(Table, tablename="membership"):
    """One role of a person: in a region (region set) or in a provider organisation (provider set)."""

    id = uuid_pk()
    user = ForeignKey(User, null=False, index=True)
    region = ForeignKey(Region, null=True, default=None, index=True)
    provider = ForeignKey(Provider, null=True, default=None, index=True)
    role = Varchar(length=40)  # see apps.accounts.roles.Role
    created_at = created_at()
