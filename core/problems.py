"""Errors of the JSON API as RFC 9457 problem details, and how the OpenAPI document describes them.

Every error under ``/api/`` answers ``application/problem+json`` with ``type`` (``about:blank``: the status says
it all), ``title`` (the HTTP status phrase), ``status`` and ``detail`` (the Dutch reason a person can act on);
invalid input adds ``errors``, one entry per field. Litestar's ``ProblemDetailsException`` builds the answer.

The statuses, as the API uses them: 400 input that is malformed (a field, query or path parameter); 401 no
session; 403 a member who may read but not write, or a missing/wrong CSRF token; 404 unknown or not yours
(never "exists but forbidden"); 409 the state changed or does not allow it any more (already suspended, closed,
changed meanwhile, the request was already handled for another step); 422 well-formed, but the rules refuse
it (no motivation, a step that does not follow, a measure without a lead).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.problem_details import ProblemDetailsException
from pydantic import BaseModel, Field

PROBLEM_JSON = "application/problem+json"
SESSION_COOKIE = "trede_session"
CSRF_HEADER = "X-CSRFToken"
CSRF_COOKIE = "csrftoken"


def problem(request: Request, status: int, detail: str, *, errors: list[dict] | None = None,
            headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    """The problem details answer for ``status`` with the Dutch ``detail``."""
    extra: dict[str, Any] | None = {"errors": errors} if errors is not None else None
    exc = ProblemDetailsException(detail=detail, status_code=status, headers=headers, extra=extra,
                                  type_="about:blank", title=HTTPStatus(status).phrase)  # fmt: skip
    return exc.to_response(request)


# --- the OpenAPI document -----------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str | None = Field(default=None, description="the parameter or body field")
    source: str | None = Field(default=None, description="body, query, path or header")
    message: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details; ``detail`` is the Dutch reason."""

    type: str = Field(description="always about:blank: the status code is the problem type")
    title: str = Field(description="the HTTP status phrase")
    status: int
    detail: str = Field(description="what went wrong, in Dutch")
    errors: list[FieldError] | None = Field(default=None, description="invalid input: one entry per field")


WHY = {
    400: "Ongeldige invoer: een veld, query- of padparameter klopt niet (errors noemt elk veld).",
    401: "Niet ingelogd: geen geldige sessie (cookie trede_session).",
    403: "Geweigerd: alleen het team inkoop mag schrijven, of het CSRF-token (X-CSRFToken) ontbreekt of klopt niet.",
    404: "Niet gevonden, of niet van u: onbekende regio, escalatie, termijn of ladder.",
    409: "Conflict: de toestand staat dit niet (meer) toe, bijvoorbeeld al opgeschort, afgesloten of intussen "
    "gewijzigd.",
    422: "Geweigerd door de regels: de aanvraag is goed gevormd, maar mag zo niet (reden in detail).",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The error answers a route gives, for its ``responses=``."""
    return {
        status: ResponseSpec(
            data_container=Problem, description=WHY[status], media_type=PROBLEM_JSON, generate_examples=False
        )  # fmt: skip
        for status in statuses
    }


# Reading routes: 400/401/404; writing routes add 403 (role, CSRF), 409 and 422.
READ_ERRORS = problems(400, 401, 404)
WRITE_ERRORS = problems(400, 401, 403, 404, 409, 422)

SESSION = "session"
CSRF = "csrf"
COMPONENTS = Components(
    security_schemes={
        SESSION: SecurityScheme(
            type="apiKey",
            name=SESSION_COOKIE,
            security_scheme_in="cookie",
            description="The session cookie Trede sets after logging in through OpenID Connect (/auth/login).",
        ),
        CSRF: SecurityScheme(
            type="apiKey",
            name=CSRF_HEADER,
            security_scheme_in="header",
            description=f"Unsafe methods (POST, PUT, PATCH, DELETE) send the value of the {CSRF_COOKIE} cookie "
            f"in this header; without it, or with another value, the answer is 403.",
        ),
    }
)
READS = [{SESSION: []}]
WRITES = [{SESSION: [], CSRF: []}]
