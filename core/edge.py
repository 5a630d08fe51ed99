"""Input checked at the edge, before a guard or handler hands it to the database.

PostgreSQL refuses a NUL byte in text and integers beyond its column types; unchecked, either is a 500 (and a
cut CSV stream). So: one app-wide guard refuses a NUL byte in the path or in any query parameter, and the integer
parameters are typed with an upper bound (``Sequence``, ``PageNumber`` for Litestar's parameters,
``int_query`` for the pages that read the query string themselves). All answer 400 with a Dutch reason: a
problem details answer under /api/, the error page elsewhere (``core.app.http_error``).
"""

from __future__ import annotations

from typing import Annotated

from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_400_BAD_REQUEST

INT4_MAX = 2**31 - 1  # PostgreSQL's integer: timeline sequences
MAX_PAGE = 100_000  # page numbers (an offset of MAX_PAGE pages still fits a bigint)


class BadInput(HTTPException):
    """Input Trede cannot use: 400 with the Dutch reason in ``detail``."""

    status_code = HTTP_400_BAD_REQUEST


NUL_REASON = "Het adres bevat een ongeldig teken (een NUL-teken). Pas de zoekterm of het filter aan."


async def refuse_odd_input(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """App-wide guard, before the others (which read path parameters from the database)."""
    if "\x00" in connection.scope["path"]:
        raise BadInput(NUL_REASON)
    for name, value in connection.query_params.multi_items():
        if "\x00" in name or "\x00" in str(value):
            raise BadInput(NUL_REASON)


def int_query(query, name: str, *, maximum: int = INT4_MAX) -> int | None:
    """A whole number 0..maximum from the query string; None when absent or empty; else 400 in Dutch."""
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > maximum:
        raise BadInput(f"De parameter {name} moet een geheel getal van 0 tot en met {maximum} zijn.")
    return int(raw)


Sequence = Annotated[
    int | None, QueryParameter(ge=1, le=INT4_MAX, description="sequence number: the events before this one")
]
PageNumber = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="page, from 1")]
