"""Who is told about a change of an escalation, besides the region's role mailboxes (issue 17 point 1): the
people whose work it changes, each in the app (the bell) and by mail.

- the access team (``gemeente_medewerker`` of the region: every municipality of the region is concerned by a
  region-wide measure; for a dispute about one case only the people of its municipality): a referral stop's
  start and end, and the closure of an escalation that had one (which also goes to every municipality's
  access-team mailbox, as the stop's own notices do);
- the provider's people (``provider:<id>``, expanded to each person at delivery, in the app and by mail):
  everything shared with them — a referral stop's start and end, the closure, the region's messages;
- the purchasing team (in the app; its mail goes to the ``inkoop`` mailbox): the provider's messages;
- for a dispute about one case, the people of its municipality (``tell_municipality``): the parties' steps.

Outbox rows are written in the caller's transaction, with keys from the timeline event, so a change retried
tells nobody twice. This module imports no other step-engine module.
"""

from __future__ import annotations

from uuid import UUID

from apps.accounts.roles import Role
from apps.accounts.tables import Membership, User
from apps.escalations.cases import municipality_addresses, municipality_people
from apps.escalations.context import Context, notification_key
from apps.escalations.tables import Measure, TimelineEvent
from apps.notifications.inapp import add_for_people, purchasing_team
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.services import municipalities_on
from apps.tenancy.tables import Region, RegionMailbox
from core.formatting import readable_key
from core.tenancy import RegionScope

PROVIDER = "provider:"
CLOSED_TEMPLATE = "escalatie_gesloten"
MESSAGE_TEMPLATE = "bericht_ontvangen"
REFERRAL_STOPS = ("instroomstop", "clientenstop")


async def access_team(ctx: Context) -> list[tuple[UUID, str]]:
    """(user id, e-mail) of the region's access-team people (role ``gemeente_medewerker``), active ones only; for a
    dispute about one case, the people of that case's municipality only (``Membership.municipality``)."""
    if ctx.escalation.case_municipality:
        return await municipality_people(ctx.scope, ctx.escalation.case_municipality)
    rows = await ctx.scope.select(Membership, Membership.user).where(Membership.role == Role.GEMEENTE_MEDEWERKER)
    user_ids = sorted({row["user"] for row in rows}, key=str)
    if not user_ids:
        return []
    users = await User.select(User.id, User.email).where(User.id.is_in(user_ids) & (User.active == True))  # noqa: E712
    return sorted((user["id"], user["email"]) for user in users)


async def _mail(ctx: Context, event: TimelineEvent, recipient: str, template: str, payload: dict,
                user_id: UUID | None = None) -> None:  # fmt: skip
    once = f"{template}|{recipient}"
    if recipient in ctx.notified or once in ctx.notified:
        return  # already told in this change (a mailbox that is also a person's address)
    ctx.notified.add(once)  # per kind: a lift and a closure in one change are two notices
    await ctx.scope.new(
        Notification, recipient=recipient, recipient_user=user_id, channel="email", template=template,
        payload={**payload, "event_id": str(event.id)}, idempotency_key=notification_key(event.id, recipient),
        created_at=ctx.clock.now(),
    ).save()  # fmt: skip


async def tell_access_team(ctx: Context, event: TimelineEvent, template: str, payload: dict) -> int:
    """In the app and by mail to each access-team person. Returns how many people."""
    people = await access_team(ctx)
    # They read the register of intake stops (the escalation page is the purchasing team's).
    payload = {"pad": f"/regio/{ctx.region.slug}/instroomstops", **payload, "rol": "toegang"}
    await add_for_people(ctx.scope, [user_id for user_id, _ in people], template=template, payload=payload,
                         key=f"{event.id}:toegang", clock=ctx.clock)  # fmt: skip
    for user_id, email in people:
        if email:
            await _mail(ctx, event, email, template, payload, user_id)
    return len(people)


async def tell_provider(ctx: Context, event: TimelineEvent, template: str, payload: dict) -> None:
    """To every person of the escalation's provider, in the app and by mail (expanded when delivered)."""
    payload = {**payload, "pad": f"/portaal/escalaties/{ctx.escalation.id}", "rol": "aanbieder"}
    await _mail(ctx, event, f"{PROVIDER}{ctx.escalation.provider}", template, payload)


async def tell_municipality(ctx: Context, event: TimelineEvent, template: str, payload: dict) -> int:
    """A dispute about one case: in the app and by mail to the people of its municipality, linking to their page of
    the dispute; without any, by mail to the municipality's lokale aanstuurder in the region file. Never another
    municipality. Returns how many addresses."""
    municipality = ctx.escalation.case_municipality
    if not municipality:
        return 0
    payload = {**payload, "pad": f"/regio/{ctx.region.slug}/geschillen/{ctx.escalation.id}", "rol": "gemeente"}
    people = await municipality_people(ctx.scope, municipality)
    await add_for_people(ctx.scope, [user_id for user_id, _ in people], template=template, payload=payload,
                         key=f"{event.id}:gemeente", clock=ctx.clock)  # fmt: skip
    addresses = [(user_id, email) for user_id, email in people if email] or [
        (None, address) for address in await municipality_addresses(ctx.scope, municipality, "lokale_aanstuurder")
    ]
    for user_id, email in addresses:
        await _mail(ctx, event, email, template, payload, user_id)
    return len(addresses)


