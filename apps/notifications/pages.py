"""Pages for notices: the person's own in-app notices (the bell), and the region's delivery overview where the
purchasing team sees what was sent, what is still waiting and what failed — and sends a failed one again."""

from __future__ import annotations

import contextlib
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import PERSON, platform_admin, region_role, signed_in
from apps.accounts.roles import DECIDES, Role
from apps.notifications.inapp import mark_all_read, my_notices, open_notice, unread_count
from apps.notifications.messages import MESSAGES
from apps.notifications.services import PROVIDER_RECIPIENT
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from apps.tenancy.services import region_by_slug
from apps.tenancy.tables import Region
from core import keyset
from core.audit import audit
from core.formatting import nl_datetime
from core.tenancy import RegionScope, RegionsScope

STATUS_NL = {"pending": "Wacht op verzending", "sending": "Wordt verstuurd", "sent": "Verstuurd", "failed": "Mislukt"}


def subject_of(template: str, payload: dict) -> str:
    message = MESSAGES.get(template)
    return message.subject_for(payload) if message else template


REGISTER_TEMPLATES = ("instroomstop_gestart", "instroomstop_beeindigd")
READS_ESCALATIONS = frozenset({Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD, Role.WAARNEMER})


def target_of(person, region: Region | None, template: str, payload: dict) -> str:
    """The page a notice is about, for this person: the register of intake stops for the access team, the
    escalation in the workspace for the purchasing team, in the portal for the provider's people."""
    escalation_id = str(payload.get("escalation_id") or "")
    roles = person.region_roles.get(region.id, frozenset()) if region else frozenset()
    if roles:
        if template in REGISTER_TEMPLATES and not roles & READS_ESCALATIONS:
            return f"/regio/{region.slug}/instroomstops"
        if escalation_id and roles & READS_ESCALATIONS:
            return f"/regio/{region.slug}/escalaties/{escalation_id}"
        if escalation_id and (getattr(person, "region_municipalities", None) or {}).get(region.id):
            return f"/regio/{region.slug}/geschillen/{escalation_id}"  # a municipality's people: their dispute
        if template in REGISTER_TEMPLATES or template == "escalatie_gesloten":
            return f"/regio/{region.slug}/instroomstops"
        return f"/regio/{region.slug}"
    if person.provider_roles:
        if escalation_id:
            return f"/portaal/escalaties/{escalation_id}"
        if template == "bewijs_verloopt":
            return "/portaal/bewijs"
        if template.startswith("kwaliteit_"):
            return "/portaal/kwaliteit"
        return "/portaal/"
    return "/meldingen"


def when(moment) -> str:
    """The one Dutch date format of Trede's pages: "6 april 2026, 14:05"."""
    return nl_datetime(moment)


DELIVERY_PAGE = 50
COUNT_CAP = 1000


async def delivery_page(scope: RegionScope | RegionsScope, status: str, *, after: str = "", before: str = "",
                        technical: bool = False) -> keyset.Page:  # fmt: skip
    """One page of the region's notices, newest first (keyset on created_at, id): the index
    notification_region_created, or notification_region_status_created with a status filter, serves it; across
    regions (the platform admin's page, ``technical``: with the error's detail), notification_status_created."""

    def query():
        rows = scope.select(
            Notification, Notification.id, Notification.region, Notification.recipient, Notification.channel,
            Notification.template, Notification.payload, Notification.status, Notification.attempts,
            Notification.last_error, Notification.created_at, Notification.sent_at,
            *((Notification.error_detail,) if technical else ()),
        )  # fmt: skip
        return rows.where(Notification.status == status) if status else rows

    segments = [keyset.Segment("n", None, [(Notification.created_at, False), (Notification.id, False)])]
    return await keyset.first_page_if_stale(keyset.select_fetch(query), segments, DELIVERY_PAGE, after=after,
                                            before=before)  # fmt: skip


async def status_count(scope: RegionScope | RegionsScope, status: str) -> tuple[int, bool]:
    """How many of the region's notices have ``status``, up to COUNT_CAP (then "meer dan"): a bounded index range."""
    return await keyset.capped_rows(scope, Notification, Notification.status == status, COUNT_CAP)


async def name_recipients(rows: list[dict]) -> None:
    """Who a notice went to as people read it: "provider:<id>" is everyone of that provider organisation."""
    ids = []
    for row in rows:
        with contextlib.suppress(ValueError):
            if str(row["recipient"]).startswith(PROVIDER_RECIPIENT):
                ids.append(UUID(row["recipient"].removeprefix(PROVIDER_RECIPIENT)))
    found = await Provider.select(Provider.id, Provider.name).where(Provider.id.is_in(ids)) if ids else []
    names = {str(p["id"]): p["name"] for p in found}
    for row in rows:
        recipient = str(row["recipient"])
        if recipient.startswith(PROVIDER_RECIPIENT):
            name = names.get(recipient.removeprefix(PROVIDER_RECIPIENT), "")
            row["recipient"] = f"de mensen van {name}" if name else "de mensen van de aanbieder"


