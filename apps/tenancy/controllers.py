"""Public pages and API about the regions Trede serves (names and sizes only; nothing confidential)."""

from __future__ import annotations

from dataclasses import asdict

from litestar import Controller, get
from litestar.response import Template

from apps.tenancy.services import list_regions


class HomeController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", opt={"public": True})
    async def home(self) -> Template:
        return Template("home.html", context={"regions": await list_regions()})


class RegionApiController(Controller):
    path = "/api/v1/regions"
    tags = ["regions"]

    @get("/", opt={"public": True}, summary="The regions served, with their municipality count today")
    async def list(self) -> list[dict]:
        """Public: every region Trede serves, with the number of municipalities valid today."""
        return [asdict(region) for region in await list_regions()]
