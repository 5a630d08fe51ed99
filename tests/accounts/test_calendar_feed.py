"""The personal calendar feed: made on /account by a person who takes decisions, shown once, only its hash stored;
the feed (parsed with icalendar) lists the open deadlines of their regions and nothing of another region;
renewing kills the old address; making and renewing are audited; a deactivated person's feed is gone."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from icalendar import Calendar

from apps.accounts.tables import CalendarFeed, User
from apps.audit.tables import AuditEntry
from apps.escalations.tables import Deadline, Escalation
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.clock import AMSTERDAM
from core.tenancy import RegionScope
from tests.accounts.support import TEST_BASE, app_client, csrf_headers, login


async def scope_of(slug: str) -> RegionScope:
    return RegionScope((await Region.objects().where(Region.slug == slug).first()).id)


def shown_address(html: str) -> str | None:
    match = re.search(r'id="agenda-adres" value="([^"]+)"', html)
    return match.group(1) if match else None


def shown_version(html: str) -> str:
    return re.search(r'name="versie" value="([^"]+)"', html).group(1)


async def make_feed(http: httpx.AsyncClient, version: str) -> httpx.Response:
    return await http.post("/account/agenda", data={"versie": version}, headers=csrf_headers(http))


async def fetch(http: httpx.AsyncClient, address: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=TEST_BASE, transport=httpx.ASGITransport(app=http.app)) as program:
        return await program.get(urlsplit(address).path)  # a calendar program: no session, no cookies


def events_of(body: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(body)
    return {
        str(event["UID"]): {"summary": str(event["SUMMARY"]), "start": event.decoded("DTSTART"),
                            "url": str(event.get("URL", "")), "description": str(event.get("DESCRIPTION", ""))}
        for event in calendar.walk("VEVENT")
    }  # fmt: skip


async def test_make_use_and_renew_the_feed(world, oidc_settings):  # noqa: F811
    zl, lek = await scope_of("zuid-limburg"), await scope_of("lekstroom")
    vlinder = await Provider.objects().where(Provider.kvk_number == "90000001").first()
    safety = await zl.objects(Escalation).where(Escalation.provider == vlinder.id).first()
    timed_due = datetime(2026, 12, 3, 15, 0, tzinfo=AMSTERDAM)  # a term in hours ends at a moment, not a day
    await zl.new(Deadline, escalation=safety.id, step=safety.current_step, key="reactie_binnen", term="24 uur",
                 starts_at=timed_due - timedelta(days=1), due_at=timed_due).save()  # fmt: skip

    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", "/account")
        page = await http.get("/account")
        assert "Termijnen in uw agenda" in page.text and "Agenda-adres maken" in page.text
        assert shown_address(page.text) is None
        made = await make_feed(http, shown_version(page.text))
        assert made.status_code == 303 and made.headers["location"] == "/account#agenda"
        page = await http.get("/account")
        address = shown_address(page.text)
        assert address and re.fullmatch(r"http://testserver/agenda/[A-Za-z0-9_-]{43}\.ics", address)
        assert shown_address((await http.get("/account")).text) is None  # shown once only

        token = urlsplit(address).path.removeprefix("/agenda/").removesuffix(".ics")
        [stored] = await CalendarFeed.select(CalendarFeed.token_hash)
        assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()  # the token itself is not kept

        response = await fetch(http, address)
        assert response.status_code == 200 and response.headers["content-type"] == "text/calendar; charset=utf-8"
        events = events_of(response.content)
        open_here = await zl.objects(Deadline).where(Deadline.status == "open")
        assert open_here and set(events) == {f"termijn-{d.id}@trede" for d in open_here}
        elsewhere = await lek.objects(Deadline).where(Deadline.status == "open")
        assert elsewhere and not {f"termijn-{d.id}@trede" for d in elsewhere} & set(events)  # Lekstroom's: absent

        samen_sterk = await Provider.objects().where(Provider.kvk_number == "90000002").first()
        plan_escalation = await zl.objects(Escalation).where(Escalation.provider == samen_sterk.id).first()
        [plan] = [d for d in open_here if d.escalation == plan_escalation.id and d.key == "plan_binnen"]
        event = events[f"termijn-{plan.id}@trede"]
        assert event["summary"] == f"Plan van aanpak – Stichting Samen Sterk Jeugdhulp ({plan_escalation.reference})"
        assert event["start"] == plan.due_at.astimezone(AMSTERDAM).date()  # all-day: a term counted in days
        assert not isinstance(event["start"], datetime) and isinstance(event["start"], date)
        assert event["url"] == f"http://testserver/regio/zuid-limburg/escalaties/{plan_escalation.id}"
        timed = next(e for e in events.values() if isinstance(e["start"], datetime))
        assert timed["start"] == timed_due and safety.reference in timed["summary"]

        # renewing: the old address answers 404, the new one works; a double submit renews once
        page = await http.get("/account")
        version = shown_version(page.text)
        assert "U heeft een agenda-adres sinds" in page.text
        assert (await make_feed(http, version)).status_code == 303
        assert (await make_feed(http, version)).status_code == 303  # the same form again
        renewed = shown_address((await http.get("/account")).text)
        assert renewed and renewed != address
        assert (await fetch(http, address)).status_code == 404
        assert (await fetch(http, renewed)).status_code == 200

    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.action.like("calendar_feed.%")).order_by(AuditEntry.at)]  # fmt: skip
    assert actions == ["calendar_feed.create", "calendar_feed.renew"]

    # a wrong token, a path without .ics, and a deactivated person: 404
    async with app_client(oidc_settings) as http:
        assert (await http.get("/agenda/" + "x" * 43 + ".ics")).status_code == 404
        assert (await http.get(urlsplit(renewed).path.removesuffix(".ics"))).status_code == 404
        await User.update({User.active: False}).where(User.subject == "zl-inkoop")
        assert (await http.get(urlsplit(renewed).path)).status_code == 404


async def test_only_people_who_decide_have_a_feed(world, oidc_settings):  # noqa: F811
    async with app_client(oidc_settings) as http:
        await login(http, "zl-waarnemer", "/account")
        page = await http.get("/account")
        assert page.status_code == 200 and "Termijnen in uw agenda" not in page.text
        assert (await make_feed(http, "nieuw")).status_code == 404
    assert await CalendarFeed.count() == 0

    async with app_client(oidc_settings) as http:  # Lekstroom's team sees only Lekstroom's deadlines
        await login(http, "lek-inkoop", "/account")
        await make_feed(http, "nieuw")
        address = shown_address((await http.get("/account")).text)
        events = events_of((await fetch(http, address)).content)
        lek = await scope_of("lekstroom")
        assert set(events) == {f"termijn-{d.id}@trede" for d in await lek.objects(Deadline).where(
            Deadline.status == "open")}  # fmt: skip
        assert all("/regio/lekstroom/" in e["url"] for e in events.values())


async def test_two_submits_at_once_make_one_address(world):  # noqa: F811
    import asyncio

    from apps.accounts.calendar_feed import make_or_renew
    from apps.accounts.services import load_person

    user = await User.objects().where(User.subject == "zl-inkoop").first()
    person = await load_person(user.id)
    tokens = await asyncio.gather(*(make_or_renew(person, seen_version="nieuw") for _ in range(2)))
    assert len([t for t in tokens if t]) == 1 and await CalendarFeed.count() == 1
    [stored] = await CalendarFeed.select(CalendarFeed.token_hash)
    assert stored["token_hash"] == hashlib.sha256(next(t for t in tokens if t).encode()).hexdigest()
    assert await AuditEntry.count().where(AuditEntry.action == "calendar_feed.create") == 1
