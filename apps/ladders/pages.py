"""Ladder pages: the region's ladders drawn (every member who reads escalations), and the routes of the ladder editor
(``editor_pages.py``) for the purchasing team lead of the region (``/regio/<slug>/ladders``) and the platform admin
(``/beheer/regios/<slug>/ladders``): the form, its live diagram, the difference and publishing, TOML for experts, and
a new ladder for the region.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import PERSON, platform_admin, region_role
from apps.accounts.roles import Role
from apps.ladders import editor_pages as pages
from apps.ladders import services as ladder_services
from apps.ladders.diagram import ladder_diagram
from apps.ladders.tables import Ladder, LadderVersion
from apps.tenancy.services import region_by_slug
from apps.tenancy.tables import Region
from core.tenancy import RegionScope

READERS = (Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD, Role.WAARNEMER)
LEAD = region_role(Role.INKOOP_LEAD)


async def _region(slug: str) -> Region:
    region = await region_by_slug(slug)
    if region is None or not region.active:
        raise NotFoundException()
    return region


async def _ladder(scope: RegionScope, key: str) -> tuple[Ladder, LadderVersion]:
    ladder = await scope.objects(Ladder).where(Ladder.key == key).first()
    latest = await ladder_services.latest_version(scope, ladder) if ladder else None
    if ladder is None or latest is None:
        raise NotFoundException()
    return ladder, latest


async def ladder_list(region: Region, base: str, *, may_edit: bool, admin: bool) -> Template:
    scope = RegionScope(region.id)
    ladders = await ladder_services.region_ladders(scope)
    return Template("ladders/lijst.html", context={
        "region": region, "ladders": ladders, "base": base, "may_edit": may_edit, "admin": admin,
        "section": None if admin else "ladders", "reads_escalations": True, "region_lead": may_edit,
    })  # fmt: skip


async def ladder_page(region: Region, key: str, base: str, *, may_edit: bool, admin: bool, notice: str) -> Template:
    scope = RegionScope(region.id)
    ladder, latest = await _ladder(scope, key)
    spec = ladder_services.spec_of(latest)
    versions = await (
        scope.select(LadderVersion, LadderVersion.version, LadderVersion.note, LadderVersion.created_at)
        .where(LadderVersion.ladder == ladder.id)
        .order_by(LadderVersion.version, ascending=False)
    )
    return Template("ladders/ladder.html", context={
        "region": region, "spec": spec, "version": latest.version, "versions": versions, "base": base,
        "diagram": ladder_diagram(spec), "may_edit": may_edit, "admin": admin, "notice": notice,
        "section": None if admin else "ladders", "reads_escalations": True, "region_lead": may_edit,
    })  # fmt: skip


def _notice(published: str) -> str:
    return f"Versie {published} is gepubliceerd. Lopende escalaties houden hun eigen versie." if published else ""


def _is_lead(request: Request, region: Region) -> bool:
    person = request.scope["state"][PERSON]
    return Role.INKOOP_LEAD in person.region_roles.get(region.id, frozenset())


class _EditorRoutes:
    """The editor's routes, the same for the lead's and the admin's paths (``base`` and ``admin`` differ)."""

    admin = False

    def _base(self, region: Region) -> str:
        return f"/beheer/regios/{region.slug}/ladders" if self.admin else f"/regio/{region.slug}/ladders"

    async def _new_page(self, request: Request, slug: str) -> Template:
        region = await _region(slug)
        return pages.new_template(region, self._base(region), admin=self.admin,
                                  tenants_dir=request.app.state.settings.tenants_dir)  # fmt: skip

    async def _new(self, request: Request, slug: str) -> Template:
        region = await _region(slug)
        return await pages.new_submit(request, region, self._base(region), admin=self.admin)

    async def _edit(self, slug: str, key: str) -> Template:
        region = await _region(slug)
        return await pages.editor_page(region, key, self._base(region), admin=self.admin)

    async def _check(self, request: Request, slug: str, key: str) -> Template:
        region = await _region(slug)
        return await pages.editor_submit(request, region, key, self._base(region), admin=self.admin)

    async def _preview(self, request: Request, slug: str, key: str) -> Template:
        return await pages.preview_submit(request, await _region(slug), key)

    async def _publish(self, request: Request, slug: str, key: str) -> Response:
        region = await _region(slug)
        return await pages.publish_submit(request, region, key, self._base(region), admin=self.admin)

    async def _toml(self, slug: str, key: str) -> Template:
        region = await _region(slug)
        return await pages.toml_page(region, key, self._base(region), admin=self.admin)

    async def _toml_file(self, slug: str, key: str) -> Response:
        return await pages.toml_file(await _region(slug), key)

    async def _toml_import(self, request: Request, slug: str, key: str) -> Template:
        region = await _region(slug)
        return await pages.toml_submit(request, region, key, self._base(region), admin=self.admin)


