"""Operations: every response carries a request id, logs are JSON lines with request id and region, and
/metrics serves request metrics and Trede's gauges."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from apps.escalations.tables import Deadline, Escalation
from apps.ladders.tables import LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.app import create_app
from core.clock import system_clock
from core.logs import ContextFilter, configure_logging, set_region
from core.observability import refresh_domain_metrics, stored_figures
from core.settings import load_settings
from core.tenancy import RegionScope
from tests.support import make_settings_env


async def test_request_ids_are_echoed_or_made(client):
    given = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/health/live", headers={"X-Request-ID": "<script>"})
    assert len(made.headers["x-request-id"]) == 32 and made.headers["x-request-id"] != "<script>"


async def test_log_lines_are_json_with_request_id_and_region(client):
    configure_logging(json_logs=True)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    ours = next(h for h in logging.getLogger().handlers if getattr(h, "_trede", False))
    handler.setFormatter(ours.formatter)
    logging.getLogger("trede.access").addHandler(handler)
    try:
        await client.get("/health/live", headers={"X-Request-ID": "req-42"})
        set_region("zuid-limburg")
        logging.getLogger("trede.test").addHandler(handler)
        logging.getLogger("trede.test").warning("signaal ontvangen")
    finally:
        logging.getLogger("trede.access").removeHandler(handler)
        logging.getLogger("trede.test").removeHandler(handler)
        configure_logging(json_logs=False)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    access = next(line for line in lines if line["logger"] == "trede.access")
    assert access["request_id"] == "req-42"
    assert access["path"] == "/health/live" and access["status"] == 200 and "duration_ms" in access
    mine = next(line for line in lines if line["logger"] == "trede.test")
    assert mine["region"] == "zuid-limburg" and mine["level"] == "WARNING"


METRICS_TOKEN = "scrape-" + "t" * 30


@pytest.fixture
def settings_env(tmp_path):
    return make_settings_env(tmp_path, METRICS_TOKEN=METRICS_TOKEN)


def scrape(client, token: str | None = METRICS_TOKEN):
    stored_figures.read_at = None  # as if this process had not read the stored figures yet
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})


async def test_metrics_show_requests_and_the_overdue_deadlines_the_sweep_counted(client, synced):
    region = await Region.objects().where(Region.slug == "lekstroom").first()
    scope = RegionScope(region.id)
    provider = Provider(kvk_number="90000077", name="Metriek B.V.")
    await provider.save()
    version = await scope.objects(LadderVersion).first()
    escalation = scope.new(Escalation, reference="LEK-T-1", provider=provider.id, ladder_version=version.id,
                           category="kwaliteit", current_step="start")  # fmt: skip
    await escalation.save()
    now = datetime.now(UTC)
    for hours in (-5, -1, 3):
        await scope.new(Deadline, escalation=escalation.id, step="s", key="k", term="2 weken", starts_at=now,
                        due_at=now + timedelta(hours=hours)).save()  # fmt: skip
    await client.get("/health/live")
    before = await scrape(client)
    assert before.status_code == 200
    assert "trede_deadlines_overdue{" not in before.text  # a scrape counts no rows: no sweep ran yet
    await refresh_domain_metrics(system_clock)  # what the sweep does once a minute
    response = await scrape(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.text
    assert 'trede_deadlines_overdue{region="lekstroom"} 2.0' in text
    assert 'trede_deadlines_due{region="lekstroom"} 1.0' in text
    assert 'trede_deadlines_overdue{region="zuid-limburg"} 0.0' in text
    assert "trede_domain_metrics_computed_timestamp_seconds" in text
    assert "trede_queue_depth" in text
    assert "trede_requests_total" in text


async def test_metrics_need_the_token(client):
    assert (await scrape(client, token=None)).status_code == 401
    wrong = await scrape(client, token="scrape-" + "x" * 30)
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    assert "trede_" not in wrong.text


async def test_without_a_metrics_token_there_is_no_metrics_route(db, tmp_path):
    app = create_app(load_settings(make_settings_env(tmp_path)), start_background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        for headers in ({}, {"Authorization": "Bearer "}):
            response = await http.get("/metrics", headers={"accept": "application/json", **headers})
            assert response.status_code == 404 and "trede_" not in response.text


async def test_unexpected_errors_are_logged_with_traceback_and_answered_without_details(client, caplog):
    from litestar import get

    @get("/stuk", opt={"public": True})
    async def broken() -> str:
        raise RuntimeError("geheime details")

    client.app.register(broken)
    with caplog.at_level(logging.ERROR, logger="trede"):
        page = await client.get("/stuk", headers={"accept": "text/html", "X-Request-ID": "err-1"})
    assert page.status_code == 500
    assert "Er ging iets mis" in page.text and "geheime details" not in page.text
    record = next(r for r in caplog.records if r.name == "trede" and "unhandled error" in r.getMessage())
    assert record.exc_info and "geheime details" in str(record.exc_info[1])
    api = await client.get("/stuk", headers={"accept": "application/json"})
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json() == {"type": "about:blank", "title": "Internal Server Error", "status": 500,
                          "detail": "Er ging iets mis."}  # fmt: skip
