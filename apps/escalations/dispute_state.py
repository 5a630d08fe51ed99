"""Where a dispute about one case stands (seed 001 §2.3, a ladder with ``[dispute]``), read from its append-only
timeline: the parties' positions, the solution on the table in the current step (the lokale aanstuurder's decision,
the Zi2T's advice, or a party's proposal) with each party's answer to it (who, when, agreed or not), the
Geschillencommissie's subcommittee and the dispute files made. Every fact is a shared timeline event, so both
parties read the same.

The engine asks two questions of it (``transitions.transition_in_context``): may a party take this step
(``party_step_refusal``: only the next step of the route, "los op of schaal op"), and may anyone take the agreement
step (``agreement_refusal``: only once both parties agreed with the solution on the table).

This module imports no other step-engine module (context.py's error and the tables only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.escalations.tables import Escalation, TimelineEvent
from apps.ladders.schema import DisputeSpec, LadderSpec

PROVIDER = "aanbieder"
MUNICIPALITY = "gemeente"
PARTIES = (PROVIDER, MUNICIPALITY)
REGION = "regio"  # the region's team (Zi2T in West-Brabant West): advises, is no party

POSITION = "geschil_standpunt"
SOLUTION = "geschil_oplossing"
ANSWER = "geschil_akkoord"
SUBCOMMITTEE = "geschil_subcommissie"
FILE = "geschildossier"
KINDS = (POSITION, SOLUTION, ANSWER, SUBCOMMITTEE, FILE)
ENTERED = ("escalatie_geopend", "stap_gewijzigd")

# What a solution is called, by who puts it on the table in which step.
DECISION, ADVICE, PROPOSAL = "besluit", "advies", "voorstel"


@dataclass
class DisputeState:
    spec: DisputeSpec
    current_step: str
    positions: dict[str, Any] = field(default_factory=dict)  # party -> its latest position event
    solution: Any = None  # the latest solution event in the current step, or None
    answers: dict[str, Any] = field(default_factory=dict)  # party -> its latest answer event to that solution
    subcommittee: str = ""  # key of DisputeSpec.subcommittees, "" while none was chosen
    files: list[Any] = field(default_factory=list)  # dispute-file events, newest first

    @property
    def agreed(self) -> bool:
        """Both parties agreed with the solution on the table (the step counts as agreed)."""
        return self.solution is not None and all(_agrees(self.answers.get(party)) for party in PARTIES)

    @property
    def in_route(self) -> bool:
        return self.current_step in self.spec.route

    def next_step(self) -> str | None:
        """The step either party may take now ("schaal op"), or None at the route's end."""
        if not self.in_route:
            return None
        index = self.spec.route.index(self.current_step)
        return self.spec.route[index + 1] if index + 1 < len(self.spec.route) else None

    def solution_kind(self) -> str:
        """What a solution in the current step is: the municipality's decision, the region's advice, or a proposal."""
        if self.current_step == self.spec.decision_step:
            return DECISION
        if self.current_step == self.spec.advice_step:
            return ADVICE
        return PROPOSAL

    def may_put_solution(self, side: str) -> bool:
        """Who may put a solution on the table in the current step: the municipality decides step 2, the region's
        team advises in step 3, either party proposes in the other steps of the route."""
        if not self.in_route:
            return False
        kind = self.solution_kind()
        if kind == DECISION:
            return side == MUNICIPALITY
        if kind == ADVICE:
            return side == REGION
        return side in PARTIES


def dispute_of(spec: LadderSpec) -> DisputeSpec | None:
    return spec.dispute if spec.case is not None else None


async def load_state(scope: Any, escalation: Escalation, spec: DisputeSpec) -> DisputeState:
    """The dispute's state from its timeline, in one query (any scope that reads the escalation's shared events)."""
    rows = (
        await scope.objects(TimelineEvent)
        .where((TimelineEvent.escalation == escalation.id) & TimelineEvent.kind.is_in([*KINDS, *ENTERED]))
        .order_by(TimelineEvent.sequence)
    )
    return state_from_events(spec, escalation.current_step, rows)


def state_from_events(spec: DisputeSpec, current_step: str, rows: list[Any]) -> DisputeState:
    state = DisputeState(spec=spec, current_step=current_step)
    entered_at = 0
    for row in rows:  # oldest first
        payload = row.payload or {}
        if row.kind in ENTERED and (payload.get("naar") or payload.get("stap")) == current_step:
            entered_at = row.sequence
        elif row.kind == POSITION and payload.get("partij") in PARTIES:
            state.positions[payload["partij"]] = row
        elif row.kind == SUBCOMMITTEE and payload.get("subcommissie") in spec.subcommittees:
            state.subcommittee = payload["subcommissie"]
        elif row.kind == FILE:
            state.files.insert(0, row)
    for row in rows:
        payload = row.payload or {}
        if row.kind == SOLUTION and payload.get("stap") == current_step and row.sequence > entered_at:
            state.solution, state.answers = row, {}
        elif row.kind == ANSWER and state.solution is not None and payload.get("oplossing") == state.solution.sequence:
            state.answers[payload.get("partij")] = row
    return state


def party_step_refusal(spec: LadderSpec, current: str, target: str) -> str | None:
    """Why a party may not take ``target`` from ``current`` (Dutch), or None: a party takes only the next step of the
    dispute route; the agreement and every other step are the region team's (after both parties agreed)."""
    dispute = dispute_of(spec)
    if dispute is None:
        return "Alleen het team inkoop mag een stap zetten in deze escalatie."
    if current in dispute.route and dispute.route.index(current) + 1 < len(dispute.route):
        following = dispute.route[dispute.route.index(current) + 1]
        if target == following:
            return None
    return "U kunt alleen opschalen naar de volgende stap van de geschillenroute."


async def agreement_refusal(scope: Any, escalation: Escalation, spec: LadderSpec, target: str) -> str | None:
    """Why the agreement step may not be taken now (Dutch), or None: in the dispute route it counts only when both
    parties agreed with the solution on the table (seed 001: "Zowel lokale aanstuurder als jeugdhulpaanbieder moeten
    akkoord zijn met deze oplossing")."""
    dispute = dispute_of(spec)
    if dispute is None or target != dispute.agreement_step or escalation.current_step not in dispute.route:
        return None
    state = await load_state(scope, escalation, dispute)
    if state.agreed:
        return None
    if state.solution is None:
        return ("Overeenstemming kan pas als er een oplossing op tafel ligt en beide partijen daarmee akkoord zijn; "
                "in deze stap is nog geen oplossing vastgelegd.")  # fmt: skip
    missing = [PARTY_NL[p] for p in PARTIES if not _agrees(state.answers.get(p))]
    return ("Overeenstemming kan pas als beide partijen akkoord zijn met de oplossing; nog niet akkoord: "
            f"{', '.join(missing)}.")  # fmt: skip


def _agrees(answer: Any) -> bool:
    return answer is not None and (answer.payload or {}).get("akkoord") is True


PARTY_NL = {PROVIDER: "de aanbieder", MUNICIPALITY: "de gemeente", REGION: "het team inkoop"}
