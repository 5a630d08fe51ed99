"""Who someone is: signing in (user by issuer + subject, linking by KvK number), their roles, what they may see."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from uuid import UUID

from apps.accounts.roles import LABELS, PROVIDER_ROLES, REGION_ROLES, Role
from apps.accounts.tables import Membership, User
from apps.escalations.tables import Escalation
from apps.ladders.services import kept_spec, spec_of
from apps.ladders.tables import LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.audit import audit
from core.clock import Clock, system_clock
from core.settings import OidcProvider
from core.tenancy import MunicipalityScope, ProviderScope, RegionScope, UserScope
from core.transactions import write_transaction

READS_REGION = frozenset({Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD, Role.WAARNEMER})  # every escalation of the region
KVK = re.compile(r"(?:^|\D)(\d{8})$")


class LoginRefused(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Person:
    """A signed-in person with their roles: per region (region id → roles) and per provider organisation."""

    user_id: UUID
    name: str
    email: str
    is_platform_admin: bool = False
    region_roles: dict[UUID, frozenset[str]] = field(default_factory=dict)
    provider_roles: dict[UUID, frozenset[str]] = field(default_factory=dict)
    # Region id -> the municipalities for which the person holds a region role (``Membership.municipality``): the
    # access team / lokale aanstuurder of Roosendaal. They are a party to that municipality's disputes only
    # (``core.tenancy.MunicipalityScope``).
    region_municipalities: dict[UUID, frozenset[UUID]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.email or "Onbekend"

    def all_roles(self) -> frozenset[str]:
        roles = {Role.PLATFORM_ADMIN} if self.is_platform_admin else set()
        for held in [*self.region_roles.values(), *self.provider_roles.values()]:
            roles |= held
        return frozenset(roles)

    def region_actor(self, region_id: UUID) -> Actor | None:
        roles = self.region_roles.get(UUID(str(region_id)))
        if not roles:
            return None
        return Actor(label=self.label, user_id=self.user_id, roles=roles)

    def provider_actor(self, provider_id: UUID) -> Actor | None:
        roles = self.provider_roles.get(UUID(str(provider_id)))
        if not roles:
            return None
        return Actor(label=self.label, user_id=self.user_id, roles=roles, provider_id=UUID(str(provider_id)))


def kvk_number(value: object) -> str | None:
    """The 8-digit KvK number in a claim value: plain ("90000001") or at the end of a URN-like identifier."""
    if not isinstance(value, str | int):
        return None
    match = KVK.search(str(value).strip())
    return match.group(1) if match else None


async def sign_in(provider: OidcProvider, claims: dict, *, clock: Clock = system_clock) -> User:
    """The user behind a validated ID token: found by (issuer, subject), made on first login.

    On the first login a KvK number in the provider's ``kvk_claim`` links the user to that provider
    organisation as ``aanbieder_medewerker`` (a provider admin grants more). Later logins never add roles.
    """
    subject = claims["sub"]
    async with write_transaction():
        user = await User.objects().where((User.issuer == provider.issuer) & (User.subject == subject)).first()
        if user is None:
            user = User(issuer=provider.issuer, subject=subject)
        elif not user.active:
            raise LoginRefused("user_inactive")
        first_login = user.last_login_at is None
        if isinstance(claims.get("email"), str) and claims.get("email_verified", True) is not False:
            user.email = claims["email"][:254]
        if isinstance(claims.get("name"), str):
            user.name = claims["name"][:200]
        user.last_login_at = clock.now()
        await user.save()
        kvk = kvk_number(claims.get(provider.kvk_claim)) if provider.kvk_claim else None
        if first_login and kvk:
            await _link_to_provider(user, kvk, provider, clock)
    return user


async def _link_to_provider(user: User, kvk: str, idp: OidcProvider, clock: Clock) -> None:
    organisation = await Provider.objects().where(Provider.kvk_number == kvk).first()
    if organisation is None:
        await audit(
            "login.kvk_unknown", actor_id=user.id, actor_label=user.name, target_type="provider", target_id=kvk,
            detail={"issuer": idp.issuer}, clock=clock,
        )  # fmt: skip
        return
    held = await UserScope(user.id).select(Membership, Membership.role).where(Membership.provider == organisation.id)
    if held:
        return
    await UserScope(user.id).new(Membership, provider=organisation.id, role=Role.AANBIEDER_MEDEWERKER).save()
    await audit(
        "role.granted", actor_id=user.id, actor_label="Systeem (KvK-koppeling bij eerste login)",
        target_type="user", target_id=str(user.id),
        detail={"role": Role.AANBIEDER_MEDEWERKER.value, "provider": organisation.name, "kvk": kvk,
                "issuer": idp.issuer},
        clock=clock,
    )  # fmt: skip


async def load_person(user_id: UUID | str, session_rows: list[dict] | None = None) -> Person | None:
    """The person with their roles, or None when the user is gone or deactivated. ``session_rows``: the person's
    rows as the request's session read them (``UserScope.through_session``): then no query at all."""
    try:
        uid = UUID(str(user_id))
    except ValueError:
        return None
    if session_rows and UUID(str(session_rows[0]["user_found"])) == uid:
        return person_from_rows(session_rows[0], session_rows)
    user = await User.select(User.id, User.name, User.email, User.is_platform_admin, User.active).where(
        User.id == uid
    ).first()  # fmt: skip
    if user is None:
        return None
    return person_from_rows(user, await UserScope(uid).select(Membership, Membership.region, Membership.provider,
                                                             Membership.role, Membership.municipality))  # fmt: skip


