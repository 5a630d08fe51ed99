"""Downloads, only through Trede and only after an authorisation check: the object streams from storage as an
attachment whose name comes from the metadata (safely quoted), never inline.

The provider's downloads live in the portal (``/portaal/documenten/{document_id}``); the region's here.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Stream

from apps.accounts.guards import region_role
from apps.accounts.roles import Role
from apps.documents.services import content_disposition, stream_object
from apps.documents.tables import Document
from apps.tenancy.tables import Region
from core.tenancy import RegionScope

# Who in a region may read the documents of its escalations and the evidence of its providers.
REGION_READERS = (Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD, Role.WAARNEMER)


def download_response(request: Request, key: str, filename: str, content_type: str, size: int) -> Stream:
    storage = request.app.state.storage
    return Stream(
        stream_object(storage, key),
        media_type=content_type or "application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(filename or "bestand"),
            "Content-Length": str(size),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def region_scope_of(slug: str) -> RegionScope:
    region = await Region.select(Region.id).where(Region.slug == slug).first()
    if region is None:
        raise NotFoundException()
    return RegionScope(region["id"])


class RegionDocumentController(Controller):
    path = "/regio/{region_slug:str}/documenten"
    include_in_schema = False
    guards = [region_role(*REGION_READERS)]

    @get("/{document_id:uuid}")
    async def download(self, request: Request, region_slug: FromPath[str], document_id: FromPath[UUID]) -> Stream:
        scope = await region_scope_of(region_slug)
        document = await scope.get(Document, document_id)
        if document is None:
            raise NotFoundException()
        return download_response(
            request, document.object_key, document.original_filename, document.content_type, document.size
        )
