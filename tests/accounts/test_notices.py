"""In-app notices and the region's delivery overview: the bell shows the unread count on every page; the
purchasing team sees failed mails, with the reason, and sends them again; an observer only looks."""

from __future__ import annotations

import html
import re

from apps.accounts.tables import User
from apps.audit.tables import AuditEntry
from apps.notifications.inapp import add_for_people
from apps.notifications.services import deliver
from apps.notifications.tables import Notification
from apps.notifications.transports import EmailTransport, InAppTransport
from apps.tenancy.tables import Region
from core.tenancy import RegionScope
from tests.accounts.support import app_client, csrf_headers, login


async def zuid_limburg() -> RegionScope:
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    return RegionScope(region.id)


async def test_the_bell_counts_unread_notices_and_they_can_be_read(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        ilse = await User.objects().where(User.subject == "zl-inkoop").first()
        scope = await zuid_limburg()
        payload = {"escalatie": "ZL-2026-0042", "stap_titel": "Officiële brief", "aanbieder": "De Vlinder"}
        await add_for_people(scope, [ilse.id], template="ladder_notify", payload=payload, key="test-bell")
        page = await http.get("/werkruimte")
        assert 'href="/meldingen"' in page.text and "1<span class=\"trede-visually-hidden\"> ongelezen" in page.text
        assert "1<span" in (await http.get("/meldingen/teller")).text
        mine = await http.get("/meldingen")
        assert "Escalatie ZL-2026-0042: Officiële brief" in mine.text and "Ongelezen: " in mine.text
        read = await http.post("/meldingen/gelezen", headers=csrf_headers(http))
        assert read.status_code == 303
        assert (await http.get("/meldingen/teller")).text == "Meldingen"

    async with app_client(oidc_settings) as other:
        await login(other, "lek-inkoop")  # someone else sees nothing of it
        assert "ZL-2026-0042" not in (await other.get("/meldingen")).text


async def test_failed_mail_is_shown_with_its_reason_and_sent_again(world, oidc_settings):
    scope = await zuid_limburg()
    failed = scope.new(Notification, recipient="toegang.vaals@zuid-limburg.example", channel="email",
                       template="instroomstop_gestart", payload={"provider_name": "De Vlinder"},
                       idempotency_key="test-failed", status="failed", attempts=8,
                       last_error="na 8 pogingen: 451 mailserver tijdelijk onbereikbaar")  # fmt: skip
    await failed.save()
    async with app_client(oidc_settings) as observer:
        await login(observer, "zl-waarnemer")
        page = await observer.get("/regio/zuid-limburg/meldingen?status=failed")
        assert page.status_code == 200 and "451 mailserver tijdelijk onbereikbaar" in page.text
        assert "Opnieuw versturen" not in page.text
        retry = f"/regio/zuid-limburg/meldingen/{failed.id}/opnieuw"
        refused = await observer.post(retry, headers=csrf_headers(observer))
        assert refused.status_code == 404
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        page = await http.get("/regio/zuid-limburg/meldingen?status=failed")
        assert "Instroomstop voor De Vlinder" in page.text and "Opnieuw versturen" in page.text
        again = await http.post(f"/regio/zuid-limburg/meldingen/{failed.id}/opnieuw", headers=csrf_headers(http))
        assert again.status_code == 303
        assert (await http.get("/regio/lekstroom/meldingen")).status_code == 404  # not her region
    row = await scope.get(Notification, failed.id)
    assert row.status == "pending" and row.attempts == 0
    assert await AuditEntry.count().where(AuditEntry.action == "notification.retry") == 1


async def test_the_platform_admin_sees_failed_notices_of_every_region(world, oidc_settings):
    for slug, error in [("zuid-limburg", "550 onbekende ontvanger"), ("lekstroom", "na 8 pogingen: 421 te druk")]:
        region = await Region.objects().where(Region.slug == slug).first()
        await RegionScope(region.id).new(
            Notification, recipient=f"x@{slug}.example", channel="email", template="termijn_verlopen",
            payload={"wat": "Plan van aanpak", "escalatie": f"{slug}-1"}, idempotency_key=f"admin-{slug}",
            status="failed", last_error=error,
        ).save()  # fmt: skip
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        assert (await http.get("/beheer/meldingen")).status_code == 404  # not a platform admin
    async with app_client(oidc_settings) as admin:
        await login(admin, "beheer")
        page = await admin.get("/beheer/meldingen")
        assert page.status_code == 200
        assert "550 onbekende ontvanger" in page.text and "421 te druk" in page.text
        assert "Termijn verlopen: Plan van aanpak (lekstroom-1)" in page.text
        assert re.search(r"<td[^>]*>Jeugdhulp Lekstroom</td>\s*<td[^>]*>Termijn verlopen", page.text)  # its region
        failed_count = re.search(r"Mislukt \((\d+)\)", page.text)
        assert failed_count and int(failed_count.group(1)) >= 2
        # More than a page: 50 newest, "Volgende pagina" shows the rest, each notice once.
        scope = RegionScope((await Region.objects().where(Region.slug == "zuid-limburg").first()).id)
        await scope.insert(Notification, *(scope.new(
            Notification, recipient=f"veel-{n}@zl.example", channel="email", template="termijn_verlopen",
            payload={"wat": "Plan van aanpak", "escalatie": f"VEEL-{n}"}, idempotency_key=f"admin-veel-{n}",
            status="failed", last_error="550 onbekende ontvanger") for n in range(60)))  # fmt: skip
        seen, url = [], "/beheer/meldingen?status=failed"
        while url:
            page = await admin.get(url)
            seen += re.findall(r"veel-\d+@zl.example", page.text)
            found = re.search(r'rel="next" href="([^"]+)"', page.text)
            url = html.unescape(found.group(1)) if found else ""
        assert sorted(seen) == sorted(f"veel-{n}@zl.example" for n in range(60))


async def test_a_notice_that_cannot_be_sent_is_failed_with_its_dutch_reason_on_the_delivery_page(world, oidc_settings):
    """Issue 21 point 1: not stuck in "sending" and not an empty reason: the team reads why on its page."""
    scope = await zuid_limburg()
    payload = {"provider_name": "De Vlinder", "kvk_number": "90000001", "start_date": "2 december 2026",
               "municipalities": ["Maastricht"], "escalatie": "ZL-2026-0007"}  # fmt: skip
    rows = {
        "address": ("toegang@zuid-limburg.example\r\nBcc: x@evil.example", payload),
        "field": ("toegang@zuid-limburg.example", {k: v for k, v in payload.items() if k != "kvk_number"}),
    }
    ids = {}
    for name, (recipient, data) in rows.items():
        row = scope.new(Notification, recipient=recipient, channel="email", template="instroomstop_gestart",
                        idempotency_key=f"page-reason:{name}", payload=data)  # fmt: skip
        await row.save()
        ids[name] = row.id
    # Neither mail gets as far as a mail server.
    nowhere = {"email": EmailTransport("smtp://127.0.0.1:9", "Trede <noreply@trede.localhost>", timeout=2),
               "inapp": InAppTransport()}  # fmt: skip
    for notification_id in ids.values():
        assert await deliver(scope.region_id, notification_id, nowhere) == "failed"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        page = await http.get("/regio/zuid-limburg/meldingen?status=failed")
    assert page.status_code == 200
    assert "Het e-mailadres is ongeldig (het bevat een regelovergang of stuurteken)." in page.text
    assert "Het bericht mist het gegeven ‘kvk_number’. Meld dit aan de beheerder van Trede." in page.text
