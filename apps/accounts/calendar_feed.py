"""A personal calendar feed (iCal) of the open deadlines in the regions where the person takes decisions.

- On ``/account`` a person with a deciding role (``DECIDES``) in some region makes a secret address
  ``/agenda/<token>.ics`` for Outlook and the like, or renews it. Only the SHA-256 of the token is stored
  (``CalendarFeed``); the address is shown once, right after it is made. Renewing replaces the hash: the old
  address answers 404 from then on. Making and renewing are audited (``calendar_feed.create`` / ``.renew``).
- The feed is public-by-token (a calendar program sends no session): the token must match, the user must still be
  active, and the deadlines come from the regions where the user holds a deciding role *now* (read through each
  region's ``RegionScope``), so a role taken away empties the feed.
- Deadlines ending at the end of a Dutch day (terms in days, weeks, months) are all-day events; a term in hours is
  a timed event. UIDs are the deadline's id, so a calendar updates an event instead of duplicating it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from icalendar import Calendar, Event
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response
from litestar.status_codes import HTTP_303_SEE_OTHER
from piccolo.engine import engine_finder

from apps.accounts.guards import PERSON, requires
from apps.accounts.roles import DECIDES
from apps.accounts.services import Person, load_person
from apps.accounts.tables import CalendarFeed, User
from apps.escalations.dashboard import deadline_label  # the same Dutch names as the dashboard
from apps.escalations.overview import region_ladders
from apps.escalations.tables import Deadline
from apps.escalations.views import loaded_step_title
from apps.tenancy.tables import Region
from core.audit import audit
from core.clock import AMSTERDAM, Clock, system_clock
from core.formatting import nl_date
from core.tenancy import RegionScope, UserScope
from core.transactions import write_transaction

FEED_PATH = "/agenda"
SESSION_KEY = "agenda_adres"  # the new address, shown once on /account after making or renewing it
MAX_EVENTS_PER_REGION = 2000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{FEED_PATH}/{token}.ics"


def deciding_regions(person: Person) -> list[UUID]:
    return [region for region, roles in person.region_roles.items() if roles & DECIDES]


def version_of(feed: dict | None) -> str:
    """What the renew form sends back: a second submit of the same form finds a newer version and does nothing."""
    if feed is None:
        return "nieuw"
    moment = feed["renewed_at"] or feed["created_at"]
    return moment.isoformat() if isinstance(moment, datetime) else str(moment)


async def feed_of(user_id: UUID) -> dict | None:
    return (
        await UserScope(user_id)
        .select(CalendarFeed, CalendarFeed.id, CalendarFeed.created_at, CalendarFeed.renewed_at)
        .first()
    )


async def make_or_renew(person: Person, *, seen_version: str, clock: Clock = system_clock) -> str | None:
    """A new secret token for the person's feed (the old one stops working), or None when ``seen_version`` is no
    longer the feed's version (a double submit: the first one already renewed it)."""
    if not deciding_regions(person):
        raise PermissionError("only a person who takes decisions in a region has a calendar feed")
    token = secrets.token_urlsafe(32)
    now = clock.now()
    async with write_transaction():
        if engine_finder().engine_type == "postgres":  # two submits at once queue here (SQLite: BEGIN IMMEDIATE)
            await User.raw("SELECT id FROM app_user WHERE id = {} FOR UPDATE", person.user_id)
        current = await feed_of(person.user_id)
        if version_of(current) != seen_version:
            return None
        if current is None:
            await UserScope(person.user_id).new(CalendarFeed, token_hash=hash_token(token), created_at=now).save()
            action = "calendar_feed.create"
        else:
            await CalendarFeed.update({CalendarFeed.token_hash: hash_token(token), CalendarFeed.renewed_at: now}).where(
                CalendarFeed.id == current["id"]
            )
            action = "calendar_feed.renew"
        await audit(action, actor_id=person.user_id, actor_label=person.label, target_type="user",
                    target_id=str(person.user_id), clock=clock)  # fmt: skip
    return token


async def person_of_token(token: str) -> Person | None:
    """The active person whose feed this token opens, or None (unknown, renewed, or the user is deactivated)."""
    if not token or len(token) > 100:
        return None
    row = await CalendarFeed.select(CalendarFeed.user).where(CalendarFeed.token_hash == hash_token(token)).first()
    return await load_person(row["user"]) if row else None


# --- the feed --------------------------------------------------------------------------------------------------------


def is_end_of_day(moment: datetime) -> bool:
    local = moment.astimezone(AMSTERDAM)
    return (local.hour, local.minute) == (23, 59)


