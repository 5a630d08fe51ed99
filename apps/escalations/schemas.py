"""Shapes of the JSON API (``/api/v1``): request bodies, error answers, and the dicts the controllers return.

Request bodies check types and lengths only; the rules (a motivation is required, a step must follow the
current one, only a lead imposes measures ...) are the services', which answer in Dutch (``EscalationError``).
Error answers are RFC 9457 problem details everywhere (``core.problems``): ``type``, ``title``, ``status`` and
the Dutch ``detail``; invalid input adds ``errors``, one entry per field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY
from pydantic import BaseModel, ConfigDict, Field

from apps.escalations.context import MEASURE_LABELS, EscalationConflict, EscalationError
from apps.escalations.deadlines import OPEN, STATUS_NL, WAITING, local_date, waiting_for
from apps.escalations.letter_fields import LetterFieldsError
from apps.escalations.tables import Deadline, TimelineEvent
from apps.ladders.schema import LadderSpec
from apps.ladders.terms import TermError
from core.problems import problem

MAX_MOTIVATION = 10_000


# --- request bodies ----------------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OpenEscalation(_Body):
    """Open an escalation on the latest version of one of the region's ladders."""

    provider_kvk: str = Field(pattern=r"^\d{8}$", description="KvK number of the provider (8 digits)")
    ladder: str = Field(min_length=1, max_length=64, description="ladder key, e.g. 'kwaliteit'")
    category: str = Field(min_length=1, max_length=40)
    subcategory: str = Field(default="", max_length=60)
    summary: str = Field(min_length=1, max_length=2_000)
    motivation: str = Field(default="", max_length=MAX_MOTIVATION)
    # A dispute about one case (a ladder with [case], e.g. West-Brabant West's 'toewijzing'): required there,
    # refused elsewhere. The discussion point is the subcategory.
    municipality: str = Field(default="", max_length=40, description="case ladders: CBS code of the municipality "
                              "(one of the region's today), e.g. 'GM1674'")  # fmt: skip
    case_reference: str = Field(default="", max_length=40, description="case ladders: the access team's "
                                "pseudonymous case reference, never a BSN or a name (422)")  # fmt: skip
    professionals: str = Field(default="", max_length=300, description="case ladders: the professionals involved, "
                               "one line")  # fmt: skip
    letter_fields: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description="the fields of the letters the start step sends, by field key (the start step's "
        "letter_fields in the ladder's allowed steps; e.g. {\"tekortkoming\": \"…\"} for a request for a plan of "
        "action); required where the letter has them (400 with one entry per field). The summary is the team's "
        "own note and is never printed in a letter",
    )


class Transition(_Body):
    """Move to a step of the escalation's own ladder version."""

    to_step: str = Field(min_length=1, max_length=64)
    motivation: str = Field(default="", max_length=MAX_MOTIVATION)
    legal_exception: str | None = Field(
        default=None,
        max_length=64,
        description="a BW 6:83 ground recorded instead of a step's precondition, where the ladder allows it: "
        "fatale_termijn, nakoming_blijvend_onmogelijk, weigering_nakoming",
    )
    terms: dict[str, str] = Field(
        default_factory=dict,
        max_length=10,
        description="the terms the decider sets instead of the ladder's, by term key, e.g. {\"herstel_na_"
        'ingebrekestelling": "6 weken"}: a length, for a term counted from entering the step; the deadline counts '
        "from it and the letter prints it",
    )
    letter_fields: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description="the fields of the kind of the step's letter, by field key (apps/ladders/letter_kinds.py), e.g. "
        '{"bedrag": "12.500,00", "periode": "1e helft 2026", "rente_en_kosten": "ja", "betaaltermijn": "30 dagen"}; '
        "required for a step whose letter has a kind (400 with one entry per field when one is missing or wrong); "
        "the letter prints them",
    )
    receipt_motivation: str = Field(
        default="",
        max_length=MAX_MOTIVATION,
        description="BW 3:37 lid 3: why the notice a step rests on counts as received, when it went by registered post "
        "or by hand and its receipt is not recorded (the step's receipt_unconfirmed in allowed_next_steps says so; "
        "without it 422); e.g. that the provider did not collect the registered letter. Stored with the decision; "
        "not needed (and not stored) once the receipt is recorded",
    )
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=100, description="or the Idempotency-Key header"
    )
    sending_method: Literal["portaal", "aangetekend", "hand"] = Field(
        default="portaal",
        description="how the step's letters go: portaal (portal and e-mail), aangetekend (registered post, also in "
        "the portal) or hand (handed over, also in the portal)",
    )


