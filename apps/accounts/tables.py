"""People who log in (through OpenID Connect), the roles they hold per region or provider, their server-side
sessions and the rate-limit counters of the login (and upload) endpoints."""

from piccolo.columns import UUID, BigInt, Boolean, Bytea, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from apps.providers.tables import Provider
from apps.tenancy.tables import Municipality, Region
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
    digest_opt_in = Boolean(default=False)  # a daily overview by e-mail of what is due this week
    # unique index app_user_identity_key on ["issuer", "subject"] (made in the migration)


class Membership(Table, tablename="membership"):
    """One role of a person: in a region (region set) or in a provider organisation (provider set)."""

    id = uuid_pk()
    user = ForeignKey(User, null=False, index=True)
    region = ForeignKey(Region, null=True, default=None, index=True)
    provider = ForeignKey(Provider, null=True, default=None, index=True)
    role = Varchar(length=40)  # see apps.accounts.roles.Role
    # A region role held for one municipality of the region: the access team / lokale aanstuurder of Roosendaal.
    # Notices of a dispute about one case (a case ladder) go to the people of that municipality only.
    municipality = ForeignKey(Municipality, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = created_at()


class WebSession(Table, tablename="web_session"):
    """A server-side session (the Litestar session store): shared by every web process through the database."""

    id = uuid_pk()
    key = Varchar(length=128, unique=True)  # the session id in the cookie (random, 64 hex characters)
    value = Bytea()
    expires_at = BigInt(null=True, default=None, index=True)  # Unix seconds; None: no expiry
    # The signed-in person (the value's "uid"), so that the session, the user and the memberships are read in one
    # query per request (UserScope.through_session). No foreign key: a removed user simply finds no row.
    user_id = UUID(null=True, default=None)


class RateLimitCounter(Table, tablename="rate_limit_counter"):
    """Hits per (bucket, client, time window): counted in the database so all web processes share the limit."""

    id = uuid_pk()
    key = Varchar(length=200, unique=True)  # "login:203.0.113.7:2961234"
    hits = Integer(default=0)
    expires_at = BigInt(index=True)  # Unix seconds: end of the window


class Invitation(Table, tablename="invitation"):
    """An offer of one role in a region (region set) or provider organisation (provider set), sent by e-mail.

    Only the SHA-256 of the link's token is kept. See apps.accounts.invitations.
    """

    id = uuid_pk()
    region = ForeignKey(Region, null=True, default=None, index=True)
    provider = ForeignKey(Provider, null=True, default=None, index=True)
    email = Varchar(length=254)  # as typed by the inviter; compared case-insensitively
    role = Varchar(length=40)  # see apps.accounts.roles.Role
    token_hash = Varchar(length=64, unique=True)
    invited_by = ForeignKey(User, null=True, default=None)  # None: the system (CLI, tenant import)
    invited_by_label = Varchar(length=200, default="")
    created_at = created_at()
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = ForeignKey(User, null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(User, null=True, default=None)


class CalendarFeed(Table, tablename="calendar_feed"):
    """A person's secret calendar address (``/agenda/<token>.ics``) with the deadlines of their regions.

    One per person. Only the SHA-256 of the token is kept; renewing replaces it, so the old address stops working.
    See apps.accounts.calendar_feed.
    """

    id = uuid_pk()
    user = ForeignKey(User, null=False, unique=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = created_at()
    renewed_at = Timestamptz(null=True, default=None)
