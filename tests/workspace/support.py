"""Helpers of the workspace tests: the Zuid-Limburg scope, demo rows, posting forms as a logged-in person."""

from __future__ import annotations

import re

import httpx

from apps.escalations.tables import Escalation, TimelineEvent
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.tenancy import RegionScope
from tests.accounts.support import csrf_headers

ZL = "/regio/zuid-limburg"


async def zl_scope() -> RegionScope:
    region = await Region.objects().where(Region.slug == "zuid-limburg").first()
    return RegionScope(region.id)


async def provider(kvk: str) -> Provider:
    return await Provider.objects().where(Provider.kvk_number == kvk).first()


async def escalation_of(kvk: str) -> Escalation:
    scope = await zl_scope()
    found = await provider(kvk)
    return await scope.objects(Escalation).where(Escalation.provider == found.id).first()


async def events(escalation_id, kind: str | None = None) -> list[TimelineEvent]:
    scope = await zl_scope()
    query = scope.objects(TimelineEvent).where(TimelineEvent.escalation == escalation_id)
    if kind:
        query = query.where(TimelineEvent.kind == kind)
    return await query.order_by(TimelineEvent.sequence)


async def post_form(http: httpx.AsyncClient, path: str, data: dict, *, htmx: bool = False) -> httpx.Response:
    headers = csrf_headers(http)
    if htmx:
        headers["HX-Request"] = "true"
    return await http.post(path, data=data, headers=headers)


def field_error(html: str, field_id: str) -> str:
    """The text of the error message shown next to the field ``field_id`` ("" when there is none)."""
    match = re.search(rf'<p class="utrecht-form-field-error-message" id="{re.escape(field_id)}-fout">(.*?)</p>', html,
                      re.S)  # fmt: skip
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def textarea_value(html: str, field_id: str) -> str:
    match = re.search(rf'<textarea[^>]* id="{re.escape(field_id)}"[^>]*>(.*?)</textarea>', html, re.S)
    return match.group(1) if match else ""