async def tell_purchasing_team(ctx: Context, event: TimelineEvent, template: str, payload: dict) -> None:
    """In the app to the purchasing team, by mail to the region's ``inkoop`` mailbox."""
    payload = {**payload, "pad": f"/regio/{ctx.region.slug}/escalaties/{ctx.escalation.id}"}
    await add_for_people(ctx.scope, await purchasing_team(ctx.scope), template=template, payload=payload,
                         key=str(event.id), clock=ctx.clock)  # fmt: skip
    rows = await ctx.scope.select(RegionMailbox, RegionMailbox.email).where(RegionMailbox.role == "inkoop")
    for row in sorted(rows, key=lambda r: r["email"]):
        await _mail(ctx, event, row["email"], template, {**payload, "rol": "inkoop"})


async def _provider_name(ctx: Context) -> str:
    provider = await Provider.objects().where(Provider.id == ctx.escalation.provider).first()
    return provider.name if provider else ""


def _base(ctx: Context, provider_name: str) -> dict:
    return {"escalatie": ctx.escalation.reference, "escalation_id": str(ctx.escalation.id),
            "aanbieder": provider_name, "regio": ctx.region.name}  # fmt: skip


async def escalation_closed(ctx: Context, event: TimelineEvent, outcome: str) -> None:
    """The provider always; when the escalation had a referral stop (their register changed, and the stop's letter
    promised it), the access team's people and every municipality's access-team mailbox of the region today (for a
    dispute about one case: that municipality's) -- also when the stop was lifted in the same step: a lift and a
    closure are two notices."""
    payload = {**_base(ctx, await _provider_name(ctx)), "uitkomst": readable_key(outcome)}  # words, not a key
    await tell_provider(ctx, event, CLOSED_TEMPLATE, payload)
    had_stop = await ctx.scope.exists(Measure).where(
        (Measure.escalation == ctx.escalation.id) & Measure.kind.is_in(list(REFERRAL_STOPS))
    )
    if had_stop:
        await tell_access_team(ctx, event, CLOSED_TEMPLATE, payload)
        for address in await _access_mailboxes(ctx):
            once = f"{CLOSED_TEMPLATE}|{address}"
            if once in ctx.notified:
                continue
            ctx.notified.add(once)
            await ctx.scope.new(
                Notification, recipient=address, channel="email", template=CLOSED_TEMPLATE,
                payload={**payload, "pad": f"/regio/{ctx.region.slug}/instroomstops", "rol": "toegang",
                         "event_id": str(event.id)},
                idempotency_key=notification_key(event.id, address), created_at=ctx.clock.now(),
            ).save()  # fmt: skip


async def _access_mailboxes(ctx: Context) -> list[str]:
    if ctx.escalation.case_municipality:
        return await municipality_addresses(ctx.scope, ctx.escalation.case_municipality, "toegang")
    municipalities = await municipalities_on(ctx.scope, ctx.clock.today())
    return sorted({m.access_team_email for m in municipalities if m.access_team_email})


async def message_posted(ctx: Context, event: TimelineEvent, side: str, text: str, author: str) -> None:
    """A message of the provider reaches the purchasing team; one of the region reaches the provider's people."""
    payload = {**_base(ctx, await _provider_name(ctx)), "van": author, "tekst": text}
    if side == "aanbieder":
        await tell_purchasing_team(ctx, event, MESSAGE_TEMPLATE, payload)
    else:
        await tell_provider(ctx, event, MESSAGE_TEMPLATE, {**payload, "van": ctx.region.name})


ACCOUNT_ROLE = "account_houdende_regio"


async def chosen_account_region(ctx: Context) -> Region | None:
    """The provider's account-holding region as the platform admin set it (issue 15 point 3). None: unset, and the
    ladder's ``account_houdende_regio`` role reaches the owning region's mailbox of that role, as before."""
    row = await Provider.select(Provider.account_region).where(Provider.id == ctx.escalation.provider).first()
    if not row or not row["account_region"]:
        return None
    return await Region.objects().where(Region.id == row["account_region"]).first()


async def account_region_team(region: Region) -> list[tuple[UUID, str]]:
    """(user id, e-mail) of the account-holding region's purchasing team, active people only."""
    user_ids = await purchasing_team(RegionScope(region.id))
    if not user_ids:
        return []
    users = await User.select(User.id, User.email).where(User.id.is_in(user_ids) & (User.active == True))  # noqa: E712
    return sorted((user["id"], user["email"]) for user in users)


async def tell_account_region(ctx: Context, event: TimelineEvent, region: Region, people: list[tuple[UUID, str]],
                              template: str, payload: dict) -> None:  # fmt: skip
    """In the app and by mail to the account-holding region's purchasing team. The rows are that region's (its
    people's bell reads their own regions); the link is its read view of the escalation."""
    scope = RegionScope(region.id)
    payload = {**payload, "pad": f"/regio/{region.slug}/accounthouder/{ctx.escalation.id}", "rol": ACCOUNT_ROLE}
    await add_for_people(scope, [user_id for user_id, _ in people], template=template, payload=payload,
                         key=f"{event.id}:{ACCOUNT_ROLE}", clock=ctx.clock)  # fmt: skip
    for user_id, email in people:
        if not email or email in ctx.notified:
            continue
        ctx.notified.add(email)
        await scope.new(
            Notification, recipient=email, recipient_user=user_id, channel="email", template=template,
            payload={**payload, "event_id": str(event.id)}, idempotency_key=notification_key(event.id, email),
            created_at=ctx.clock.now(),
        ).save()  # fmt: skip
