"""Ladder pages: the region's ladders drawn (every member who reads escalations), and the ladder editor for the
purchasing team lead of the region (``/regio/<slug>/ladders``) and the platform admin
(``/beheer/regios/<slug>/ladders``).

The editor is one form holding the whole ladder (``apps.ladders.editor``): "Controleren" validates it and shows the
changes against the latest version; "Publiceren" publishes the next version (escalations keep their own version).
"""

from __future__ import annotations

import json

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import PERSON, platform_admin, region_role
from apps.accounts.roles import Role
from apps.ladders import editor
from apps.ladders import services as ladder_services
from apps.ladders.diagram import ladder_diagram
from apps.ladders.schema import ACTORS, LadderSpec
from apps.ladders.tables import Ladder, LadderVersion
from apps.tenancy.services import region_by_slug
from apps.tenancy.tables import Region, RegionMailbox
from core.audit import audit
from core.clock import system_clock
from core.tenancy import RegionScope
from core.transactions import write_transaction

READERS = (Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD, Role.WAARNEMER)


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


async def mailbox_roles(scope: RegionScope) -> set[str]:
    return {row["role"] for row in await scope.select(RegionMailbox, RegionMailbox.role)}


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


def _editor_template(region, state, base, *, version, admin, problems=(), status_code=200) -> Template:
    return Template("ladders/bewerken.html", status_code=status_code, context={
        "region": region, "state": state, "base": base, "version": version, "admin": admin,
        "errors": editor.problems_by_field(list(problems)), "problem_count": len(problems), "actors": ACTORS,
        "section": None if admin else "ladders", "reads_escalations": True, "region_lead": True,
    })  # fmt: skip


async def editor_page(region: Region, key: str, base: str, *, admin: bool) -> Template:
    scope = RegionScope(region.id)
    _, latest = await _ladder(scope, key)
    state = editor.state_from_spec(ladder_services.spec_of(latest))
    return _editor_template(region, state, base, version=latest.version, admin=admin)


async def editor_submit(request: Request, region: Region, key: str, base: str, *, admin: bool) -> Template:
    """A structural change (add/remove/move) re-renders the form; "Controleren" validates and shows the diff."""
    scope = RegionScope(region.id)
    _, latest = await _ladder(scope, key)
    form = await request.form()
    state = editor.state_from_form(key, form)
    version = _int(form.get("base_version"), latest.version)
    operation = str(form.get("op") or "check")
    if editor.apply_operation(state, operation):
        return _editor_template(region, state, base, version=version, admin=admin)
    spec, problems = editor.validate(state, mailbox_roles=await mailbox_roles(scope))
    if problems:
        return _editor_template(region, state, base, version=version, admin=admin, problems=problems,
                                status_code=422)  # fmt: skip
    previous = ladder_services.spec_of(latest)
    return Template("ladders/verschillen.html", context={
        "region": region, "spec": spec, "base": base, "version": version, "latest": latest.version,
        "changes": editor.describe_changes(previous, spec), "definition": json.dumps(spec.model_dump(mode="json")),
        "diagram": ladder_diagram(spec), "admin": admin, "state": state,
        "section": None if admin else "ladders", "reads_escalations": True, "region_lead": True,
    })  # fmt: skip


async def publish_submit(request: Request, region: Region, key: str, base: str, *, admin: bool):
    """Publish the checked definition as the next version. Checked again here: the form came from the browser."""
    scope = RegionScope(region.id)
    _, latest = await _ladder(scope, key)
    form = await request.form()
    try:
        spec = LadderSpec.model_validate(json.loads(str(form.get("definition") or "")))
    except ValueError:
        spec = None
    if form.get("op") == "edit" and spec is not None:  # back to the editor with the checked ladder
        return _editor_template(region, editor.state_from_spec(spec), base, admin=admin,
                                version=_int(form.get("base_version"), latest.version))  # fmt: skip
    state = (
        editor.state_from_spec(spec) if spec is not None else editor.state_from_spec(ladder_services.spec_of(latest))
    )
    if spec is None or spec.key != key:
        problems = [editor.EditorProblem("", "De ladder kon niet worden gelezen. Controleer hem opnieuw.")]
        return _editor_template(region, state, base, version=latest.version, admin=admin, problems=problems,
                                status_code=422)  # fmt: skip
    _, problems = editor.validate(state, mailbox_roles=await mailbox_roles(scope))
    base_version = _int(form.get("base_version"), -1)
    if not problems and base_version != latest.version:
        if ladder_services.spec_of(latest) == spec:  # a second click on "Publiceren": already done
            return Redirect(f"{base}/{key}?gepubliceerd={latest.version}", status_code=HTTP_303_SEE_OTHER)
        problems = [editor.EditorProblem("", f"Intussen is versie {latest.version} gepubliceerd. Bekijk die en breng "
                                             "uw wijzigingen opnieuw aan.")]  # fmt: skip
    if problems:
        return _editor_template(region, state, base, version=latest.version, admin=admin, problems=problems,
                                status_code=422)  # fmt: skip
    person = request.scope["state"][PERSON]
    previous = ladder_services.spec_of(latest)
    note = str(form.get("note") or "").strip()[:500]
    clock = getattr(request.app.state, "clock", system_clock)
    async with write_transaction():
        published = await ladder_services.publish(
            scope, spec, note=note or f"ladder-editor: {person.label}", clock=clock
        )
        if published.created:
            await audit("ladder.publish", region_id=region.id, actor_id=person.user_id, actor_label=person.label,
                        target_type="ladder", target_id=key, clock=clock,
                        detail={"version": published.version, "changes": editor.describe_changes(previous, spec),
                                "note": note})  # fmt: skip
    return Redirect(f"{base}/{key}?gepubliceerd={published.version}", status_code=HTTP_303_SEE_OTHER)


