"""The ladder editor's pages (issue 18 point 6), for the region's purchasing team lead (``/regio/<slug>/ladders``)
and the platform admin (``/beheer/regios/<slug>/ladders``); the routes and their guards are in ``pages.py``.

- ``…/<key>/bewerken``: the whole ladder as form fields (steps, terms, actions, roles, categories), one form without
  JavaScript: buttons add, remove and move parts (``op``), "Voorbeeld bijwerken" redraws the diagram and shows every
  problem next to its field, "Controleren en wijzigingen tonen" leads to the difference in words and "Publiceren".
  With htmx a change of any field redraws the diagram (``…/<key>/voorbeeld``, the server's SVG of ``diagram.py``).
- ``…/<key>/toml``: the latest version as TOML to copy or download, and an import for experts; an imported ladder
  goes through the same checks, shown next to the form's fields.
- ``…/nieuw``: a second (third ...) ladder for the region, from a template in ``tenants/templates/`` or from empty.

Nothing changes until "Publiceren" (``publish_submit``): the definition is checked again, published as the next
version (escalations keep theirs) and audited with the difference in words.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import tomli_w
from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from pydantic import ValidationError

from apps.accounts.guards import PERSON
from apps.escalations.letters import DEFAULT_TEMPLATES, LETTER_TITLES, REGION_TEMPLATES
from apps.ladders import editor
from apps.ladders import services as ladder_services
from apps.ladders import vocabulary as words
from apps.ladders.changes import describe_changes
from apps.ladders.diagram import ladder_diagram
from apps.ladders.editor_state import EditorState, empty_state, key_from, state_from_data
from apps.ladders.letter_kinds import TEMPLATE_KINDS, fields_of
from apps.ladders.schema import DOCUMENT_KINDS, KEY_PATTERN, LEGAL_EXCEPTIONS, NOTIFY_ROLES, LadderSpec
from apps.ladders.tables import Ladder, LadderVersion
from apps.ladders.texts import for_region
from apps.tenancy.loader import ROLES_WITHOUT_MAILBOX, load_templates
from apps.tenancy.schema import format_location
from apps.tenancy.tables import Region, RegionMailbox
from core.audit import audit
from core.clock import system_clock
from core.tenancy import RegionScope
from core.transactions import write_transaction

RESERVED_KEYS = frozenset({"nieuw", "toml", "voorbeeld", "bewerken", "publiceren"})  # path words next to a key
MAX_TOML = 200_000


async def mailbox_roles(scope: RegionScope) -> set[str]:
    return {row["role"] for row in await scope.select(RegionMailbox, RegionMailbox.role)}


async def _latest(scope: RegionScope, key: str) -> LadderVersion | None:
    ladder = await scope.objects(Ladder).where(Ladder.key == key).first()
    return await ladder_services.latest_version(scope, ladder) if ladder else None


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _may_be_new(key: str, form) -> bool:
    """A post for a ladder that does not exist yet: it is being made (version 0) under a key a ladder may have."""
    return _int(form.get("base_version"), -1) == 0 and bool(re.fullmatch(KEY_PATTERN[1:-1], key)) and (
        len(key) <= 64 and key not in RESERVED_KEYS)


def _chrome(region: Region, admin: bool) -> dict[str, Any]:
    return {"section": None if admin else "ladders", "reads_escalations": True, "region_lead": True}


def letter_options(region: Region, state: EditorState) -> list[tuple[str, str]]:
    """The letters a step can send: the default templates, the region's own, and any the ladder already names."""
    keys = set(LETTER_TITLES)
    for folder in (Path(DEFAULT_TEMPLATES), Path(REGION_TEMPLATES) / region.slug):
        if folder.is_dir():
            keys |= {p.stem for p in folder.glob("*.html") if not p.stem.startswith("_")}
    keys |= {a.letter for s in state.steps for a in s.on_enter if a.letter}
    return sorted(((k, words.letter_name(k, LETTER_TITLES)) for k in keys), key=lambda o: o[1].lower())


def preview(state: EditorState, roles: set[str]) -> dict[str, Any]:
    """The diagram of the ladder as the form has it now, or the problems that keep it from being drawn."""
    spec, problems = editor.validate(state, mailbox_roles=roles)
    if spec is None:
        return {"diagram": None, "problems": problems}
    return {"diagram": ladder_diagram(spec, diagram_id="voorbeeld-diagram"), "problems": []}


