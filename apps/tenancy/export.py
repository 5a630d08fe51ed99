"""A region in the database as a ``tenants/`` file, and a region file (uploaded or built on the admin pages)
checked exactly as the loader checks ``tenants/``.

The export is built from the schema itself (``RegionFile``): the region's columns and tables for slug, name,
municipalities, mailboxes and ladders, and every other section as stored in ``Region.settings``. A section
added to ``apps/tenancy/schema.py`` is carried without changes here.

Ladders: a ladder whose latest version is a shared template (with the region's key and name) is written as
``template = "NAME"``; a ladder edited on the ladder editor is written inline, with all its steps.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path

import tomli_w

from apps.ladders import services as ladder_services
from apps.ladders.schema import LadderSpec
from apps.ladders.tables import Ladder
from apps.ladders.texts import for_region
from apps.tenancy.loader import LoadedRegion, LoadResult, Problem, load_templates, load_tenants
from apps.tenancy.schema import RegionFile
from apps.tenancy.services import NOT_IN_SETTINGS
from apps.tenancy.tables import Municipality, Region, RegionMailbox
from core.tenancy import RegionScope


def region_settings(region: Region) -> dict:
    """``Region.settings`` as a dict (Piccolo hands JSON columns back as text unless asked to decode them)."""
    value = region.settings
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return value or {}


def json_list(value) -> list:
    """A JSON column holding a list (Piccolo may hand it back as text)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return list(value or [])


def _drop_empty(value):
    """TOML has no null: leave out fields that are None (the schema's default)."""
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def template_of(spec: LadderSpec, templates: dict[str, LadderSpec], region_name: str) -> dict | None:
    """The template reference that gives exactly ``spec`` (as the region takes it: its name in the texts), or None
    when the ladder is the region's own."""
    for name, template in sorted(templates.items()):
        regional = for_region(template, region_name)
        if regional.model_copy(update={"key": spec.key, "name": spec.name}) == spec:
            return {"template": name} if spec.name == regional.name else {"template": name, "name": spec.name}
    return None


async def region_document(region: Region, templates: dict[str, LadderSpec]) -> dict:
    """The region as the data of a region file (validated against ``RegionFile``)."""
    scope = RegionScope(region.id)
    municipalities = [
        {"cbs_code": m.cbs_code, "name": m.name, "access_team_email": m.access_team_email,
         "contacts": json_list(m.contacts), "valid_from": m.valid_from, "valid_until": m.valid_until}
        for m in await scope.objects(Municipality).order_by(Municipality.cbs_code)
    ]  # fmt: skip
    mailboxes = [
        {"role": m.role, "name": m.name, "email": m.email}
        for m in await scope.objects(RegionMailbox).order_by(RegionMailbox.role)
    ]
    ladders: dict[str, dict] = {}
    for ladder in await scope.objects(Ladder).order_by(Ladder.key):
        latest = await ladder_services.latest_version(scope, ladder)
        if latest is None:
            continue
        spec = ladder_services.spec_of(latest)
        ladders[ladder.key] = template_of(spec, templates, region.name) or spec.model_dump(mode="json")
    settings = {k: v for k, v in region_settings(region).items() if k not in NOT_IN_SETTINGS}
    data = {"slug": region.slug, "name": region.name, **settings, "municipalities": municipalities,
            "mailboxes": mailboxes, "ladders": ladders}  # fmt: skip
    # Through the schema: fills defaults of sections stored before they existed, and refuses nonsense.
    return _drop_empty(RegionFile.model_validate(data).model_dump(mode="python"))


def to_toml(document: dict) -> str:
    head = "# Exported from Trede. Review it, then add it to tenants/ (see tenants/README.md).\n"
    return head + tomli_w.dumps(document)


async def export_region(slug: str, tenants_dir: Path) -> str | None:
    region = await Region.objects().where(Region.slug == slug).first()
    if region is None:
        return None
    templates = load_templates(tenants_dir, [])
    return to_toml(await region_document(region, templates))


def check_region_file(content: bytes, file_name: str, tenants_dir: Path) -> LoadResult:
    """Check one region file exactly as ``trede tenants validate`` would in ``tenants_dir``: the same
    ``file: path: reason`` problems, with the folder's shared templates. Nothing is written to the database."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / tenants_dir.name
        (folder / "templates").mkdir(parents=True)
        for template in (tenants_dir / "templates").glob("*.toml"):
            (folder / "templates" / template.name).write_bytes(template.read_bytes())
        slug = _slug_in(content) or Path(file_name).stem
        (folder / f"{slug}.toml").write_bytes(content)
        return load_tenants(folder)


def _slug_in(content: bytes) -> str | None:
    """The file's own slug (the loader requires file name == slug; an upload's name is the browser's)."""
    try:
        slug = tomllib.loads(content.decode("utf-8")).get("slug")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    if isinstance(slug, str) and slug and "/" not in slug and "\\" not in slug and not slug.startswith("."):
        return slug
    return None


def check_region_document(document: dict, tenants_dir: Path) -> tuple[LoadedRegion | None, list[Problem]]:
    """A region built on the admin pages, through the loader: the resolved region, or every problem."""
    result = check_region_file(tomli_w.dumps(_drop_empty(document)).encode(), "regio.toml", tenants_dir)
    if result.problems or not result.regions:
        return None, result.problems
    return result.regions[0], []