def _int(value, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _notice(published: str) -> str:
    return f"Versie {published} is gepubliceerd. Lopende escalaties houden hun eigen versie." if published else ""


def _is_lead(request: Request, region: Region) -> bool:
    person = request.scope["state"][PERSON]
    return Role.INKOOP_LEAD in person.region_roles.get(region.id, frozenset())


class RegionLadderController(Controller):
    """/regio/{region_slug}/ladders: the ladders drawn; the lead (inkoop_lead) edits and publishes."""

    path = "/regio/{region_slug:str}/ladders"
    include_in_schema = False

    @get("/", guards=[region_role(*READERS)])
    async def index(self, request: Request, region_slug: FromPath[str]) -> Template:
        region = await _region(region_slug)
        base = f"/regio/{region.slug}/ladders"
        return await ladder_list(region, base, may_edit=_is_lead(request, region), admin=False)

    @get("/{ladder_key:str}", guards=[region_role(*READERS)])
    async def show(
        self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str], gepubliceerd: FromQuery[str] = ""
    ) -> Template:
        region = await _region(region_slug)
        return await ladder_page(region, ladder_key, f"/regio/{region.slug}/ladders",
                                 may_edit=_is_lead(request, region), admin=False,
                                 notice=_notice(gepubliceerd))  # fmt: skip

    @get("/{ladder_key:str}/bewerken", guards=[region_role(Role.INKOOP_LEAD)])
    async def edit(self, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        region = await _region(region_slug)
        return await editor_page(region, ladder_key, f"/regio/{region.slug}/ladders", admin=False)

    @post("/{ladder_key:str}/bewerken", guards=[region_role(Role.INKOOP_LEAD)], status_code=200)
    async def check(self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        region = await _region(region_slug)
        return await editor_submit(request, region, ladder_key, f"/regio/{region.slug}/ladders", admin=False)

    @post("/{ladder_key:str}/publiceren", guards=[region_role(Role.INKOOP_LEAD)], status_code=HTTP_303_SEE_OTHER)
    async def publish(self, request: Request, region_slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        region = await _region(region_slug)
        return await publish_submit(request, region, ladder_key, f"/regio/{region.slug}/ladders", admin=False)


class AdminLadderController(Controller):
    """/beheer/regios/{slug}/ladders: the same pages for the platform admin, in every region."""

    path = "/beheer/regios/{slug:str}/ladders"
    include_in_schema = False
    guards = [platform_admin]

    @get("/{ladder_key:str}")
    async def show(self, slug: FromPath[str], ladder_key: FromPath[str], gepubliceerd: FromQuery[str] = "") -> Template:
        region = await _region(slug)
        return await ladder_page(region, ladder_key, f"/beheer/regios/{region.slug}/ladders", may_edit=True,
                                 admin=True, notice=_notice(gepubliceerd))  # fmt: skip

    @get("/{ladder_key:str}/bewerken")
    async def edit(self, slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        region = await _region(slug)
        return await editor_page(region, ladder_key, f"/beheer/regios/{region.slug}/ladders", admin=True)

    @post("/{ladder_key:str}/bewerken", status_code=200)
    async def check(self, request: Request, slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        region = await _region(slug)
        return await editor_submit(request, region, ladder_key, f"/beheer/regios/{region.slug}/ladders", admin=True)

    @post("/{ladder_key:str}/publiceren", status_code=HTTP_303_SEE_OTHER)
    async def publish(self, request: Request, slug: FromPath[str], ladder_key: FromPath[str]) -> Template:
        region = await _region(slug)
        return await publish_submit(request, region, ladder_key, f"/beheer/regios/{region.slug}/ladders", admin=True)
