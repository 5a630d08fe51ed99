"""A provider admin manages the organisation's people: who has which role, changing it, removing access.

Rules: only an ``aanbieder_beheerder`` of the organisation may do this; the organisation always keeps at least
one admin; an admin never changes or removes their own access here (no self-lockout; another admin does it).
Memberships of a provider are the organisation's own rows (no region): read through
``ProviderScope.organisation_rows``, written through ``UserScope`` of the person concerned. Every change is audited.
Inviting colleagues goes through ``apps.accounts.invitations``.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from apps.accounts.roles import LABELS, PROVIDER_ROLES, Role
from apps.accounts.services import Person
from apps.accounts.tables import Membership, User
from core.audit import audit
from core.clock import Clock, system_clock
from core.tenancy import ProviderScope, UserScope
from core.transactions import write_transaction

ROLE_CHOICES = [(Role.AANBIEDER_MEDEWERKER, LABELS[Role.AANBIEDER_MEDEWERKER]),
                (Role.AANBIEDER_BEHEERDER, LABELS[Role.AANBIEDER_BEHEERDER])]  # fmt: skip


class ColleagueError(Exception):
    def __init__(self, message: str, field: str = "rol"):
        self.message = message
        self.field = field
        super().__init__(message)


class NotAColleague(Exception):
    """The person has no role in this organisation (or does not exist): the same answer, 404."""


@dataclass(frozen=True)
class Colleague:
    user_id: UUID
    name: str
    email: str
    role: str  # the strongest role held: aanbieder_beheerder over aanbieder_medewerker
    role_label: str
    is_self: bool


def _strongest(roles: set[str]) -> str:
    return Role.AANBIEDER_BEHEERDER.value if Role.AANBIEDER_BEHEERDER in roles else Role.AANBIEDER_MEDEWERKER.value


async def _roles_by_user(provider_id: UUID) -> dict[UUID, set[str]]:
    rows = await ProviderScope(provider_id, []).organisation_rows(Membership, Membership.user, Membership.role).where(
        Membership.role.is_in(list(PROVIDER_ROLES))
    )  # fmt: skip
    roles: dict[UUID, set[str]] = {}
    for row in rows:
        roles.setdefault(row["user"], set()).add(row["role"])
    return roles


async def colleagues(provider_id: UUID, person: Person) -> list[Colleague]:
    """The organisation's active people with their role, by name."""
    roles = await _roles_by_user(provider_id)
    if not roles:
        return []
    users = await User.select(User.id, User.name, User.email).where(
        User.id.is_in(list(roles)) & (User.active == True)  # noqa: E712
    )  # fmt: skip
    found = [
        Colleague(user_id=u["id"], name=u["name"] or u["email"], email=u["email"], role=_strongest(roles[u["id"]]),
                  role_label=LABELS[Role(_strongest(roles[u["id"]]))], is_self=u["id"] == person.user_id)
        for u in users
    ]  # fmt: skip
    return sorted(found, key=lambda c: (c.name.casefold(), str(c.user_id)))


def _check_admin(person: Person, provider_id: UUID) -> None:
    if Role.AANBIEDER_BEHEERDER not in person.provider_roles.get(provider_id, frozenset()):
        raise PermissionError("only a provider admin manages colleagues")


async def _lock(provider_id: UUID) -> None:
    """Two admins demoting each other at once must not leave the organisation without one (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already admits one writer at a time)."""
    engine = engine_finder()
    if engine.engine_type == "postgres":
        await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", f"team:{provider_id}"))


async def _target(provider_id: UUID, user_id: UUID | str, person: Person) -> tuple[UUID, dict[UUID, set[str]]]:
    try:
        target = UUID(str(user_id))
    except ValueError:
        raise NotAColleague() from None
    roles = await _roles_by_user(provider_id)
    if target not in roles:
        raise NotAColleague()
    return target, roles


def _admins(roles: dict[UUID, set[str]]) -> set[UUID]:
    return {user for user, held in roles.items() if Role.AANBIEDER_BEHEERDER in held}


async def change_role(
    provider_id: UUID, user_id: UUID | str, role: str, *, by: Person, clock: Clock = system_clock
) -> bool:
    """Give a colleague ``role`` (their only role here). False when nothing changed (a double submit)."""
    _check_admin(by, provider_id)
    async with write_transaction():
        await _lock(provider_id)
        target, roles = await _target(provider_id, user_id, by)  # first: someone else's person is a 404
        try:
            wanted = Role(role)
        except ValueError:
            wanted = None
        if wanted not in PROVIDER_ROLES:
            raise ColleagueError("Kies een rol uit de lijst.")
        if target == by.user_id:
            raise ColleagueError("U kunt uw eigen rol hier niet wijzigen. Vraag een andere beheerder dit te doen.")
        if roles[target] == {wanted.value}:
            return False
        if wanted != Role.AANBIEDER_BEHEERDER and _admins(roles) == {target}:
            raise ColleagueError("De organisatie moet minstens één beheerder houden.")
        scope = UserScope(target)
        await scope.delete(Membership).where((Membership.provider == provider_id) & Membership.region.is_null())
        await scope.new(Membership, provider=provider_id, role=wanted.value).save()
        await audit(
            "role.changed", actor_id=by.user_id, actor_label=by.label, target_type="user", target_id=str(target),
            detail={"provider": str(provider_id), "from": sorted(roles[target]), "to": wanted.value}, clock=clock,
        )  # fmt: skip
    return True


async def remove(provider_id: UUID, user_id: UUID | str, *, by: Person, clock: Clock = system_clock) -> str:
    """End a colleague's access to the organisation (their roles elsewhere stay). Returns their name."""
    _check_admin(by, provider_id)
    async with write_transaction():
        await _lock(provider_id)
        target, roles = await _target(provider_id, user_id, by)
        if target == by.user_id:
            raise ColleagueError("U kunt uw eigen toegang hier niet intrekken. Vraag een andere beheerder dit te doen.")
        if _admins(roles) == {target}:
            raise ColleagueError("De organisatie moet minstens één beheerder houden.")
        await UserScope(target).delete(Membership).where(
            (Membership.provider == provider_id) & Membership.region.is_null()
        )  # fmt: skip
        user = await User.objects().where(User.id == target).first()
        await audit(
            "role.revoked", actor_id=by.user_id, actor_label=by.label, target_type="user", target_id=str(target),
            detail={"provider": str(provider_id), "roles": sorted(roles[target])}, clock=clock,
        )  # fmt: skip
    return user.name or user.email
