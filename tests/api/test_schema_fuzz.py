"""schemathesis against the OpenAPI document (issue 21 point 3), in-process, logged in as a member of the
purchasing team of Zuid-Limburg (with the CSRF header, like the pages send it): for every operation, bounded
examples, valid and invalid, in the region of the account and in any other; no 5xx, every status documented,
every answer (problem details too) as the document says."""

from __future__ import annotations

import contextlib

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.accounts.support import csrf_headers

EXAMPLES = 6  # per operation, mode and region: about 500 requests, well under a minute on 2 cores
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _cases(operation, mode: GenerationMode, region: str | None) -> list:
    """Draw the examples first (hypothesis is synchronous), send them afterwards on the app's own loop."""
    found = []
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters={"region_slug": region} if region else None
    )

    @settings(max_examples=EXAMPLES, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def draw(case):
        found.append(case)

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no parameters): only valid examples
        draw()
    return found


async def test_the_api_answers_as_its_openapi_document_says(api):
    ilse = await api.as_("zl-inkoop")
    document = (await api.client().get("/api/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    sent, failures = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        regions = ["zuid-limburg", None] if "{region_slug}" in operation.path else [None]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for region in regions:
                for case in _cases(operation, mode, region):
                    kwargs = case.as_transport_kwargs(base_url="")
                    headers = {**(kwargs.pop("headers", None) or {}), **csrf_headers(ilse.http)}
                    kwargs.pop("url", None)
                    method = kwargs.pop("method")
                    response = await ilse.http.request(method, case.formatted_path, headers=headers,
                                                       **{k: v for k, v in kwargs.items() if k in (
                                                           "params", "json", "content", "data", "files")})  # fmt: skip
                    sent += 1
                    try:
                        case.validate_response(response, checks=CHECKS)
                    except Exception as exc:  # collect all, report together
                        failures.append(f"{method} {case.formatted_path} {kwargs.get('params')}: "
                                        f"{response.status_code} {str(exc)[:400]}")  # fmt: skip
    assert sent > 200
    assert not failures, "\n".join(failures[:20])
