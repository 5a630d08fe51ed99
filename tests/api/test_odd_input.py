"""No 500 for odd input (issue 21 point 3): a NUL byte in any filter or search parameter, or in the path, and
integers beyond what the database holds, answer 400 with a Dutch reason: the error page for pages, problem
details under /api/. PostgreSQL refuses NUL in text (the 500 this guards against); run with TEST_DATABASE_URL."""

from __future__ import annotations

import pytest

from tests.api.conftest import VLINDER_KVK
from tests.letter_fields import opening

NUL = "a\x00b"
HUGE = str(10**20)
ZL = "/regio/zuid-limburg"
API = "/api/v1/regions/zuid-limburg"

OVERVIEW = ("stap", "categorie", "aanbieder", "status", "zoek", "sorteer", "pagina", "verlopen")
AUDIT = ("van", "tot", "door", "actie", "doel", "na")


@pytest.fixture(scope="module")
async def escalation(api) -> str:
    ilse = await api.as_("zl-inkoop")
    body = {"provider_kvk": VLINDER_KVK, "ladder": "kwaliteit", "category": "niet_veiligheid",
            "summary": "Rapportage ontbreekt.", "motivation": "Signaal.",
            "letter_fields": opening("niet_veiligheid")}  # fmt: skip
    return (await ilse.done(f"{API}/escalations", body, 201))["id"]


def page_cases(escalation: str) -> list[tuple[str, str, str]]:
    """(account, path, parameter) for every parameter the pages read from the query string."""
    cases = [("zl-lead", f"{ZL}/escalaties/", name) for name in OVERVIEW]
    cases += [("zl-lead", f"{ZL}/escalaties/export.csv", name) for name in OVERVIEW]
    cases += [("zl-lead", f"{ZL}/escalaties/{escalation}", name) for name in ("voor", "melding")]
    cases += [("zl-lead", f"{ZL}/escalaties/{escalation}/tijdlijn", name) for name in ("na", "voor")]
    cases += [("zl-lead", f"{ZL}/audit/", name) for name in AUDIT]
    cases += [("zl-lead", f"{ZL}/audit/export.csv", name) for name in AUDIT if name != "na"]
    cases += [("beheer", "/beheer/audit/", name) for name in (*AUDIT, "regio")]
    cases += [("beheer", "/beheer/audit/export.csv", name) for name in (*AUDIT[:-1], "regio")]
    cases += [("zl-lead", f"{ZL}/kwaliteit/export.csv", name) for name in ("indicator", "periode")]
    cases += [("zl-lead", f"{ZL}/kwaliteit/indicatoren/wachttijd", name) for name in ("periode", "aanbieder")]
    cases += [("zl-lead", f"{ZL}/signalen/", "toon"), ("zl-lead", f"{ZL}/meldingen/", "status")]
    cases += [("beheer", "/beheer/meldingen/", "status"), ("beheer", "/beheer/regios/", "melding")]
    cases += [("zl-lead", f"{ZL}/ladders/kwaliteit", "gepubliceerd")]
    cases += [("vlinder-medewerker", "/portaal/kwaliteit/aanleveren", name) for name in ("regio", "periode")]
    return cases


async def test_a_nul_byte_in_any_page_parameter_is_a_dutch_400(api, escalation):
    for account, path, name in page_cases(escalation):
        http = (await api.as_(account)).http
        response = await http.get(path, params={name: NUL}, headers={"accept": "text/html"})
        assert response.status_code == 400, (account, path, name, response.status_code, response.text[:300])
        assert "ongeldig teken" in response.text and "<html" in response.text.lower(), (path, name)
    lead = (await api.as_("zl-lead")).http
    in_path = await lead.get("/regio/zuid-limburg%00/escalaties/", headers={"accept": "text/html"})
    assert in_path.status_code == 400 and "ongeldig teken" in in_path.text


async def test_a_nul_byte_in_any_api_parameter_is_problem_details(api, escalation):
    ilse = await api.as_("zl-inkoop")
    cases = [(f"{API}/escalations", name) for name in ("step", "status", "category", "provider")]
    cases += [(f"{API}/escalations/{escalation}/timeline", "before"), ("/api/v1/calendar/add", "term"),
              ("/api/v1/calendar/add", "region"), (f"{API}/ladders/kwaliteit", "x")]  # fmt: skip
    for path, name in cases:
        params = {"from": "2026-03-02", "term": "10 werkdagen"} if "calendar" in path else {}
        response = await ilse.get(path, **{**params, name: NUL})
        assert response.status_code == 400, (path, name, response.status_code, response.text[:300])
        assert response.headers["content-type"] == "application/problem+json"
        assert "ongeldig teken" in response.json()["detail"], (path, name)
    provider = await api.as_("vlinder-medewerker")
    response = await provider.get("/api/v1/provider/escalations", status=NUL)
    assert response.status_code == 400 and response.json()["status"] == 400


async def test_numbers_beyond_the_database_are_a_dutch_400(api, escalation):
    lead = (await api.as_("zl-lead")).http
    for path, name in (
        (f"{ZL}/escalaties/{escalation}/tijdlijn", "na"),
        (f"{ZL}/escalaties/{escalation}/tijdlijn", "voor"),
        (f"{ZL}/escalaties/{escalation}", "voor"),
    ):
        response = await lead.get(path, params={name: HUGE}, headers={"accept": "text/html"})
        assert response.status_code == 400, (path, name, response.status_code, response.text[:300])
        assert f"De parameter {name} moet een geheel getal van 0 tot en met 2147483647 zijn" in response.text
    # A cursor that is not Trede's (the audit log pages by keyset) shows the first page.
    audit = await lead.get(f"{ZL}/audit/", params={"na": HUGE}, headers={"accept": "text/html"})
    assert audit.status_code == 200 and "Auditlog" in audit.text
    # The largest sequence still answers (an empty page), one more is refused.
    fine = await lead.get(f"{ZL}/escalaties/{escalation}/tijdlijn", params={"voor": "2147483647"})
    assert fine.status_code == 200
    ilse = await api.as_("zl-inkoop")
    for name, value in (("before", HUGE), ("after", HUGE)):
        path = f"{API}/escalations/{escalation}/timeline" if name == "before" else f"{API}/escalations"
        response = await ilse.get(path, **{name: value})
        assert response.status_code == 400, (name, response.text[:300])
        assert [e["field"] for e in response.json()["errors"]] == [name]
    assert (await ilse.get(f"{API}/escalations/{escalation}/timeline", before="2147483647")).status_code == 200
