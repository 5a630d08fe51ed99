"""The sweep's missed terms as a set: the terms whose ladder does nothing more when they are missed are claimed and
recorded together (one compare-and-set UPDATE, the events and audit entries in one insert each) instead of one
transaction of eight queries per deadline. Terms whose ladder acts (``on_missed``) go one by one through
``transitions.act_on_missed_deadline``, as before."""

from __future__ import annotations

from contextlib import suppress
from uuid import UUID

from piccolo.engine import engine_finder
from piccolo.query.methods.select import Max

from apps.escalations.context import SHARED
from apps.escalations.deadlines import MISSED, OPEN, DueDeadline, describe_with, refresh_next_due
from apps.escalations.tables import Deadline, Escalation, TimelineEvent
from apps.ladders.schema import LadderSpec, TermSpec
from apps.ladders.services import cached_spec
from apps.ladders.tables import LadderVersion
from core.actor import SYSTEM
from core.audit import audit_many
from core.clock import Clock
from core.tenancy import RegionScope
from core.transactions import write_transaction


def _term(spec: LadderSpec | None, step: str, key: str) -> TermSpec | None:
    if spec is None:
        return None
    with suppress(KeyError):
        return next((term for term in spec.step(step).terms if term.key == key), None)
    return None


class Ladders:
    """The ladder of each version, validated once per sweep (not once per deadline)."""

    def __init__(self) -> None:
        self._specs: dict[UUID, LadderSpec | None] = {}

    async def load(self, scope: RegionScope, version_ids: set[UUID]) -> dict[UUID, LadderSpec | None]:
        missing = [v for v in version_ids if v not in self._specs]
        if missing:
            for row in await scope.select(LadderVersion, LadderVersion.id, LadderVersion.definition,
                                          LadderVersion.sha256).where(LadderVersion.id.is_in(missing)):  # fmt: skip
                self._specs[row["id"]] = cached_spec(row["id"], row["sha256"], row["definition"])
        return {v: self._specs.get(v) for v in version_ids}


async def split_batch(scope: RegionScope, due: list[DueDeadline], ladders: Ladders) -> tuple[list[UUID], list[UUID]]:
    """(quiet, acting): the deadlines of one region whose missed term makes the ladder do nothing more, and those
    whose term has ``on_missed`` actions while the escalation is still in the term's step."""
    ids = [d.deadline_id for d in due]
    rows = await scope.select(
        Deadline, Deadline.id, Deadline.step, Deadline.key, Deadline.escalation.current_step,
        Deadline.escalation.ladder_version,
    ).where(Deadline.id.is_in(ids))  # fmt: skip
    specs = await ladders.load(scope, {row["escalation.ladder_version"] for row in rows})
    quiet, acting = [], []
    for row in rows:
        term = _term(specs[row["escalation.ladder_version"]], row["step"], row["key"])
        still_in_step = row["step"] == row["escalation.current_step"]
        (acting if term is not None and term.on_missed and still_in_step else quiet).append(row["id"])
    order = {deadline_id: n for n, deadline_id in enumerate(ids)}
    return sorted(quiet, key=order.get), sorted(acting, key=order.get)


async def claim_quiet_together(
    scope: RegionScope, deadline_ids: list[UUID], ladders: Ladders, clock: Clock, *, worker: str = "sweep"
) -> int:
    """Claim and record missed terms of one region as a set, in one write transaction: the escalations locked in id
    order, one compare-and-set UPDATE (only rows still open and due come back, so of racing workers each deadline
    goes to one), then every ``termijn_verlopen`` event (the next sequence of each escalation) and audit entry in
    one insert each. Returns how many were claimed. Only for ``split_batch``'s quiet ones: no ladder action runs."""
    if not deadline_ids:
        return 0
    async with write_transaction():
        now = clock.now()
        # read before the claim (what the events say: step, key, term, due moment); only the claimed are recorded
        found = await scope.objects(Deadline).where(Deadline.id.is_in(deadline_ids))
        escalation_ids = sorted({deadline.escalation for deadline in found}, key=str)
        if not escalation_ids:
            return 0
        locking = scope.select(Escalation, Escalation.id, Escalation.reference, Escalation.ladder_version).where(
            Escalation.id.is_in(escalation_ids)
        )  # fmt: skip
        if engine_finder().engine_type == "postgres":
            locking = locking.lock_rows()
        escalations = {row["id"]: row for row in await locking.order_by(Escalation.id)}
        claimed = await (
            scope.update(Deadline, {Deadline.status: MISSED, Deadline.ended_at: now, Deadline.claimed_by: worker[:80],
                                    Deadline.claimed_at: now, Deadline.remind_at: None})
            .where(Deadline.id.is_in(deadline_ids) & (Deadline.status == OPEN) & (Deadline.due_at <= now))
            .returning(Deadline.id)
        )  # fmt: skip
        if not claimed:
            return 0
        claimed_ids = {row["id"] for row in claimed}
        deadlines = [deadline for deadline in found if deadline.id in claimed_ids]
        last = {
            row["escalation"]: row["last"]
            for row in await scope.select(TimelineEvent, TimelineEvent.escalation,
                                          Max(TimelineEvent.sequence, alias="last"))
            .where(TimelineEvent.escalation.is_in(escalation_ids)).group_by(TimelineEvent.escalation)
        }  # fmt: skip
        specs = await ladders.load(scope, {row["ladder_version"] for row in escalations.values()})
        events, entries = [], []
        for deadline in sorted(deadlines, key=lambda d: (d.due_at, str(d.id))):
            escalation = escalations[deadline.escalation]
            info = describe_with(_term(specs[escalation["ladder_version"]], deadline.step, deadline.key), deadline)
            last[deadline.escalation] = (last.get(deadline.escalation) or 0) + 1
            events.append(scope.new(
                TimelineEvent, escalation=deadline.escalation, sequence=last[deadline.escalation],
                kind="termijn_verlopen", visibility=SHARED, actor=SYSTEM.user_id, actor_label=SYSTEM.label,
                occurred_at=now, motivation="", payload=info,
            ))  # fmt: skip
            entries.append({"action": "deadline.missed", "actor_id": SYSTEM.user_id,
                            "actor_label": SYSTEM.label, "target_type": "escalation",
                            "target_id": str(deadline.escalation),
                            "detail": {"referentie": escalation["reference"], **info}})  # fmt: skip
        await scope.insert(TimelineEvent, *events)
        await audit_many(scope, entries, clock)
        # the missed terms are no longer open: each escalation's next deadline moves on (one UPDATE for the set)
        await refresh_next_due(scope, sorted({d.escalation for d in deadlines}, key=str))
        return len(events)