def person_from_rows(user: dict, memberships: list[dict]) -> Person | None:
    """A Person from the user's row (``id`` or ``user_found``, name, email, is_platform_admin, active) and their
    membership rows (region, provider, role, municipality; None columns for a person without memberships)."""
    if not user["active"]:
        return None
    region_roles: dict[UUID, set[str]] = defaultdict(set)
    provider_roles: dict[UUID, set[str]] = defaultdict(set)
    municipalities: dict[UUID, set[UUID]] = defaultdict(set)
    for row in memberships:
        if row["region"] is not None and row["role"] in REGION_ROLES:
            region_roles[UUID(str(row["region"]))].add(row["role"])
            if row.get("municipality") is not None:
                municipalities[UUID(str(row["region"]))].add(UUID(str(row["municipality"])))
        elif row["provider"] is not None and row["role"] in PROVIDER_ROLES:
            provider_roles[UUID(str(row["provider"]))].add(row["role"])
    return Person(
        user_id=UUID(str(user.get("user_found") or user.get("id"))),
        name=user["name"],
        email=user["email"],
        is_platform_admin=bool(user["is_platform_admin"]),
        region_roles={k: frozenset(v) for k, v in region_roles.items()},
        provider_roles={k: frozenset(v) for k, v in provider_roles.items()},
        region_municipalities={k: frozenset(v) for k, v in municipalities.items()},
    )


@dataclass
class Workspace:
    """What /werkruimte shows: roles per region and provider, and the escalations the person may see."""

    is_platform_admin: bool
    regions: list[dict]  # {"name", "slug", "roles": [labels], "escalations": [...]}
    providers: list[dict]  # {"name", "kvk", "roles": [labels], "escalations": [...] (with region name)}


def _labels(roles: frozenset[str]) -> list[str]:
    return sorted(LABELS[Role(role)] for role in roles)


ESCALATION_COLUMNS = (
    Escalation.id, Escalation.reference, Escalation.summary, Escalation.status, Escalation.current_step,
    Escalation.opened_at, Escalation.region, Escalation.provider.name.as_alias("provider_name"),
    Escalation.ladder_version, Escalation.ladder_version.sha256.as_alias("ladder_sha256"),
)  # fmt: skip
# /werkruimte shows the newest few per region and organisation, each a link; the lists behind it page the rest
# (issue 20: a region of the national dataset has thousands of escalations, and this is the page after login).
WORKSPACE_ROWS = 10
STATUS_NL = {"open": "lopend", "paused": "gepauzeerd", "closed": "afgesloten"}


