"""The sweep's missed terms as a set: the terms whose ladder does nothing more when they are missed are claimed and
recorded together (one compare-and-set UPDATE, the events and audit entries in one insert each) instead of one
transaction of eight queries per deadline. Terms whose ladder acts (``on_missed``) go one by one through
``transitions.act_on_missed_deadline``, as before.

Set-based throughout (issue 20: the sweep spent most of its time building two row objects per deadline): the rows
are read as plain values, the claim's UPDATE returns what the events say, and the events and audit entries are
inserted from plain values (``RegionScope.insert_values``). A missed term only records that it passed: what the
ladder does about it (proposing a step, a letter, a measure for a person to decide) is the acting path's."""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass
from types import SimpleNamespace
from uuid import UUID

from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from apps.escalations.context import SHARED
from apps.escalations.deadlines import MISSED, OPEN, DueDeadline, describe_with, refresh_next_due
from apps.escalations.tables import Deadline, Escalation, TimelineEvent
from apps.ladders.schema import LadderSpec, TermSpec
from apps.ladders.services import cached_spec, kept_spec
from apps.ladders.tables import LadderVersion
from core.actor import SYSTEM
from core.audit import audit_many
from core.clock import Clock
from core.tenancy import RegionScope, RegionsScope
from core.transactions import write_transaction

# the escalation's last sequence number, read with its lock: the set's events follow it
LAST_SEQUENCE = QueryString(
    "(SELECT MAX(t.sequence) FROM timeline_event t WHERE t.escalation = escalation.id) AS last_sequence"
)


def _term(spec: LadderSpec | None, step: str, key: str) -> TermSpec | None:
    if spec is None:
        return None
    with suppress(KeyError):
        return next((term for term in spec.step(step).terms if term.key == key), None)
    return None


class Ladders:
    """The ladder of each version for one sweep: the process's validated specs (kept by version id and sha256,
    ``apps.ladders.services.cached_spec``); a version's definition is read only when this process has not
    validated it yet."""

    def __init__(self) -> None:
        self._specs: dict[UUID, LadderSpec | None] = {}

    async def load(self, scope: RegionScope | RegionsScope, versions: dict[UUID, str]) -> dict[UUID, LadderSpec | None]:
        """``versions``: version id -> sha256 (as read with the rows)."""
        for version_id, sha256 in versions.items():
            if version_id not in self._specs and (spec := kept_spec(version_id, sha256)) is not None:
                self._specs[version_id] = spec
        missing = [version_id for version_id in versions if version_id not in self._specs]
        if missing:
            for row in await scope.select(LadderVersion, LadderVersion.id, LadderVersion.definition,
                                          LadderVersion.sha256).where(LadderVersion.id.is_in(missing)):  # fmt: skip
                self._specs[row["id"]] = cached_spec(row["id"], row["sha256"], row["definition"])
        return {version_id: self._specs.get(version_id) for version_id in versions}


@dataclass(frozen=True)
class MissedTerm:
    """A due deadline whose ladder does nothing more when it is missed, with what its set needs of its escalation
    (read by ``split_batch``; an escalation's reference and ladder version never change)."""

    deadline_id: UUID
    escalation_id: UUID
    reference: str
    ladder_version: UUID
    sha256: str