class Close(_Body):
    outcome: str = Field(max_length=60, description="e.g. 'ingetrokken'")
    motivation: str = Field(default="", max_length=MAX_MOTIVATION)


class Suspend(_Body):
    reason: str = Field(default="", max_length=MAX_MOTIVATION)


class Resume(_Body):
    motivation: str = Field(default="", max_length=MAX_MOTIVATION)


class Extend(_Body):
    """Either ``new_term`` (counted from the deadline's start, e.g. "6 weken") or ``days`` (calendar days)."""

    reason: str = Field(default="", max_length=MAX_MOTIVATION)
    new_term: str | None = Field(default=None, max_length=40)
    days: int | None = Field(default=None, ge=1, le=3_650)


# --- error answers (RFC 9457 problem details, core/problems.py) ---------------------------------------------


def refused(request: Request, exc: EscalationError) -> Response:
    """A request the rules refuse: 422 with the service's Dutch message; 409 when the state is the reason."""
    status = HTTP_409_CONFLICT if isinstance(exc, EscalationConflict) else HTTP_422_UNPROCESSABLE_ENTITY
    return problem(request, status, str(exc))


def invalid(request: Request, exc: ValidationException) -> Response:
    """Malformed input (body, query or path): 400 with one entry per field."""
    errors = [
        {"field": item.get("key"), "source": item.get("source"), "message": item.get("message")}
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    return problem(request, HTTP_400_BAD_REQUEST, "De invoer is ongeldig.", errors=errors)


def bad_term(request: Request, exc: TermError) -> Response:
    detail = f"Dit is geen termijn ({exc})."
    return problem(request, HTTP_400_BAD_REQUEST, detail, errors=[{"field": "term", "message": str(exc)}])


def bad_letter_fields(request: Request, exc: LetterFieldsError) -> Response:
    """A letter's field missing or wrong: 400 with the Dutch reason and one entry per field."""
    errors = [{"field": f"letter_fields.{key}", "message": message} for key, message in exc.errors.items()]
    return problem(request, HTTP_400_BAD_REQUEST, str(exc), errors=errors)


API_ERRORS = {
    LetterFieldsError: bad_letter_fields,
    EscalationError: refused,
    ValidationException: invalid,
    TermError: bad_term,
}


# --- shaping rows ----------------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def term_title(spec: LadderSpec | None, step: str, key: str) -> str:
    if spec is not None:
        try:
            found = next((t for t in spec.step(step).terms if t.key == key), None)
        except KeyError:
            found = None
        if found is not None and found.title:
            return found.title
    return key


def deadline_out(row: Deadline, spec: LadderSpec | None, now: datetime) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "step": row.step,
        "key": row.key,
        "title": term_title(spec, row.step, row.key),
        "term": row.term,
        "status": row.status,
        "status_nl": STATUS_NL.get(row.status, row.status),
        "met_by": row.met_by,
        "starts_at": iso(row.starts_at),
        "due_at": iso(row.due_at),
        "due_date": local_date(row.due_at).isoformat() if row.due_at else None,
        "starts": row.starts,
        "waiting_for": waiting_for(row.starts) if row.status == WAITING else None,
        "reasons": list(row.reasons or []),
        "overdue": row.status == OPEN and row.due_at is not None and row.due_at <= now,
        "remind_at": iso(row.remind_at),
        "suspended_at": iso(row.suspended_at),
        "met_at": iso(row.met_at),
        "ended_at": iso(row.ended_at),
    }


def event_out(row: TimelineEvent) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "sequence": row.sequence,
        "kind": row.kind,
        "internal": row.visibility != "shared",
        "visibility": row.visibility,
        "occurred_at": iso(row.occurred_at),
        "actor": row.actor_label,
        "motivation": row.motivation,
        "payload": row.payload or {},
    }


def measure_label(kind: str) -> str:
    return MEASURE_LABELS.get(kind, kind)