async def _readable(escalations: list[dict]) -> list[dict]:
    """The rows as people read them: the step's title from the escalation's own ladder version, a Dutch status.
    A version this process validated before is not read again; the others through each escalation's region scope."""
    titles: dict = {}
    missing = defaultdict(set)
    for row in escalations:
        spec = kept_spec(row["ladder_version"], row["ladder_sha256"])
        if spec is None:
            missing[row["region"]].add(row["ladder_version"])
        else:
            titles[row["ladder_version"]] = spec
    for region_id, version_ids in missing.items():
        found = await RegionScope(region_id).objects(LadderVersion).where(LadderVersion.id.is_in(list(version_ids)))
        for version in found:
            titles[version.id] = spec_of(version)
    for row in escalations:
        spec = titles.get(row["ladder_version"])
        step = next((step for step in spec.steps if step.key == row["current_step"]), None) if spec else None
        row["current_step"] = step.title if step else row["current_step"]
        row["status"] = STATUS_NL.get(row["status"], row["status"])
    return escalations


async def _newest(scope: RegionScope | MunicipalityScope | ProviderScope) -> tuple[list[dict], bool]:
    """The newest WORKSPACE_ROWS escalations the scope reads, as people read them, and whether there are more."""
    rows = await scope.select(Escalation, *ESCALATION_COLUMNS).order_by(Escalation.opened_at, ascending=False).order_by(
        Escalation.id, ascending=False
    ).limit(WORKSPACE_ROWS + 1)  # fmt: skip
    return await _readable(rows[:WORKSPACE_ROWS]), len(rows) > WORKSPACE_ROWS


async def workspace(person: Person) -> Workspace:
    region_names = {r["id"]: r for r in await Region.select(Region.id, Region.name, Region.slug)}
    regions = []
    for region_id, roles in person.region_roles.items():
        region = region_names.get(region_id)
        if region is None:
            continue
        municipal = person.region_municipalities.get(region_id) and not roles & READS_REGION
        # A role held for one municipality reads that municipality's disputes only (issue 15).
        scope = MunicipalityScope.for_person(person, region_id) if municipal else RegionScope(region_id)
        escalations, more = await _newest(scope)
        # the list the reader may open, and each escalation's page in it: the team's, a municipality's disputes
        list_url = f"/regio/{region['slug']}/{'geschillen' if municipal else 'escalaties'}"
        if not municipal and not roles & READS_REGION:
            list_url = None
        for row in escalations:
            if list_url:
                row["url"] = f"{list_url}/{row['id']}"
        regions.append({**region, "roles": _labels(roles), "escalations": escalations, "more": more,
                        "list_url": list_url, "municipal": bool(municipal)})  # fmt: skip
    providers = []
    for provider_id, roles in person.provider_roles.items():
        organisation = await Provider.objects().where(Provider.id == provider_id).first()
        if organisation is None:
            continue
        scope = await ProviderScope.for_provider(provider_id)
        escalations, more = await _newest(scope)
        for row in escalations:
            row["region_name"] = region_names.get(row["region"], {}).get("name", "")
            if len(person.provider_roles) == 1:  # with several organisations the portal shows the chosen one
                row["url"] = f"/portaal/escalaties/{row['id']}"
        providers.append(
            {"name": organisation.name, "kvk": organisation.kvk_number, "roles": _labels(roles),
             "escalations": escalations, "more": more}
        )  # fmt: skip
    regions.sort(key=lambda r: r["name"])
    providers.sort(key=lambda p: p["name"])
    return Workspace(is_platform_admin=person.is_platform_admin, regions=regions, providers=providers)


async def provider_people(provider_id: UUID | str) -> list[tuple[UUID, str]]:
    """(user id, e-mail) of the active people of a provider organisation (provider users and admins)."""
    scope = ProviderScope(provider_id, [])
    rows = await scope.organisation_rows(Membership, Membership.user).where(Membership.role.is_in(list(PROVIDER_ROLES)))
    user_ids = sorted({row["user"] for row in rows}, key=str)
    if not user_ids:
        return []
    users = await User.select(User.id, User.email).where(User.id.is_in(user_ids) & (User.active == True))  # noqa: E712
    return sorted((user["id"], user["email"]) for user in users)