def editor_template(
    region: Region, state: EditorState, base: str, *, version: int, admin: bool, roles: set[str],
    problems=(), status_code: int = 200, opened: set[int] | None = None, shown: dict | None = None,
) -> Template:  # fmt: skip
    """The editor's page: the form with ``problems`` next to their fields, the diagram of ``shown`` (else drawn now)."""
    errors = defaultdict(list, editor.problems_by_field(list(problems)))  # a field without problems: none
    faults: dict[int, int] = {}
    for name, messages in errors.items():
        if match := re.match(r"s(\d+)(?:-|$)", name):
            faults[int(match[1])] = faults.get(int(match[1]), 0) + len(messages)
    opened = set(opened or ()) | set(faults)
    category_faults = sum(len(m) for name, m in errors.items() if name == "categories" or re.match(r"c\d+", name))

    def step_options(exclude: str = "", empty: str = "") -> list[tuple[str, str]]:
        found = [(s.key, s.title or s.key) for s in state.steps if s.key and s.key != exclude]
        return [("", empty), *found] if empty else found
    return Template("ladders/bewerken.html", status_code=status_code, context={
        **_chrome(region, admin), "region": region, "state": state, "base": base, "version": version, "admin": admin,
        "errors": errors, "faults": faults, "category_faults": category_faults, "problem_count": len(problems),
        "opened": opened, "words": words,
        "step_options": step_options,
        "roles": [(r, words.ROLE_NAMES[r], r in roles or r in ROLES_WITHOUT_MAILBOX) for r in NOTIFY_ROLES],
        "documents": [(d, words.document_name(d)) for d in DOCUMENT_KINDS], "exceptions": LEGAL_EXCEPTIONS,
        "letters": letter_options(region, state), "letter_fields": lambda a: fields_of(
            [a.kind or TEMPLATE_KINDS.get(a.letter)]),
        "preview": shown if shown is not None else preview(state, roles),
    })  # fmt: skip


async def editor_page(region: Region, key: str, base: str, *, admin: bool) -> Template:
    scope = RegionScope(region.id)
    latest = await _latest(scope, key)
    if latest is None:
        raise NotFoundException()
    state = state_from_data(key, latest.definition)
    return editor_template(region, state, base, version=latest.version, admin=admin, roles=await mailbox_roles(scope))


async def editor_submit(request: Request, region: Region, key: str, base: str, *, admin: bool) -> Template:
    """A change of the form's parts re-renders it; "Voorbeeld bijwerken" shows the problems next to their fields and
    the diagram; "Controleren" checks and shows the difference with the latest version."""
    scope = RegionScope(region.id)
    latest = await _latest(scope, key)
    form = await request.form()
    if latest is None and not _may_be_new(key, form):
        raise NotFoundException()  # a ladder that does not exist, and is not being made
    roles = await mailbox_roles(scope)
    state = editor.state_from_form(key, form)
    state.dispute = _dispute_of(latest)
    version = _int(form.get("base_version"), latest.version if latest else 0)
    operation = str(form.get("op") or "check")
    new_action = str(form.get(f"{operation.partition(':')[2]}-nieuw") or "")
    touched = editor.apply_operation(state, operation, new_action)
    if touched is not None:
        return editor_template(region, state, base, version=version, admin=admin, roles=roles,
                               opened={touched} if touched != -1 else set())  # fmt: skip
    spec, problems = editor.validate(state, mailbox_roles=roles)
    if operation == "preview" or problems:
        shown = {"diagram": ladder_diagram(spec, diagram_id="voorbeeld-diagram") if spec else None,
                 "problems": problems}  # fmt: skip
        status = 422 if problems and operation != "preview" else 200
        return editor_template(region, state, base, version=version, admin=admin, roles=roles, problems=problems,
                               shown=shown, status_code=status)  # fmt: skip
    return changes_template(region, spec, base, version=version, latest=latest, admin=admin)


def _dispute_of(latest: LadderVersion | None) -> dict | None:
    """The latest version's dispute route ([dispute]): the form has no fields for it, so an edit keeps it."""
    return ladder_services.spec_of(latest).model_dump(mode="json").get("dispute") if latest else None


def changes_template(region: Region, spec: LadderSpec, base: str, *, version: int, latest: LadderVersion | None,
                     admin: bool, via: str = "formulier") -> Template:  # fmt: skip
    previous = ladder_services.spec_of(latest) if latest else None
    spec = for_region(spec, region.name)  # "{regio}" is the region's name, as when a region takes a template
    return Template("ladders/verschillen.html", context={
        **_chrome(region, admin), "region": region, "spec": spec, "base": base, "version": version,
        "latest": latest.version if latest else 0, "changes": describe_changes(previous, spec, LETTER_TITLES),
        "definition": json.dumps(spec.model_dump(mode="json")), "diagram": ladder_diagram(spec), "admin": admin,
        "via": via,
    })  # fmt: skip


