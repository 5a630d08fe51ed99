"""Invitations: a role in a region or a provider organisation, offered by e-mail and accepted by logging in.

How it works
- ``invite`` stores an ``Invitation`` row with the SHA-256 of a random token (never the token itself) and puts an
  e-mail in the outbox (``apps.notifications``, template ``uitnodiging``) with the link ``/uitnodiging/<token>``.
  The link is valid for ``VALID_DAYS`` days. The token starts with the kind and id of the organisation
  ("r" + region id or "p" + provider id, hex), so every lookup goes through ``RegionScope`` / ``ProviderScope``
  like any other region-owned row; only the random rest of the token is secret.
- The link page explains the offer and asks to log in (OIDC). The login callback calls ``redeem_after_login``
  with the page it returns to; a signed-in visitor can also accept on the page itself (``redeem``).
- Rule about the e-mail address: the token is the secret, and the person who logs in must have the invited
  address as their (verified) e-mail address, compared case-insensitively. Someone else who holds the link gets
  a refusal and the invitation stays open. So a leaked link (or a read of the outbox, which holds the link until
  it is sent) is not enough to take the role.
- Redeeming is idempotent: the same person redeeming twice keeps one membership; a role they already hold is not
  added again. Every step is audited (``invitation.sent``, ``.accepted``, ``.refused``, ``.revoked``).

Who may invite (``invited_by`` / ``by``): pass the signed-in ``apps.accounts.services.Person`` (a web request's
``request.scope["state"]["person"]``). A platform admin may invite anyone; a region's ``inkoop_lead`` may invite
region roles in that region; a provider's ``aanbieder_beheerder`` may invite provider roles in that organisation.
A ``core.actor.Actor`` is accepted for the system (``SYSTEM``: CLI, imports) and for an actor holding
``platform_admin``; a region or provider actor is refused, because an Actor does not say where its roles hold.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from piccolo.engine import engine_finder
from piccolo.query.functions.string import Lower
from piccolo.querystring import QueryString

from apps.accounts.roles import LABELS, PROVIDER_ROLES, REGION_ROLES, Role
from apps.accounts.services import Person
from apps.accounts.tables import Invitation, Membership, User
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.audit import audit
from core.clock import AMSTERDAM, Clock, system_clock
from core.formatting import format_date_nl, nl_datetime
from core.tenancy import ProviderScope, RegionScope, UserScope
from core.transactions import write_transaction

VALID_DAYS = 14
PATH_PREFIX = "/uitnodiging/"
TEMPLATE = "uitnodiging"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN = re.compile(r"^([rp])([0-9a-f]{32})([A-Za-z0-9_-]{32,64})$")

Inviter = Person | Actor


class InvitationError(Exception):
    """A refusal with a Dutch message for the person who tried; ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str = "email"):
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Redemption:
    """What happened when someone used a link. ``outcome``: accepted (now), already_accepted (by this person
    before), email_mismatch, expired, revoked, used (by someone else), unknown."""

    outcome: str
    invitation: Invitation | None = None


# --- tokens ---------------------------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(region_id: UUID | None, provider_id: UUID | None) -> str:
    kind, scope_id = ("r", region_id) if region_id is not None else ("p", provider_id)
    return f"{kind}{UUID(str(scope_id)).hex}{secrets.token_urlsafe(32)}"


def token_from_path(path: str | None) -> str | None:
    """The token in ``/uitnodiging/<token>`` (the page the login returns to), or None for any other path."""
    if not path or not path.startswith(PATH_PREFIX):
        return None
    token = path.removeprefix(PATH_PREFIX).split("?", 1)[0].split("/", 1)[0]
    return token if TOKEN.match(token) else None


def invitation_path(token: str) -> str:
    return f"{PATH_PREFIX}{token}"


async def find(token: str) -> Invitation | None:
    """The invitation of a link token, or None (malformed, unknown, or for an organisation that is gone)."""
    match = TOKEN.match(token or "")
    if match is None:
        return None
    kind, scope_hex, _ = match.groups()
    wanted = _hash(token)
    if kind == "r":
        row = await RegionScope(UUID(scope_hex)).objects(Invitation).where(Invitation.token_hash == wanted).first()
    else:
        found = await ProviderScope(UUID(scope_hex), []).organisation_rows(Invitation).where(
            Invitation.token_hash == wanted
        ).first()  # fmt: skip
        row = Invitation.from_dict(found) if found else None
    # the index found it by equality; compare again in constant time so the check itself leaks nothing
    return row if row is not None and hmac.compare_digest(row.token_hash, wanted) else None


