"""The OpenAPI document tells the truth (issue 19): how to authenticate (the session cookie, the CSRF header on
unsafe methods), which errors each operation answers, what each operation does; errors are RFC 9457 problem
details with the Dutch reason in ``detail``."""

from __future__ import annotations

from tests.api.conftest import VLINDER_KVK

ZL = "/api/v1/regions/zuid-limburg"
UNSAFE = {"post", "put", "patch", "delete"}


async def _document(api) -> dict:
    response = await api.client().get("/api/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


async def test_the_document_names_the_session_cookie_and_the_csrf_header(api):
    document = await _document(api)
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie", "name": "trede_session"}
    assert schemes["csrf"] == {**schemes["csrf"], "type": "apiKey", "in": "header", "name": "X-CSRFToken"}
    public = {("/api/v1/regions", "get"), ("/api/v1/calendar/add", "get")}
    api_operations = [(p, m, o) for p, m, o in _operations(document) if p.startswith("/api/")]
    assert len(api_operations) >= 18
    for path, method, operation in api_operations:
        assert operation.get("description"), (method, path)
        if (path, method) in public:
            assert not operation.get("security"), (method, path)
            continue
        wanted = {"session": [], "csrf": []} if method in UNSAFE else {"session": []}
        assert operation.get("security") == [wanted], (method, path)
    for path, method, operation in _operations(document):
        assert operation.get("description"), (method, path)  # the health probes too


async def test_every_error_the_api_answers_is_documented_as_problem_details(api):
    document = await _document(api)
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    operations = {(path, method): op for path, method, op in _operations(document)}
    for (path, method), operation in operations.items():
        if not path.startswith("/api/v1/regions/") and not path.startswith("/api/v1/provider/"):
            continue
        statuses = set(operation["responses"])
        wanted = {"400", "401", "404"} | ({"403", "422"} if method in UNSAFE else set())
        assert wanted <= statuses, (method, path, statuses)
        for status in wanted:
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    transitions = operations[("/api/v1/regions/{region_slug}/escalations/{escalation_id}/transitions", "post")]
    assert {"200", "201", "409"} <= set(transitions["responses"])  # a replay answers 200; a moved state 409


async def test_errors_answer_as_problem_details_in_dutch(api):
    anonymous = api.client()
    no_session = await anonymous.get(f"{ZL}/escalations")
    assert no_session.status_code == 401
    assert no_session.headers["content-type"] == "application/problem+json"
    assert no_session.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Log in om verder te gaan.",
    }
    ilse = await api.as_("zl-inkoop")
    invalid = await ilse.get(f"{ZL}/escalations", limit=0, provider="xyz")
    body = invalid.json()
    assert invalid.status_code == 400 and invalid.headers["content-type"] == "application/problem+json"
    assert body["status"] == 400 and body["title"] == "Bad Request" and body["detail"] == "De invoer is ongeldig."
    assert {e["field"] for e in body["errors"]} == {"limit"}
    unknown_provider = await ilse.get(f"{ZL}/escalations", provider="xyz")
    assert unknown_provider.json()["errors"][0]["message"].startswith("Geef de aanbieder op")
    missing = await ilse.get(f"{ZL}/escalations/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["detail"] == "Niet gevonden."
    refused = await ilse.post(
        f"{ZL}/escalations",
        {"provider_kvk": VLINDER_KVK, "ladder": "bestaat-niet", "category": "x", "summary": "x", "motivation": "x"},
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "Deze regio heeft geen ladder 'bestaat-niet'."
    no_csrf = await ilse.http.post(f"{ZL}/escalations", json={})
    assert no_csrf.status_code == 403 and no_csrf.headers["content-type"] == "application/problem+json"
