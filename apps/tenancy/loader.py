"""Reading and validating ``tenants/``: region files (``*.toml``) and shared ladder templates (``templates/``).

Nothing here touches the database: ``load_tenants`` returns the regions with their ladders resolved, and
every problem in every file (file, path, reason), so an author fixes all mistakes in one round.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from apps.ladders.schema import LadderSpec, Notify
from apps.ladders.texts import for_region
from apps.tenancy.schema import LadderTemplateRef, RegionFile, format_location
from core.text import control_character


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}" if self.path else f"{self.file}: {self.reason}"


@dataclass
class LoadedRegion:
    file: str
    region: RegionFile
    ladders: dict[str, LadderSpec]  # resolved: templates filled in, keyed like the region file
    sha256: str


@dataclass
class LoadResult:
    regions: list[LoadedRegion] = field(default_factory=list)
    templates: dict[str, LadderSpec] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def canonical_json(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256_of(data: object) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def _display(path: Path, folder: Path) -> str:
    try:
        return str(Path(folder.name) / path.relative_to(folder))
    except ValueError:
        return str(path)


def _read_toml(path: Path, shown: str, problems: list[Problem]) -> dict | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(shown, "", f"not valid TOML: {exc}"))
    except UnicodeDecodeError:
        problems.append(Problem(shown, "", "not UTF-8 text"))
    return None


def _validation_problems(exc: ValidationError, shown: str, prefix: str = "") -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        location = format_location(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        problems.append(Problem(shown, ".".join(p for p in (prefix, location) if p), message))
    return problems


# Keys whose text is one line wherever they occur: they reach mail subjects, letters and page titles.
ONE_LINE_KEYS = frozenset({"name", "title", "label", "sender", "city", "signature", "outcome", "function", "phone"})


def _control_character_problems(data: object, shown: str, path: str = "", one_line: bool = False) -> list[Problem]:
    """Every name or title (and every subcategory title) with a control character, by its place in the file."""
    problems = []
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            problems.extend(_control_character_problems(
                value, shown, where, one_line=key in ONE_LINE_KEYS or path.endswith("subcategories")))  # fmt: skip
    elif isinstance(data, list):
        for index, value in enumerate(data):
            problems.extend(_control_character_problems(value, shown, f"{path}[{index}]"))
    elif one_line and (found := control_character(data)):
        problems.append(Problem(shown, path, f"contains the control character {found} (a line break, tab or the "
                                             "like): a name or title is one line of text"))  # fmt: skip
    return problems


def load_templates(folder: Path, problems: list[Problem]) -> dict[str, LadderSpec]:
    templates: dict[str, LadderSpec] = {}
    template_dir = folder / "templates"
    if not template_dir.is_dir():
        return templates
    for path in sorted(template_dir.glob("*.toml")):
        shown = _display(path, folder)
        data = _read_toml(path, shown, problems)
        if data is None:
            continue
        if found := _control_character_problems(data, shown):
            problems.extend(found)
            continue
        try:
            templates[path.stem] = LadderSpec.model_validate(data)
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, shown))
    return templates


# Roles that need no mailbox in the region file: the municipalities' access teams (their own addresses, also
# for the lokale aanstuurder) and the provider of the escalation.
ROLES_WITHOUT_MAILBOX = {"toegang", "lokale_aanstuurder", "aanbieder"}


def _unknown_roles(shown: str, region: RegionFile, ladders: dict[str, LadderSpec]) -> list[Problem]:
    """A ladder that notifies a role the region has no mailbox for would send its notice nowhere."""
    mailboxes = {m.role for m in region.mailboxes}
    problems = []
    for key, ladder in ladders.items():
        for index, step in enumerate(ladder.steps):
            actions = [*step.on_enter, *(a for term in step.terms for a in term.on_missed)]
            missing = sorted(
                {role for a in actions if isinstance(a, Notify) for role in a.roles} - mailboxes - ROLES_WITHOUT_MAILBOX
            )
            for role in missing:
                problems.append(
                    Problem(
                        shown,
                        f"ladders.{key}.steps[{index}]",
                        f"notifies role '{role}' but the region has no "
                        f"'{role}' mailbox (add [[mailboxes]] role = \"{role}\")",
                    )
                )
    return problems


def load_tenants(folder: Path) -> LoadResult:
    result = LoadResult()
    if not folder.is_dir():
        result.problems.append(Problem(str(folder), "", "no such folder"))
        return result
    result.templates = load_templates(folder, result.problems)
    broken_templates = {p.file for p in result.problems}
    seen_slugs: dict[str, str] = {}
    region_paths = sorted(folder.glob("*.toml"))
    if not region_paths:
        result.problems.append(Problem(_display(folder, folder), "", "no region files (*.toml) found"))
    for path in region_paths:
        shown = _display(path, folder)
        data = _read_toml(path, shown, result.problems)
        if data is None:
            continue
        if found := _control_character_problems(data, shown):
            result.problems.extend(found)
            continue
        try:
            region = RegionFile.model_validate(data)
        except ValidationError as exc:
            result.problems.extend(_validation_problems(exc, shown))
            continue
        if region.slug != path.stem:
            result.problems.append(Problem(shown, "slug", f"is {region.slug!r} but the file is named {path.name!r}"))
            continue
        if region.slug in seen_slugs:
            result.problems.append(Problem(shown, "slug", f"{region.slug!r} is also used by {seen_slugs[region.slug]}"))
            continue
        seen_slugs[region.slug] = shown
        ladders: dict[str, LadderSpec] = {}
        for key, entry in region.ladders.items():
            if isinstance(entry, LadderTemplateRef):
                template = result.templates.get(entry.template)
                if template is None:
                    template_file = f"{folder.name}/templates/{entry.template}.toml"
                    if template_file in broken_templates:
                        reason = f"template {entry.template!r} has problems (see {template_file})"
                    else:
                        known = ", ".join(sorted(result.templates)) or "none"
                        reason = f"unknown template {entry.template!r} (known: {known})"
                    result.problems.append(Problem(shown, f"ladders.{key}.template", reason))
                    continue
                changes = {"key": key}
                if entry.name:
                    changes["name"] = entry.name
                ladders[key] = for_region(template, region.name).model_copy(update=changes)
            else:
                ladders[key] = entry
        if len(ladders) != len(region.ladders):
            continue
        result.problems.extend(_unknown_roles(shown, region, ladders))
        digest = sha256_of(
            {
                "region": region.model_dump(mode="json"),
                "ladders": {k: v.model_dump(mode="json") for k, v in ladders.items()},
            }
        )
        result.regions.append(LoadedRegion(file=shown, region=region, ladders=ladders, sha256=digest))
    return result