def state_of(invitation: Invitation, clock: Clock = system_clock) -> str:
    """pending, accepted, revoked or expired."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= clock.now():
        return "expired"
    return "pending"


# --- who may invite ------------------------------------------------------------------------------------------


def _who(by: Inviter) -> tuple[UUID | None, str]:
    return by.user_id, by.label  # Person and Actor both have these


def _may_manage(by: Inviter, region_id: UUID | None, provider_id: UUID | None) -> bool:
    if isinstance(by, Person):
        if by.is_platform_admin:
            return True
        if region_id is not None:
            return Role.INKOOP_LEAD in by.region_roles.get(region_id, frozenset())
        return Role.AANBIEDER_BEHEERDER in by.provider_roles.get(provider_id, frozenset())
    if isinstance(by, Actor):
        return by.is_system or Role.PLATFORM_ADMIN in by.roles
    return False


def _check_target(role: Role | str, region_id: UUID | None, provider_id: UUID | None) -> Role:
    if (region_id is None) == (provider_id is None):
        raise ValueError("an invitation is for exactly one region or one provider organisation")
    try:
        wanted = Role(role)
    except ValueError:
        raise InvitationError("Kies een rol uit de lijst.", "rol") from None
    fits = REGION_ROLES if region_id is not None else PROVIDER_ROLES
    if wanted not in fits:
        raise InvitationError("Deze rol past niet bij deze organisatie. Kies een rol uit de lijst.", "rol")
    return wanted


def normalise_email(value: str) -> str:
    return (value or "").strip()


def check_email(value: str) -> str:
    email = normalise_email(value)
    if not email:
        raise InvitationError("Vul het e-mailadres in.")
    if len(email) > 254 or not EMAIL.match(email):
        raise InvitationError("Vul een geldig e-mailadres in, bijvoorbeeld naam@organisatie.nl.")
    return email


# --- the organisation an invitation is for ----------------------------------------------------------------------


async def organisation_name(invitation: Invitation) -> str:
    if invitation.region is not None:
        region = await Region.objects().where(Region.id == invitation.region).first()
        return region.name if region else ""
    provider = await Provider.objects().where(Provider.id == invitation.provider).first()
    return provider.name if provider else ""


async def _outbox_region(region_id: UUID | None, provider_id: UUID | None) -> Region:
    """Outbox rows belong to a region: the invited region, or (for a provider) its first contract region."""
    if region_id is not None:
        region = await Region.objects().where(Region.id == region_id).first()
    else:
        scope = await ProviderScope.for_provider(provider_id)
        regions = await Region.objects().where(Region.id.is_in(list(scope.region_ids))) if scope.region_ids else []
        region = sorted(regions, key=lambda r: r.slug)[0] if regions else None
    if region is None:
        raise InvitationError("Deze organisatie heeft nog geen regio in Trede; een uitnodiging kan niet worden "
                              "verstuurd.")  # fmt: skip
    return region


def _open_at(now):
    """The condition of an open invitation: not accepted, not revoked, not expired."""
    return Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null() & (Invitation.expires_at > now)


async def _scoped(region_id: UUID | None, provider_id: UUID | None, *, where) -> list[Invitation]:
    if region_id is not None:
        return await RegionScope(region_id).objects(Invitation).where(where).order_by(Invitation.created_at)
    rows = await ProviderScope(provider_id, []).organisation_rows(Invitation).where(where).order_by(
        Invitation.created_at
    )  # fmt: skip
    return [Invitation.from_dict(row) for row in rows]


async def _holders(email: str, region_id: UUID | None, provider_id: UUID | None) -> set[str]:
    """Roles already held in the organisation by people with this e-mail address."""
    same_address = Lower(User.email) == email.lower()
    users = await User.select(User.id).where(same_address).where(User.active == True)  # noqa: E712
    ids = [u["id"] for u in users]
    held: set[str] = set()
    for user_id in ids:
        rows = await UserScope(user_id).select(Membership, Membership.role, Membership.region, Membership.provider)
        held |= {
            r["role"]
            for r in rows
            if (region_id is not None and r["region"] == region_id)
            or (provider_id is not None and r["provider"] == provider_id)
        }
    return held


# --- the public interface -----------------------------------------------------------------------------------


async def invite(
    *,
    email: str,
    role: Role | str,
    invited_by: Inviter,
    region_id: UUID | None = None,
    provider_id: UUID | None = None,
    clock: Clock = system_clock,
    base_url: str | None = None,
) -> Invitation:
    """Invite ``email`` to ``role`` in a region or a provider organisation; the e-mail goes out through the outbox.

    Raises ``InvitationError`` (Dutch message, ``field``) when the address is invalid, the role does not fit,
    the inviter may not invite here, the person already has access, or an invitation for the address is still
    open (a double submit sends one e-mail). ``base_url`` is where the link points (web requests pass
    ``request.app.state.settings.base_url``; without it the ``BASE_URL`` environment variable).
    """
    region_id = UUID(str(region_id)) if region_id is not None else None
    provider_id = UUID(str(provider_id)) if provider_id is not None else None
    wanted = _check_target(role, region_id, provider_id)
    address = check_email(email)
    if not _may_manage(invited_by, region_id, provider_id):
        raise InvitationError("U mag voor deze organisatie geen mensen uitnodigen.", "rol")
    link_base = (base_url or os.environ.get("BASE_URL") or "").rstrip("/")
    if not link_base:
        raise ValueError("invite needs base_url (or the BASE_URL environment variable) for the link")
    actor_id, actor_label = _who(invited_by)
    now = clock.now()
    async with write_transaction():
        await _lock(f"invitation:{region_id or provider_id}:{address.casefold()}")  # two submits: one e-mail
        if await _holders(address, region_id, provider_id):
            raise InvitationError("Iemand met dit e-mailadres heeft al toegang tot deze organisatie.")
        open_ones = await _scoped(region_id, provider_id, where=_open_at(now))
        if any(i.email.casefold() == address.casefold() for i in open_ones):
            raise InvitationError("Er staat al een uitnodiging open voor dit e-mailadres.")
        token = _new_token(region_id, provider_id)
        values = dict(
            provider=provider_id, email=address, role=wanted.value, token_hash=_hash(token), invited_by=actor_id,
            invited_by_label=actor_label[:200], created_at=now, expires_at=now + timedelta(days=VALID_DAYS),
        )  # fmt: skip
        if region_id is not None:
            invitation = RegionScope(region_id).new(Invitation, **values)
        else:
            invitation = _new_provider_invitation(values)
        await invitation.save()
        organisation = await organisation_name(invitation)
        outbox = await _outbox_region(region_id, provider_id)
        await RegionScope(outbox.id).new(
            Notification, recipient=address, channel="email", template=TEMPLATE,
            payload={
                "link": f"{link_base}{invitation_path(token)}",
                "organisatie": organisation,
                "soort": "regio" if region_id is not None else "aanbieder",
                "rol": LABELS[wanted],
                "uitgenodigd_door": actor_label,
                "geldig_tot": format_date_nl(invitation.expires_at.astimezone(AMSTERDAM).date()),
            },
            idempotency_key=f"invitation:{invitation.id}", created_at=now,
        ).save()  # fmt: skip
        await audit(
            "invitation.sent", region_id=region_id, actor_id=actor_id, actor_label=actor_label,
            target_type="invitation", target_id=str(invitation.id),
            detail={"email": address, "role": wanted.value, "organisation": organisation,
                    "provider": str(provider_id) if provider_id else None},
            clock=clock,
        )  # fmt: skip
    return invitation


async def pending_invitations(
    *, region_id: UUID | None = None, provider_id: UUID | None = None, clock: Clock = system_clock
) -> list[Invitation]:
    """Open invitations (not accepted, not revoked, not expired) of one region or provider, oldest first."""
    if (region_id is None) == (provider_id is None):
        raise ValueError("pass exactly one of region_id and provider_id")
    return await _scoped(
        UUID(str(region_id)) if region_id is not None else None,
        UUID(str(provider_id)) if provider_id is not None else None,
        where=_open_at(clock.now()),
    )


async def mail_states(pending: list[Invitation], *, region_id: UUID | None = None,
                      provider_id: UUID | None = None) -> dict[UUID, str]:  # fmt: skip
    """What became of each invitation's e-mail, in Dutch, for the list of open invitations: sent (and when),
    still waiting (with the reason of a failed attempt), or not sent with the reason. Never "sent" before it was."""
    if not pending:
        return {}
    outbox = region_id if region_id is not None else (await _outbox_region(None, provider_id)).id
    keys = {f"invitation:{i.id}": i.id for i in pending}
    rows = await RegionScope(outbox).select(
        Notification, Notification.idempotency_key, Notification.status, Notification.last_error, Notification.sent_at
    ).where(Notification.idempotency_key.is_in(list(keys)))
    states = {}
    for row in rows:
        if row["status"] == "sent":
            text = f"e-mail verstuurd op {nl_datetime(row['sent_at'])}"
        elif row["status"] == "failed":
            text = f"e-mail niet verstuurd: {row['last_error'] or 'de mailserver weigerde hem.'}"
        else:
            text = "e-mail wacht op verzending" + (f" ({row['last_error']})" if row["last_error"] else "")
        states[keys[row["idempotency_key"]]] = text
    return states


async def revoke(
    invitation_id: UUID | str, *, by: Inviter, region_id: UUID | None = None, provider_id: UUID | None = None,
    clock: Clock = system_clock,
) -> None:  # fmt: skip
    """Withdraw an open invitation; its link then shows "ingetrokken". Revoking twice is harmless.

    Without ``region_id``/``provider_id`` the invitation is looked for in the organisations ``by`` may manage
    (a platform admin: every region and provider); raises ``InvitationError`` when it is not found there.
    """
    invitation = await _find_by_id(invitation_id, by, region_id, provider_id)
    if invitation is None or not _may_manage(by, invitation.region, invitation.provider):
        raise InvitationError("Deze uitnodiging bestaat niet (meer).", "uitnodiging")
    if invitation.revoked_at is not None or invitation.accepted_at is not None:
        return
    actor_id, actor_label = _who(by)
    async with write_transaction():
        await _lock(f"invitation:{invitation.id}")  # the same lock as redeem: never both accepted and revoked
        values = {Invitation.revoked_at: clock.now(), Invitation.revoked_by: actor_id}
        still_open = Invitation.revoked_at.is_null() & Invitation.accepted_at.is_null()
        if not await _update(invitation, values, still_open):
            return
        await audit(
            "invitation.revoked", region_id=invitation.region, actor_id=actor_id, actor_label=actor_label,
            target_type="invitation", target_id=str(invitation.id),
            detail={"email": invitation.email, "role": invitation.role}, clock=clock,
        )  # fmt: skip


async def _find_by_id(invitation_id, by: Inviter, region_id, provider_id) -> Invitation | None:
    try:
        wanted = UUID(str(invitation_id))
    except ValueError:
        return None
    places: list[tuple[UUID | None, UUID | None]] = []
    if region_id is not None or provider_id is not None:
        places.append((UUID(str(region_id)) if region_id else None, UUID(str(provider_id)) if provider_id else None))
    elif isinstance(by, Person) and not by.is_platform_admin:
        places += [(r, None) for r in by.region_roles] + [(None, p) for p in by.provider_roles]
    else:
        places += [(r["id"], None) for r in await Region.select(Region.id)]
        places += [(None, p["id"]) for p in await Provider.select(Provider.id)]
    for region, provider in places:
        found = await _scoped(region, provider, where=Invitation.id == wanted)
        if found:
            return found[0]
    return None


# --- provider invitations: rows without a region ----------------------------------------------------------------
# ``core.tenancy`` reads a provider's own rows (region null) through ``ProviderScope.organisation_rows`` but has no
# writer for them (memberships are written through ``UserScope``; invitations have no user yet). These two small
# writers are the only places that build or rewrite such a row, always one found through the provider's scope.


def _new_provider_invitation(values: dict) -> Invitation:
    return Invitation.from_dict({**values, "region": None})


async def _update_provider_row(invitation: Invitation, values: dict, condition) -> bool:
    """Rewrite a provider invitation (found again through its provider's scope, and only if ``condition`` holds)."""
    found = await _scoped(None, invitation.provider, where=(Invitation.id == invitation.id) & condition)
    if not found:
        return False
    row = found[0]
    row._exists_in_db = True  # built from a scoped select: save() updates it by primary key
    for column, value in values.items():
        setattr(row, column._meta.name, value)
    await row.save(list(values))
    return True


async def _update(invitation: Invitation, values: dict, condition) -> bool:
    """Set ``values`` on the invitation if ``condition`` still holds (compare-and-set); True if it did."""
    if invitation.region is None:
        return await _update_provider_row(invitation, values, condition)
    changed = await RegionScope(invitation.region).update(Invitation, values).where(
        (Invitation.id == invitation.id) & condition
    ).returning(Invitation.id)  # fmt: skip
    return bool(changed)


async def _lock(key: str) -> None:
    """On PostgreSQL, a transaction lock on ``key`` (SQLite's BEGIN IMMEDIATE already admits one writer)."""
    engine = engine_finder()
    if engine.engine_type == "postgres":
        await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", key))


# --- accepting ----------------------------------------------------------------------------------------------------


async def redeem(token: str, *, user_id: UUID, email: str, clock: Clock = system_clock) -> Redemption:
    """Accept the invitation of ``token`` for the signed-in user with (verified) e-mail ``email``.

    Creates the membership, marks the invitation accepted (by whom, when) and audits it; idempotent for the
    same person. Someone with another e-mail address is refused (audited) and the invitation stays open.
    """
    invitation = await find(token)
    if invitation is None:
        return Redemption("unknown")
    user_id = UUID(str(user_id))
    async with write_transaction():
        await _lock(f"invitation:{invitation.id}")
        invitation = await find(token)  # again, inside the lock: a parallel redeem may have finished
        state = state_of(invitation, clock)
        if state == "accepted":
            return Redemption("already_accepted" if invitation.accepted_by == user_id else "used", invitation)
        if state in ("revoked", "expired"):
            return Redemption(state, invitation)
        if normalise_email(email).casefold() != invitation.email.casefold():
            await audit(
                "invitation.refused", region_id=invitation.region, actor_id=user_id, actor_label=email,
                target_type="invitation", target_id=str(invitation.id),
                detail={"reason": "email_mismatch", "invited": invitation.email, "logged_in_as": email}, clock=clock,
            )  # fmt: skip
            return Redemption("email_mismatch", invitation)
        now = clock.now()
        still_open = Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null()
        if not await _update(invitation, {Invitation.accepted_at: now, Invitation.accepted_by: user_id}, still_open):
            return Redemption("used", invitation)
        await _grant(user_id, invitation)
        await audit(
            "invitation.accepted", region_id=invitation.region, actor_id=user_id, actor_label=email,
            target_type="invitation", target_id=str(invitation.id),
            detail={"email": invitation.email, "role": invitation.role,
                    "provider": str(invitation.provider) if invitation.provider else None},
            clock=clock,
        )  # fmt: skip
        await audit(
            "role.granted", region_id=invitation.region, actor_id=invitation.invited_by,
            actor_label=f"{invitation.invited_by_label} (uitnodiging)", target_type="user", target_id=str(user_id),
            detail={"role": invitation.role, "invitation": str(invitation.id),
                    "provider": str(invitation.provider) if invitation.provider else None},
            clock=clock,
        )  # fmt: skip
    invitation.accepted_at, invitation.accepted_by = now, user_id
    return Redemption("accepted", invitation)


async def _grant(user_id: UUID, invitation: Invitation) -> None:
    held = await UserScope(user_id).select(Membership, Membership.role, Membership.region, Membership.provider)
    if any(
        row["role"] == invitation.role and row["region"] == invitation.region and row["provider"] == invitation.provider
        for row in held
    ):
        return
    if invitation.region is not None:
        await RegionScope(invitation.region).new(Membership, user=user_id, role=invitation.role).save()
    else:
        await UserScope(user_id).new(Membership, provider=invitation.provider, role=invitation.role).save()


async def redeem_after_login(next_path: str | None, user: User, clock: Clock = system_clock) -> Redemption | None:
    """Called by the OIDC callback: when the login returns to an invitation page, redeem it for this user.

    ``user.email`` was just set from the ID token's e-mail claim (only when the provider marks it verified)."""
    token = token_from_path(next_path)
    if token is None:
        return None
    return await redeem(token, user_id=user.id, email=user.email or "", clock=clock)