async def preview_submit(request: Request, region: Region, key: str) -> Template:
    """htmx: the diagram of the form as it is now (``#voorbeeld``), and a status line for screen readers."""
    scope = RegionScope(region.id)
    state = editor.state_from_form(key, await request.form())
    state.dispute = _dispute_of(await _latest(scope, key))
    return Template("ladders/_voorbeeld.html", context={"preview": preview(state, await mailbox_roles(scope)),
                                                         "oob": True})  # fmt: skip


async def publish_submit(request: Request, region: Region, key: str, base: str, *, admin: bool) -> Response:
    """Publish the checked definition as the next version. Checked again here: the form came from the browser."""
    scope = RegionScope(region.id)
    latest = await _latest(scope, key)
    form = await request.form()
    base_version = _int(form.get("base_version"), -1)
    if latest is None and not _may_be_new(key, form):
        raise NotFoundException()
    roles = await mailbox_roles(scope)
    try:
        data = json.loads(str(form.get("definition") or ""))
    except ValueError:
        data = None
    state = state_from_data(key, data if isinstance(data, dict) else {})
    if form.get("op") == "edit" and data is not None:  # back to the editor with the checked ladder
        return editor_template(region, state, base, version=base_version, admin=admin, roles=roles)
    spec, problems = editor.validate(state, mailbox_roles=roles)
    if spec is None or not isinstance(data, dict) or data.get("key") != key:
        problems = problems or [editor.EditorProblem("", "De ladder kon niet worden gelezen. Controleer hem opnieuw.")]
    elif latest is not None and base_version != latest.version:
        if ladder_services.spec_of(latest) == spec:  # a second click on "Publiceren": already done
            return Redirect(f"{base}/{key}?gepubliceerd={latest.version}", status_code=HTTP_303_SEE_OTHER)
        problems = [editor.EditorProblem("", f"Intussen is versie {latest.version} gepubliceerd. Bekijk die en breng "
                                             "uw wijzigingen opnieuw aan.")]  # fmt: skip
    elif latest is None and base_version != 0:
        problems = [editor.EditorProblem("", "Deze ladder bestaat niet meer.")]
    if problems:
        return editor_template(region, state, base, version=latest.version if latest else 0, admin=admin,
                               roles=roles, problems=problems, status_code=422)  # fmt: skip
    spec = for_region(spec, region.name)
    person = request.scope["state"][PERSON]
    previous = ladder_services.spec_of(latest) if latest else None
    note = str(form.get("note") or "").strip()[:500]
    via = "toml" if form.get("via") == "toml" else "formulier"
    clock = getattr(request.app.state, "clock", system_clock)
    async with write_transaction():
        published = await ladder_services.publish(scope, spec, note=note or f"Ladder-editor: {person.label}",
                                                   clock=clock)  # fmt: skip
        if published.created:
            changes = describe_changes(previous, spec, LETTER_TITLES)
            await audit("ladder.publish", region_id=region.id, actor_id=person.user_id, actor_label=person.label,
                        target_type="ladder", target_id=key, clock=clock,
                        detail={"version": published.version, "changes": changes, "note": note, "via": via,
                                "nieuw": latest is None})  # fmt: skip
    return Redirect(f"{base}/{key}?gepubliceerd={published.version}", status_code=HTTP_303_SEE_OTHER)


# --- a new ladder -----------------------------------------------------------------------------------------------


def template_choices(region: Region, tenants_dir: Path) -> dict[str, LadderSpec]:
    """The ladder templates of ``tenants/templates/``, as this region would take them (its name filled in)."""
    return {name: for_region(spec, region.name) for name, spec in sorted(load_templates(tenants_dir, []).items())}


def new_template(region: Region, base: str, *, admin: bool, tenants_dir: Path, values: dict | None = None,
                 errors: dict | None = None, status_code: int = 200) -> Template:  # fmt: skip
    return Template("ladders/nieuw.html", status_code=status_code, context={
        **_chrome(region, admin), "region": region, "base": base, "admin": admin, "values": values or {"sjabloon": ""},
        "errors": errors or {}, "templates": [(name, spec.name) for name, spec in template_choices(
            region, tenants_dir).items()],
    })  # fmt: skip