class RegionLadderController(Controller, _EditorRoutes):
    """/regio/{region_slug}/ladders: the ladders drawn; the lead (inkoop_lead) edits, adds and publishes."""

    path = "/regio/{region_slug:str}/ladders"
    include_in_schema = False

    @get("/", guards=[region_role(*READERS)])
    async def index(self, request: Request, region_slug: FromPath[str]) -> Template:
        region = await _region(region_slug)
        return await ladder_list(region, self._base(region), may_edit=_is_lead(request, region), admin=False)

    @get("/nieuw", guards=[LEAD])
    async def new_page(self, request: Request, region_slug: FromPath[str]) -> Template:
        return await self._new_page(request, region_slug)

    @post("/nieuw", guards=[LEAD], status_code=200)
    async def new(self, request: Request, region_slug: FromPath[str]) -> Template:
        return await self._new(request, region_slug)

    @get("/{ladder_key:str}", guards=[region_role(*READERS)])
    async def show(
        self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str], gepubliceerd: FromQuery[str] = ""
    ) -> Template:
        region = await _region(region_slug)
        return await ladder_page(region, ladder_key, self._base(region), may_edit=_is_lead(request, region),
                                 admin=False, notice=_notice(gepubliceerd))  # fmt: skip

    @get("/{ladder_key:str}/bewerken", guards=[LEAD])
    async def edit(self, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._edit(region_slug, ladder_key)

    @post("/{ladder_key:str}/bewerken", guards=[LEAD], status_code=200)
    async def check(self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._check(request, region_slug, ladder_key)

    @post("/{ladder_key:str}/voorbeeld", guards=[LEAD], status_code=200)
    async def preview(self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._preview(request, region_slug, ladder_key)

    @post("/{ladder_key:str}/publiceren", guards=[LEAD], status_code=HTTP_303_SEE_OTHER)
    async def publish(self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Response:
        return await self._publish(request, region_slug, ladder_key)

    @get("/{ladder_key:str}/toml", guards=[LEAD])
    async def toml(self, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._toml(region_slug, ladder_key)

    @get("/{ladder_key:str}/toml/bestand", guards=[LEAD])
    async def toml_file(self, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Response:
        return await self._toml_file(region_slug, ladder_key)

    @post("/{ladder_key:str}/toml", guards=[LEAD], status_code=200)
    async def toml_import(self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._toml_import(request, region_slug, ladder_key)


class AdminLadderController(Controller, _EditorRoutes):
    """/beheer/regios/{slug}/ladders: the same pages for the platform admin, in every region."""

    path = "/beheer/regios/{slug:str}/ladders"
    include_in_schema = False
    guards = [platform_admin]
    admin = True

    @get("/nieuw")
    async def new_page(self, request: Request, slug: FromPath[str]) -> Template:
        return await self._new_page(request, slug)

    @post("/nieuw", status_code=200)
    async def new(self, request: Request, slug: FromPath[str]) -> Template:
        return await self._new(request, slug)

    @get("/{ladder_key:str}")
    async def show(self, slug: FromPath[str], ladder_key: FromPath[str], gepubliceerd: FromQuery[str] = "") -> Template:
        region = await _region(slug)
        return await ladder_page(region, ladder_key, self._base(region), may_edit=True, admin=True,
                                 notice=_notice(gepubliceerd))  # fmt: skip

    @get("/{ladder_key:str}/bewerken")
    async def edit(self, slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._edit(slug, ladder_key)

    @post("/{ladder_key:str}/bewerken", status_code=200)
    async def check(self, request: Request, slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._check(request, slug, ladder_key)

    @post("/{ladder_key:str}/voorbeeld", status_code=200)
    async def preview(self, request: Request, slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._preview(request, slug, ladder_key)

    @post("/{ladder_key:str}/publiceren", status_code=HTTP_303_SEE_OTHER)
    async def publish(self, request: Request, slug: FromPath[str], ladder_key: FromPath[str]) -> Response:
        return await self._publish(request, slug, ladder_key)

    @get("/{ladder_key:str}/toml")
    async def toml(self, slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._toml(slug, ladder_key)

    @get("/{ladder_key:str}/toml/bestand")
    async def toml_file(self, slug: FromPath[str], ladder_key: FromPath[str]) -> Response:
        return await self._toml_file(slug, ladder_key)

    @post("/{ladder_key:str}/toml", status_code=200)
    async def toml_import(self, request: Request, slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        return await self._toml_import(request, slug, ladder_key)