class NoticeController(Controller):
    path = "/meldingen"
    include_in_schema = False

    @get("/", guards=[signed_in])
    async def mine(self, request: Request) -> Template:
        person = request.scope["state"][PERSON]
        after, before = keyset.cursors(request.query_params)
        found = await my_notices(person, after=after, before=before)
        notices = [
            {"id": row["id"], "subject": subject_of(row["template"], row["payload"]),
             "at": nl_datetime(row["created_at"]), "unread": row["read_at"] is None}
            for row in found.rows
        ]  # fmt: skip
        return Template("meldingen/mijn.html", context={"notices": notices, "next": found.next,
                                                        "previous": found.previous})  # fmt: skip

    @get("/{notification_id:uuid}", guards=[signed_in], status_code=HTTP_303_SEE_OTHER)
    async def open(self, request: Request, notification_id: FromPath[UUID]) -> Redirect:
        """Opening a notice marks it read and leads to what it is about."""
        person = request.scope["state"][PERSON]
        row = await open_notice(person, notification_id)
        if row is None:
            raise NotFoundException()
        region = await Region.objects().where(Region.id == row["region"]).first()
        return Redirect(target_of(person, region, row["template"], row["payload"]), status_code=HTTP_303_SEE_OTHER)

    @get("/teller", guards=[signed_in])
    async def counter(self, request: Request) -> Response:
        count = await unread_count(request.scope["state"][PERSON])
        hidden = '<span class="trede-visually-hidden"> ongelezen</span>'
        badge = f' <span class="utrecht-badge-counter">{count}{hidden}</span>'
        return Response("Meldingen" + (badge if count else ""), media_type="text/html")

    @post("/gelezen", guards=[signed_in], status_code=HTTP_303_SEE_OTHER)
    async def read(self, request: Request) -> Redirect:
        await mark_all_read(request.scope["state"][PERSON])
        return Redirect("/meldingen", status_code=HTTP_303_SEE_OTHER)


class DeliveryController(Controller):
    """/regio/{region_slug}/meldingen: every notice of the region with its delivery status."""

    path = "/regio/{region_slug:str}/meldingen"
    include_in_schema = False

    @get("/", guards=[region_role(Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD, Role.WAARNEMER)])
    async def overview(self, request: Request, region_slug: FromPath[str], status: FromQuery[str] = "") -> Template:
        region = await region_by_slug(region_slug)
        scope = RegionScope(region.id)
        wanted = status if status in STATUS_NL else ""
        after, before = keyset.cursors(request.query_params)
        found = await delivery_page(scope, wanted, after=after, before=before)
        rows = [
            {**row, "subject": subject_of(row["template"], row["payload"]), "status_nl": STATUS_NL[row["status"]],
             "created": when(row["created_at"]), "sent": when(row["sent_at"])}
            for row in found.rows
        ]  # fmt: skip
        await name_recipients(rows)
        person = request.scope["state"][PERSON]
        counts = {key: keyset.count_nl(*await status_count(scope, key)) for key in STATUS_NL}
        return Template("meldingen/regio.html", context={
            "region": region, "rows": rows, "counts": counts, "status": wanted, "statuses": STATUS_NL,
            "next": found.next, "previous": found.previous,
            "may_retry": bool(person.region_roles.get(region.id, frozenset()) & DECIDES),
            "section": "meldingen", "reads_escalations": True,  # the region's navigation (base.html)
        })  # fmt: skip

    @post("/{notification_id:str}/opnieuw", guards=[region_role(Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD)],
          status_code=HTTP_303_SEE_OTHER)  # fmt: skip
    async def retry(self, request: Request, region_slug: FromPath[str], notification_id: FromPath[str]) -> Redirect:
        region = await region_by_slug(region_slug)
        scope = RegionScope(region.id)
        row = await scope.get(Notification, notification_id)
        if row is None:
            raise NotFoundException()
        if row.status == "failed":
            values = {Notification.status: "pending", Notification.attempts: 0, Notification.next_attempt_at: None}
            await scope.update(Notification, values).where(Notification.id == row.id)
            person = request.scope["state"][PERSON]
            await audit("notification.retry", region_id=region.id, actor_id=person.user_id, actor_label=person.label,
                        target_type="notification", target_id=str(row.id), detail={"fout": row.last_error})  # fmt: skip
        return Redirect(f"/regio/{region_slug}/meldingen?status=failed", status_code=HTTP_303_SEE_OTHER)



class PlatformDeliveryController(Controller):
    """/beheer/meldingen: the platform admin's view of every region's notices — what failed, what waits."""

    path = "/beheer/meldingen"
    include_in_schema = False

    @get("/", guards=[platform_admin])
    async def overview(self, request: Request, status: FromQuery[str] = "failed") -> Template:
        """One list across the regions, newest first and paged by keyset, with how many of each status there are
        (each counted up to 1.000): the page costs what it shows, not a query per region."""
        wanted = status if status in STATUS_NL else "failed"
        regions = {row["id"]: row["name"] for row in await Region.select(Region.id, Region.name)}
        everywhere = RegionsScope(list(regions))
        after, before = keyset.cursors(request.query_params)
        found = await delivery_page(everywhere, wanted, after=after, before=before, technical=True)
        rows = [
            {**row, "region_name": regions.get(row["region"], ""), "created": when(row["created_at"]),
             "subject": subject_of(row["template"], row["payload"])}
            for row in found.rows
        ]  # fmt: skip
        await name_recipients(rows)
        counts = {key: keyset.count_nl(*await status_count(everywhere, key)) for key in STATUS_NL}
        return Template("meldingen/beheer.html", context={
            "rows": rows, "counts": counts, "status": wanted, "statuses": STATUS_NL, "next": found.next,
            "previous": found.previous,
        })  # fmt: skip
