"""Operations: every response carries a request id, logs are JSON lines with request id and region, and
/metrics serves request metrics and Trede's gauges."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta

from apps.escalations.tables import Deadline, Escalation
from apps.ladders.tables import LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.logs import ContextFilter, configure_logging, set_region
from core.tenancy import RegionScope


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


async def test_metrics_show_requests_and_overdue_deadlines(client, synced):
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
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'trede_deadlines_overdue{region="lekstroom"} 2.0' in text
    assert 'trede_deadlines_due{region="lekstroom"} 1.0' in text
    assert 'trede_deadlines_overdue{region="zuid-limburg"} 0.0' in text
    assert "trede_queue_depth" in text
    assert "trede_requests_total" in text


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
