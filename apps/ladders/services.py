"""Ladder versions: publishing (never editing) and finding the version an escalation runs on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from apps.ladders.diagram import Diagram, ladder_diagram
from apps.ladders.schema import LadderSpec
from apps.ladders.tables import Ladder, LadderVersion
from apps.tenancy.loader import sha256_of
from core.clock import Clock, system_clock
from core.tenancy import RegionScope, RegionsScope


@dataclass(frozen=True)
class Published:
    key: str
    version: int
    created: bool  # False: the definition was unchanged, nothing was published


async def latest_version(scope: RegionScope, ladder: Ladder) -> LadderVersion | None:
    return (
        await scope.objects(LadderVersion)
        .where(LadderVersion.ladder == ladder.id)
        .order_by(LadderVersion.version, ascending=False)
        .first()
    )


async def publish(scope: RegionScope, spec: LadderSpec, *, note: str = "", clock: Clock = system_clock,
                  keep_later_edits: bool = False) -> Published:  # fmt: skip
    """Publish ``spec`` as the next version of the region's ladder ``spec.key``, unless it is unchanged.

    ``keep_later_edits``: nor when the newest version published with this same ``note`` (from the region file) was
    ``spec`` already. A region file read again for another change (a mailbox) then leaves the versions the ladder
    editor published since in force; a ladder the file changed (also back to an earlier definition) is published.

    Running escalations keep pointing at the version they were opened under.
    """
    definition = spec.model_dump(mode="json")
    digest = sha256_of(definition)
    ladder = await scope.objects(Ladder).where(Ladder.key == spec.key).first()
    if ladder is None:
        ladder = scope.new(Ladder, key=spec.key, name=spec.name)
        await ladder.save()
    elif ladder.name != spec.name:
        await scope.update(Ladder, {Ladder.name: spec.name}).where(Ladder.id == ladder.id)
    latest = await latest_version(scope, ladder)
    if latest is not None and latest.sha256 == digest:
        return Published(spec.key, latest.version, created=False)
    if keep_later_edits and latest is not None:
        last_same_source = await scope.select(LadderVersion, LadderVersion.sha256).where(
            (LadderVersion.ladder == ladder.id) & (LadderVersion.note == note)
        ).order_by(LadderVersion.version, ascending=False).first()  # fmt: skip
        if last_same_source is not None and last_same_source["sha256"] == digest:
            return Published(spec.key, latest.version, created=False)
    number = 1 if latest is None else latest.version + 1
    await scope.new(
        LadderVersion,
        ladder=ladder.id,
        version=number,
        definition=definition,
        sha256=digest,
        note=note,
        created_at=clock.now(),
    ).save()
    return Published(spec.key, number, created=True)


async def region_ladders(scope: RegionScope) -> list[dict]:
    """The region's ladders with their latest version number (two queries, whatever their number)."""
    return (await ladders_by_region(scope)).get(scope.region_id, [])


async def ladders_by_region(scope: RegionScope | RegionsScope) -> dict[UUID, list[dict]]:
    """The ladders of the scope's regions, by key, with their latest version number, per region: two queries
    whatever the number of regions and ladders (the list of regions shows them all)."""
    ladders = await scope.select(Ladder, Ladder.id, Ladder.region, Ladder.key, Ladder.name).order_by(Ladder.key)
    latest: dict = {}
    for row in await scope.select(LadderVersion, LadderVersion.ladder, LadderVersion.version):
        latest[row["ladder"]] = max(latest.get(row["ladder"], 0), row["version"])
    found: dict[UUID, list[dict]] = {}
    for ladder in ladders:
        ladder["version"] = latest.get(ladder.pop("id"), 0)  # the id is internal; the key names a ladder
        found.setdefault(ladder.pop("region"), []).append(ladder)
    return found


_SPECS: dict[tuple[str, str], LadderSpec] = {}
_SPECS_KEPT = 512


_VERSION_OF: dict[int, tuple[str, str]] = {}  # id() of a kept spec -> its key in _SPECS
_DIAGRAMS: dict[tuple[str, str, str | None, str], Diagram] = {}


def cached_spec(version_id: Any, sha256: str, definition: Any) -> LadderSpec:
    """The validated ladder of one version. A version is never changed once published (a change is a new version
    with its own id and sha256), so its spec is validated once per process and kept, keyed by both: every process
    reads the same immutable rows, so no process can hold a stale one (issue 20: each page validated every ladder
    version of the region again, the bulk of a page's Python time)."""
    key = (str(version_id), sha256)
    spec = _SPECS.get(key)
    if spec is None or not sha256:
        spec = LadderSpec.model_validate(definition)
        if len(_SPECS) >= _SPECS_KEPT:
            _SPECS.clear()
            _VERSION_OF.clear()
            _DIAGRAMS.clear()
        _SPECS[key] = spec
        _VERSION_OF[id(spec)] = key
    return spec


def cached_diagram(spec: LadderSpec, *, current: str | None = None, diagram_id: str = "ladder-diagram") -> Diagram:
    """``ladder_diagram``, drawn once per process for a published version (issue 20: the escalation page drew its
    ladder at every request): kept by the version's id and sha256, the current step and the diagram's id, like the
    spec, so two processes never disagree. A spec that is not a published version's (the editor's draft) is drawn
    each time. Templates call it as ``ladder_diagram``."""
    version = _VERSION_OF.get(id(spec))
    if version is None or _SPECS.get(version) is not spec:
        return ladder_diagram(spec, current=current, diagram_id=diagram_id)
    key = (*version, current, diagram_id)
    drawn = _DIAGRAMS.get(key)
    if drawn is None:
        if len(_DIAGRAMS) >= _SPECS_KEPT * 4:
            _DIAGRAMS.clear()
        drawn = _DIAGRAMS[key] = ladder_diagram(spec, current=current, diagram_id=diagram_id)
    return drawn


def kept_spec(version_id: Any, sha256: str) -> LadderSpec | None:
    """The spec of a version this process has validated already (``cached_spec``), or None: a caller that read only
    the version's id and sha256 reads its definition only when this says None."""
    return _SPECS.get((str(version_id), sha256)) if sha256 else None


def spec_of(version: LadderVersion) -> LadderSpec:
    return cached_spec(version.id, version.sha256, version.definition)
