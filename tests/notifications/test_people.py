"""Issue 17 point 1: notices reach people, not only mailboxes. The access team hears of an intake stop on their
municipalities (in the app and by mail) and opens the register from the notice; the provider's people hear of the
stop, its lift, the closure and the region's messages; the purchasing team of the provider's messages. Opening a
notice marks it read; every notice shows one Dutch date format."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy

from apps.accounts.roles import Role
from apps.accounts.services import load_person
from apps.accounts.tables import User
from apps.escalations import services
from apps.escalations.tables import Escalation
from apps.notifications.inapp import INAPP
from apps.notifications.services import deliver
from apps.notifications.tables import Notification
from apps.notifications.transports import InAppTransport, MailFolderTransport
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import FrozenClock
from core.tenancy import RegionScope
from tests.accounts.support import TEST_BASE, app_client, csrf_headers, login
from tests.letter_fields import STEP_FIELDS

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LEAD = Actor(label="Luuk Leider", roles=frozenset({Role.INKOOP_LEAD}))


async def user(subject: str) -> User:
    return await User.objects().where(User.subject == subject).first()


async def vlinder_escalation() -> tuple[RegionScope, Escalation]:
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    scope = RegionScope(region.id)
    provider = await Provider.objects().where(Provider.kvk_number == "90000001").first()
    escalation = await scope.objects(Escalation).where(Escalation.provider == provider.id).first()
    return scope, escalation


async def impose_stop(scope: RegionScope, escalation: Escalation, clock) -> None:
    for step in ("afspraken_per_brief", "instroomstop"):
        await services.transition(scope, escalation.id, step, actor=LEAD, motivation="Volgens het model.", clock=clock,
                                  letter_fields=STEP_FIELDS[step])


async def deliver_all(scope: RegionScope, folder, clock) -> None:
    """Deliver what is pending, twice: a notice for the provider becomes one per person first."""
    transports = {"email": MailFolderTransport(folder, "Trede <noreply@trede.localhost>", base_url=TEST_BASE),
                  "inapp": InAppTransport()}  # fmt: skip
    for _ in range(2):
        for row in await scope.select(Notification, Notification.id).where(Notification.status == "pending"):
            await deliver(scope.region_id, row["id"], transports, clock)


def mails_to(folder, address: str) -> list[str]:
    """Subject and text of each mail to ``address`` in the mail folder."""
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]
    return [f"{m['Subject']}\n{m.get_body(('plain',)).get_content()}" for m in mails if m["To"] == address]


async def test_the_access_team_member_sees_the_intake_stop_and_opens_the_register_from_it(world, oidc_settings,
                                                                                        tmp_path):  # fmt: skip
    scope, escalation = await vlinder_escalation()
    clock = FrozenClock(NOW)
    await impose_stop(scope, escalation, clock)
    tessa = await user("zl-toegang")
    [notice] = await scope.objects(Notification).where(
        (Notification.channel == INAPP) & (Notification.recipient_user == tessa.id)
    )
    assert notice.template == "instroomstop_gestart" and notice.read_at is None
    await deliver_all(scope, tmp_path / "mail", clock)
    [mail] = mails_to(tmp_path / "mail", "t.toegang@maastricht.localhost")  # her own mail, besides the mailbox
    assert "Verwijs geen nieuwe cli" in mail and f"{TEST_BASE}/regio/zuid-limburg/instroomstops" in mail

    async with app_client(oidc_settings) as http:
        await login(http, "zl-toegang")
        mine = await http.get("/meldingen")
        assert "U heeft geen meldingen" not in mine.text
        assert f'href="/meldingen/{notice.id}"' in mine.text
        assert "Instroomstop voor Jeugdzorg De Vlinder B.V. (vanaf 24 november 2026)" in mine.text
        assert re.search(r"\(24 november 2026, 10:00\)", mine.text)  # one Dutch date format, Amsterdam time
        opened = await http.get(f"/meldingen/{notice.id}")
        assert opened.status_code == 303 and opened.headers["location"] == "/regio/zuid-limburg/instroomstops"
        register = await http.get(opened.headers["location"])
        assert register.status_code == 200 and "Jeugdzorg De Vlinder B.V." in register.text
        assert (await http.get("/meldingen/teller")).text == "Meldingen"  # read by opening it
    assert (await scope.get(Notification, notice.id)).read_at is not None

    async with app_client(oidc_settings) as other:
        await login(other, "lek-inkoop")
        assert (await other.get(f"/meldingen/{notice.id}")).status_code == 404  # not hers


async def test_the_provider_hears_of_the_stop_its_lift_the_closure_and_the_regions_messages(world, oidc_settings,
                                                                                          tmp_path):  # fmt: skip
    scope, escalation = await vlinder_escalation()
    clock = FrozenClock(NOW)
    await impose_stop(scope, escalation, clock)
    await services.end_measure(scope, escalation.id, "instroomstop", actor=LEAD, motivation="Hersteld.", clock=clock)
    await services.post_message(scope, escalation.id, actor=Actor(label="Ilse Inkoop",
                                roles=frozenset({Role.INKOOP_MEDEWERKER})), text="Graag de VOG's voor vrijdag.",
                                clock=clock)  # fmt: skip
    await services.close_escalation(scope, escalation.id, actor=LEAD, outcome="hersteld", motivation="Op orde.",
                                    clock=clock)  # fmt: skip
    await deliver_all(scope, tmp_path / "mail", clock)
    bas = await user("vlinder-beheerder")
    rows = await scope.objects(Notification).where(
        (Notification.channel == INAPP) & (Notification.recipient_user == bas.id)
    )
    assert {"instroomstop_gestart", "instroomstop_beeindigd", "bericht_ontvangen", "escalatie_gesloten"} <= {
        row.template for row in rows
    }
    mails = mails_to(tmp_path / "mail", bas.email)
    assert any("is afgesloten" in m and f"{TEST_BASE}/portaal/escalaties/{escalation.id}" in m for m in mails)
    assert any("opgeheven" in m and "weer nieuwe cli" in m for m in mails)  # written for the provider
    assert any("Graag de VOG" in m for m in mails)
    tessa = await user("zl-toegang")  # the closure of an escalation with a stop reaches the access team too
    assert await scope.exists(Notification).where(
        (Notification.recipient_user == tessa.id) & (Notification.template == "escalatie_gesloten")
    )

    closed = next(row for row in rows if row.template == "escalatie_gesloten")
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-beheerder")
        opened = await http.get(f"/meldingen/{closed.id}")
        assert opened.headers["location"] == f"/portaal/escalaties/{escalation.id}"
        assert (await http.get(opened.headers["location"])).status_code == 200


async def test_a_message_of_the_provider_reaches_the_purchasing_team(world, oidc_settings):
    scope, escalation = await vlinder_escalation()
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker")
        posted = await http.post(f"/portaal/escalaties/{escalation.id}/berichten",
                                 data={"tekst": "De VOG's zijn aangevraagd."}, headers=csrf_headers(http))  # fmt: skip
        assert posted.status_code == 303
    ilse = await load_person((await user("zl-inkoop")).id)
    [notice] = await scope.objects(Notification).where(
        (Notification.channel == INAPP) & (Notification.recipient_user == ilse.user_id)
    )
    assert notice.template == "bericht_ontvangen" and notice.payload["van"] == "Vera Vlinder"
    assert await scope.exists(Notification).where(
        (Notification.recipient == "inkoop@zuid-limburg.example") & (Notification.template == "bericht_ontvangen")
    )
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        opened = await http.get(f"/meldingen/{notice.id}")
        assert opened.headers["location"] == f"/regio/zuid-limburg/escalaties/{escalation.id}"