async def split_batch(due: list[DueDeadline], ladders: Ladders) -> dict[UUID, tuple[list[MissedTerm], list[UUID]]]:
    """Per region of a batch of due deadlines (one query across the regions): (quiet, acting), the deadlines whose
    missed term makes the ladder do nothing more, and those whose term has ``on_missed`` actions while the
    escalation is still in the term's step; each in the batch's due order."""
    if not due:
        return {}
    ids = [d.deadline_id for d in due]
    regions = RegionsScope({d.region_id for d in due})
    rows = await regions.select(
        Deadline, Deadline.id, Deadline.region, Deadline.step, Deadline.key, Deadline.escalation,
        Deadline.escalation.current_step, Deadline.escalation.reference, Deadline.escalation.ladder_version,
        Deadline.escalation.ladder_version.sha256.as_alias("sha256"),
    ).where(Deadline.id.is_in(ids))  # fmt: skip
    specs = await ladders.load(regions, {row["escalation.ladder_version"]: row["sha256"] for row in rows})
    order = {deadline_id: n for n, deadline_id in enumerate(ids)}
    split: dict[UUID, tuple[list[MissedTerm], list[UUID]]] = defaultdict(lambda: ([], []))
    for row in sorted(rows, key=lambda row: order[row["id"]]):
        quiet, acting = split[UUID(str(row["region"]))]
        term = _term(specs[row["escalation.ladder_version"]], row["step"], row["key"])
        if term is not None and term.on_missed and row["step"] == row["escalation.current_step"]:
            acting.append(row["id"])
        else:
            quiet.append(MissedTerm(row["id"], row["escalation"], row["escalation.reference"],
                                    row["escalation.ladder_version"], row["sha256"]))  # fmt: skip
    return dict(split)


async def claim_quiet_together(
    scope: RegionScope, terms: list[MissedTerm], ladders: Ladders, clock: Clock, *, worker: str = "sweep"
) -> int:
    """Claim and record missed terms of one region as a set, in one write transaction of five statements: the
    escalations locked in id order (with their last sequence number), one compare-and-set UPDATE that returns the
    deadlines it claimed (only rows still open and due come back, so of racing workers each deadline goes to one),
    then every ``termijn_verlopen`` event (the next sequences of each escalation) and audit entry in one insert
    each, and the escalations' next deadline in one UPDATE. Returns how many were claimed. Only for
    ``split_batch``'s quiet ones: no ladder action runs."""
    if not terms:
        return 0
    of_escalation = {term.escalation_id: term for term in terms}
    async with write_transaction():
        now = clock.now()
        locking = scope.select(Escalation, Escalation.id, LAST_SEQUENCE).where(
            Escalation.id.is_in(sorted(of_escalation, key=str))
        ).order_by(Escalation.id)  # fmt: skip
        if engine_finder().engine_type == "postgres":
            locking = locking.lock_rows()
        last = {row["id"]: row["last_sequence"] or 0 for row in await locking}
        if not last:
            return 0
        claimed = await (
            scope.update(Deadline, {Deadline.status: MISSED, Deadline.ended_at: now, Deadline.claimed_by: worker[:80],
                                    Deadline.claimed_at: now, Deadline.remind_at: None})
            .where(Deadline.id.is_in([term.deadline_id for term in terms]) & Deadline.escalation.is_in(list(last))
                   & (Deadline.status == OPEN) & (Deadline.due_at <= now))
            .returning(Deadline.id, Deadline.escalation, Deadline.step, Deadline.key, Deadline.term, Deadline.due_at)
        )  # fmt: skip
        if not claimed:
            return 0
        specs = await ladders.load(scope, {term.ladder_version: term.sha256 for term in terms})
        events, entries = [], []
        for deadline in sorted((SimpleNamespace(**row) for row in claimed), key=lambda d: (d.due_at, str(d.id))):
            escalation = of_escalation[deadline.escalation]
            info = describe_with(_term(specs[escalation.ladder_version], deadline.step, deadline.key), deadline)
            last[deadline.escalation] += 1
            events.append({"escalation": deadline.escalation, "sequence": last[deadline.escalation],
                           "kind": "termijn_verlopen", "visibility": SHARED, "actor": SYSTEM.user_id,
                           "actor_label": SYSTEM.label, "occurred_at": now, "motivation": "", "payload": info})
            entries.append({"action": "deadline.missed", "actor_id": SYSTEM.user_id,
                            "actor_label": SYSTEM.label, "target_type": "escalation",
                            "target_id": str(deadline.escalation),
                            "detail": {"referentie": escalation.reference, **info}})  # fmt: skip
        await scope.insert_values(TimelineEvent, events)
        await audit_many(scope, entries, clock)
        # the missed terms are no longer open: each escalation's next deadline moves on (one UPDATE for the set)
        await refresh_next_due(scope, sorted({row["escalation"] for row in claimed}, key=str))
        return len(events)