async def region_events(region: Region, base_url: str) -> list[Event]:
    scope = RegionScope(region.id)
    ladders = await region_ladders(scope)
    rows = await (
        scope.select(
            Deadline,
            Deadline.id, Deadline.step, Deadline.key, Deadline.term, Deadline.due_at, Deadline.escalation,
            Deadline.escalation.reference.as_alias("reference"),
            Deadline.escalation.ladder_version.as_alias("ladder_version"),
            Deadline.escalation.provider.name.as_alias("provider_name"),
        )
        .where((Deadline.status == "open") & (Deadline.escalation.status != "closed"))
        .order_by(Deadline.due_at)
        .limit(MAX_EVENTS_PER_REGION)
    )  # fmt: skip
    events = []
    for row in rows:
        spec = ladders.by_version.get(row["ladder_version"])
        label = deadline_label(spec, row["step"], row["key"])
        url = f"{base_url.rstrip('/')}/regio/{region.slug}/escalaties/{row['escalation']}"
        due: datetime = row["due_at"]
        event = Event()
        event.add("uid", f"termijn-{row['id']}@trede")
        event.add("summary", f"{label} – {row['provider_name']} ({row['reference']})")
        if is_end_of_day(due):
            day = due.astimezone(AMSTERDAM).date()
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: the day stays free
        else:
            event.add("dtstart", due)
            event.add("dtend", due + timedelta(minutes=15))
        step = loaded_step_title(spec, row["step"]) if spec else row["step"]
        event.add("description", f"Termijn ‘{row['term']}’ in stap ‘{step}’ van escalatie {row['reference']} "
                                 f"({region.name}), vervalt {nl_date(due)}.\n{url}")  # fmt: skip
        event.add("url", url)
        event.add("categories", [region.name])
        events.append(event)
    return events


async def calendar_of(person: Person, base_url: str, clock: Clock = system_clock) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Trede//Termijnen//NL")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Trede: termijnen")
    calendar.add("x-wr-timezone", "Europe/Amsterdam")
    calendar.add("x-published-ttl", "PT1H")  # Outlook asks again after an hour
    now = clock.now()
    regions = await Region.objects().where(Region.id.is_in(deciding_regions(person))) if deciding_regions(
        person) else []  # fmt: skip
    for region in sorted(regions, key=lambda r: r.name):
        for event in await region_events(region, base_url):
            event.add("dtstamp", now)
            calendar.add_component(event)
    return calendar.to_ical()


def since_nl(feed: dict | None) -> str:
    return nl_date(feed["renewed_at"] or feed["created_at"]) if feed else ""


async def account_section(request: Request, person: Person) -> dict[str, Any]:
    """What ``account.html`` shows about the feed; the address only once, right after it was made."""
    feed = await feed_of(person.user_id)
    new_address = request.session.pop(SESSION_KEY, None) if request.session else None
    return {
        "agenda": {
            "allowed": bool(deciding_regions(person)),
            "exists": feed is not None,
            "since": since_nl(feed),
            "version": version_of(feed),
            "new_address": new_address,
        }
    }


class CalendarFeedController(Controller):
    include_in_schema = False

    @post("/account/agenda", guards=[requires(*DECIDES)], status_code=HTTP_303_SEE_OTHER)
    async def make(self, request: Request) -> Redirect:
        person: Person = request.scope["state"][PERSON]
        form = await request.form()
        clock = getattr(request.app.state, "clock", None) or system_clock
        token = await make_or_renew(person, seen_version=str(form.get("versie") or ""), clock=clock)
        if token is not None:
            request.session[SESSION_KEY] = feed_url(request.app.state.settings.base_url, token)
        return Redirect("/account#agenda", status_code=HTTP_303_SEE_OTHER)

    # Public: a calendar program sends no session. The token is the key; everything else answers 404.
    @get(f"{FEED_PATH}/{{feed:str}}", opt={"public": True})
    async def feed(self, request: Request, feed: FromPath[str]) -> Response:
        if not feed.endswith(".ics"):
            raise NotFoundException()
        person = await person_of_token(feed.removesuffix(".ics"))
        if person is None:
            raise NotFoundException()
        clock = getattr(request.app.state, "clock", None) or system_clock
        body = await calendar_of(person, request.app.state.settings.base_url, clock)
        return Response(body, media_type="text/calendar", headers={
            "Content-Disposition": 'inline; filename="trede-termijnen.ics"',
            "Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"})  # fmt: skip
