"""Seed 000: an intake stop is "op te volgen door alle gemeenten". When it starts and when it ends, every
access team of the region, the GI's and the purchasing team get a mail saying so, and the timeline shows
who was notified and which mails went out."""

from __future__ import annotations

from datetime import datetime

from apps.accounts.roles import Role
from apps.escalations import services
from apps.escalations.tables import TimelineEvent
from apps.notifications.services import deliver
from apps.notifications.tables import Notification
from apps.notifications.transports import EmailTransport, InAppTransport
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import AMSTERDAM, FrozenClock
from core.tenancy import RegionScope
from tests.letter_fields import STEP_FIELDS


async def test_intake_stop_start_and_end_reach_all_access_teams_gis_and_purchasing(synced, smtp_sink):
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    clock = FrozenClock(datetime(2026, 11, 24, 10, tzinfo=AMSTERDAM))
    provider = Provider(kvk_number="90000001", name="Jeugdzorg De Vlinder B.V.")
    await provider.save()
    lead = Actor(label="Tom Teamleider", roles=frozenset({Role.INKOOP_LEAD}))
    escalation = await services.open_escalation(
        scope, provider=provider, ladder_key="kwaliteit", category="veiligheid", subcategory="vog_werknemers",
        summary="VOG's ontbreken", motivation="Signaal toegang Heerlen", actor=lead, clock=clock,
    )  # fmt: skip
    for step in ("afspraken_per_brief", "instroomstop"):
        await services.transition(scope, escalation.id, step, actor=lead, motivation="Volgens het model.", clock=clock,
                                  letter_fields=STEP_FIELDS[step])

    transports = {"email": EmailTransport(smtp_sink.url, "Trede <noreply@trede.localhost>"), "inapp": InAppTransport()}
    pending = await scope.select(Notification, Notification.id, Notification.recipient).where(
        Notification.status == "pending"
    )
    for row in pending:
        # The step's letters go to the provider's people; this provider has nobody in Trede yet, so those notices
        # fail with a reason instead of vanishing. Every other notice is delivered.
        expected = "failed" if row["recipient"] == f"provider:{provider.id}" else "sent"
        assert await deliver(region.id, row["id"], transports, clock) == expected, row
    assert any(row["recipient"] == f"provider:{provider.id}" for row in pending)
    started = [m for m in smtp_sink.messages if m["Subject"].startswith("Instroomstop voor Jeugdzorg De Vlinder")]
    recipients = {m["To"] for m in started}
    assert len(started) == 18 == len(recipients)
    assert {"toegang.maastricht@zuid-limburg.example", "toegang.beekdaelen@zuid-limburg.example",
            "gi@zuid-limburg.example", "inkoop@zuid-limburg.example"} <= recipients  # fmt: skip
    assert "toegang.nuth@zuid-limburg.example" not in recipients  # merged into Beekdaelen in 2019
    body = started[0].get_body(("plain",)).get_content()
    assert "Verwijs geen nieuwe cliënten meer naar deze aanbieder" in body and "- Valkenburg aan de Geul" in body

    notice = (
        await scope.objects(TimelineEvent)
        .where((TimelineEvent.escalation == escalation.id) & (TimelineEvent.kind == "melding_verstuurd"))
        .order_by(TimelineEvent.sequence)
        .first()
    )
    assert notice.visibility == "shared" and notice.payload["aantal"] == 18
    rows = await scope.select(Notification, Notification.status, Notification.sent_at, Notification.payload,
                              Notification.recipient)  # fmt: skip
    sent = [r for r in rows if r["payload"].get("event_id") == str(notice.id)
            and not r["recipient"].startswith("provider:")]  # the provider's notice: nobody there yet (above)
    assert len(sent) == 18 and all(r["status"] == "sent" and r["sent_at"] == clock.now() for r in sent)

    smtp_sink.messages.clear()
    for step in ("zittende_clienten", "inspectie", "herstel_beoordelen", "opheffen_en_afsluiten"):
        await services.transition(scope, escalation.id, step, actor=lead, motivation="Hersteld.", clock=clock)
    for row in await scope.select(Notification, Notification.id).where(Notification.status == "pending"):
        await deliver(region.id, row["id"], transports, clock)
    ended = [m for m in smtp_sink.messages if m["Subject"] == "Instroomstop voor Jeugdzorg De Vlinder B.V. opgeheven"]
    assert len(ended) == 18


async def test_the_purchasing_team_also_sees_the_notice_in_the_app(synced):
    from apps.accounts.tables import Membership, User
    from apps.notifications.inapp import INAPP

    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    clock = FrozenClock(datetime(2026, 11, 24, 10, tzinfo=AMSTERDAM))
    team = []
    for subject, role in [("ilse", Role.INKOOP_MEDEWERKER), ("luuk", Role.INKOOP_LEAD), ("wim", Role.WAARNEMER)]:
        user = User(issuer="https://idp.example", subject=subject, email=f"{subject}@zl.example")
        await user.save()
        await scope.new(Membership, user=user.id, role=role).save()
        team.append(user)
    provider = Provider(kvk_number="90000001", name="Jeugdzorg De Vlinder B.V.")
    await provider.save()
    lead = Actor(label="Luuk Leider", user_id=team[1].id, roles=frozenset({Role.INKOOP_LEAD}))
    escalation = await services.open_escalation(
        scope, provider=provider, ladder_key="kwaliteit", category="veiligheid", subcategory="vog_werknemers",
        summary="VOG's ontbreken", motivation="Signaal", actor=lead, clock=clock,
    )  # fmt: skip
    for step in ("afspraken_per_brief", "instroomstop"):
        await services.transition(scope, escalation.id, step, actor=lead, motivation="Volgens het model.", clock=clock,
                                  letter_fields=STEP_FIELDS[step])
    in_app = await scope.objects(Notification).where(Notification.channel == INAPP)
    assert sorted((n.recipient_user for n in in_app), key=str) == sorted([team[0].id, team[1].id], key=str)
    assert {n.template for n in in_app} == {"instroomstop_gestart"}
    assert team[2].id not in {n.recipient_user for n in in_app}  # the observer gets no notices