async def new_submit(request: Request, region: Region, base: str, *, admin: bool) -> Template:
    """Start a new ladder: the editor with a template's ladder, or an empty one, under the new key; nothing is stored
    until it is published."""
    scope = RegionScope(region.id)
    tenants_dir = request.app.state.settings.tenants_dir
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in ("naam", "sleutel", "sjabloon")}
    errors: dict[str, str] = {}
    templates = template_choices(region, tenants_dir)
    if not values["naam"]:
        errors["naam"] = "Geef de nieuwe ladder een naam."
    taken = {row["key"] for row in await scope.select(Ladder, Ladder.key)} | RESERVED_KEYS
    key = values["sleutel"] or (key_from(values["naam"], taken, "ladder") if values["naam"] else "")
    if values["sleutel"] and (not re.match(KEY_PATTERN, key) or len(key) > 64):
        errors["sleutel"] = "Gebruik kleine letters, cijfers en _, beginnend met een letter, zoals ‘contract’."
    elif key in taken:
        errors["sleutel"] = f"De regio heeft al een ladder met de sleutel ‘{key}’; kies een andere."
    if values["sjabloon"] and values["sjabloon"] not in templates:
        errors["sjabloon"] = "Kies een van de sjablonen, of begin leeg."
    if errors:
        return new_template(region, base, admin=admin, tenants_dir=tenants_dir, values=values, errors=errors,
                            status_code=422)  # fmt: skip
    if values["sjabloon"]:
        data = templates[values["sjabloon"]].model_dump(mode="json")
        state = state_from_data(key, {**data, "key": key, "name": values["naam"]})
    else:
        state = empty_state(key, values["naam"])
    return editor_template(region, state, base, version=0, admin=admin, roles=await mailbox_roles(scope),
                           opened={0})  # fmt: skip


# --- TOML for experts -------------------------------------------------------------------------------------------


def _without_none(value):
    """TOML has no null: a field left out means the schema's default."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def as_toml(spec: LadderSpec) -> str:
    return tomli_w.dumps(_without_none(spec.model_dump(mode="json", exclude_defaults=True) | {"key": spec.key}))


async def toml_page(region: Region, key: str, base: str, *, admin: bool, typed: str | None = None,
                    errors: list[str] | None = None, status_code: int = 200) -> Template:  # fmt: skip
    scope = RegionScope(region.id)
    latest = await _latest(scope, key)
    if latest is None:
        raise NotFoundException()
    spec = ladder_services.spec_of(latest)
    return Template("ladders/toml.html", status_code=status_code, context={
        **_chrome(region, admin), "region": region, "spec": spec, "version": latest.version, "base": base,
        "admin": admin, "exported": as_toml(spec), "typed": typed or "", "errors": errors or [],
    })  # fmt: skip


async def toml_file(region: Region, key: str) -> Response:
    latest = await _latest(RegionScope(region.id), key)
    if latest is None:
        raise NotFoundException()
    return Response(as_toml(ladder_services.spec_of(latest)), media_type="application/toml; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{key}-versie-{latest.version}.toml"'})


def read_toml(text: str, key: str) -> tuple[dict | None, list[str]]:
    """The ladder in ``text``, or what keeps it from being read (Dutch; TOML's own message quoted for the expert).
    Fields the schema does not know are named here: the form would silently leave them out."""
    if len(text) > MAX_TOML:
        return None, [f"De tekst is te lang (hooguit {MAX_TOML // 1000} kB)."]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [f"Dit is geen geldige TOML: {exc}."]
    if data.get("key", key) != key:
        return None, [f"Deze TOML beschrijft de ladder ‘{data.get('key')}’, niet deze (‘{key}’). Laat ‘key’ weg of "
                      "maak er deze sleutel van; een andere ladder voegt u toe met ‘Nieuwe ladder’."]  # fmt: skip
    try:
        LadderSpec.model_validate({**data, "key": key})
    except ValidationError as exc:
        unknown = [format_location(e["loc"]) for e in exc.errors(include_url=False) if e["type"] == "extra_forbidden"]
        if unknown:
            return None, [f"Onbekend veld: {', '.join(unknown)}. Controleer de spelling (zie de uitleg over ladders)."]
    return data, []


async def toml_submit(request: Request, region: Region, key: str, base: str, *, admin: bool) -> Template:
    """Import: the TOML read into the form and checked like the form; problems next to the form's fields."""
    scope = RegionScope(region.id)
    latest = await _latest(scope, key)
    if latest is None:
        raise NotFoundException()
    text = str((await request.form()).get("toml") or "").replace("\r\n", "\n")
    data, errors = read_toml(text, key)
    if data is None:
        return await toml_page(region, key, base, admin=admin, typed=text, errors=errors, status_code=422)
    roles = await mailbox_roles(scope)
    state = state_from_data(key, data)
    spec, problems = editor.validate(state, mailbox_roles=roles)
    if problems:
        return editor_template(region, state, base, version=latest.version, admin=admin, roles=roles,
                               problems=problems, status_code=422)  # fmt: skip
    return changes_template(region, spec, base, version=latest.version, latest=latest, admin=admin, via="toml")
