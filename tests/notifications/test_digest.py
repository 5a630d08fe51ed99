"""The daily digest: on working days from 07:00, one mail per opted-in person and region listing this week's
deadlines (and those already overdue); once a day, however many sweeps run."""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.accounts.roles import Role
from apps.accounts.tables import Membership, User
from apps.escalations.services import open_escalation
from apps.escalations.tables import Deadline
from apps.notifications.digest import send_daily_digests
from apps.notifications.messages import render
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import SYSTEM
from core.clock import AMSTERDAM, FrozenClock
from core.tenancy import RegionScope
from tests.letter_fields import opening


async def test_digest_lists_this_weeks_deadlines_once_per_working_day(synced):
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    tuesday = datetime(2026, 11, 24, 6, 59, tzinfo=AMSTERDAM)
    clock = FrozenClock(tuesday - timedelta(days=30))
    due_in = {"90000011": timedelta(days=3), "90000012": timedelta(days=10), "90000013": timedelta(days=-2)}
    for kvk, offset in due_in.items():
        provider = Provider(kvk_number=kvk, name=f"Aanbieder {kvk}")
        await provider.save()
        escalation = await open_escalation(scope, provider=provider, ladder_key="kwaliteit", category="niet_veiligheid",
                                           summary="x", motivation="x", actor=SYSTEM, clock=clock,
                                           letter_fields=opening("niet_veiligheid"))  # fmt: skip
        await scope.update(Deadline, {Deadline.due_at: tuesday + offset}).where(Deadline.escalation == escalation.id)
    wants, does_not = User(issuer="i", subject="a", email="ilse@zl.example", digest_opt_in=True), User(
        issuer="i", subject="b", email="bert@zl.example")  # fmt: skip
    for user in (wants, does_not):
        await user.save()
        await scope.new(Membership, user=user.id, role=Role.INKOOP_MEDEWERKER).save()

    clock.set(tuesday)
    assert await send_daily_digests(clock) == 0  # 06:59: not yet
    clock.advance(minutes=2)
    assert await send_daily_digests(clock) == 1
    assert await send_daily_digests(clock) == 0  # once a day
    [digest] = await scope.objects(Notification).where(Notification.template == "dagoverzicht")
    assert digest.recipient == "ilse@zl.example"
    items = digest.payload["items"]
    assert [(i["escalatie"].split("-")[0], i["verlopen"]) for i in items] == [("ZL", True), ("ZL", False)]
    assert {i["aanbieder"] for i in items} == {"Aanbieder 90000013", "Aanbieder 90000011"}
    rendered = render("dagoverzicht", {"region_name": region.name, **digest.payload}, region.slug)
    assert rendered.subject == "Dagoverzicht 24 november 2026: 2 termijnen deze week (Jeugdhulp Zuid-Limburg)"
    assert "(verlopen)" in rendered.text and "Aanbieder 90000011" in rendered.html

    clock.set(datetime(2026, 11, 28, 8, 0, tzinfo=AMSTERDAM))  # Saturday
    assert await send_daily_digests(clock) == 0
