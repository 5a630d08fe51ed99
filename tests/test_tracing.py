"""Operations: with OTEL_EXPORTER_OTLP_ENDPOINT set, a request and a broker message each reach the collector as a
span (OTLP over HTTP, decoded here as a collector would); unset, no tracing is set up at all.

The collector is a small HTTP server on a free port that accepts ``POST /v1/traces`` and decodes the protobuf
with opentelemetry-proto.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from core.app import create_app
from core.settings import ConfigError, load_settings
from core.tracing import MessageTracing, flush_traces, shutdown_tracing, trace_broker, tracer_provider
from tests.accounts.support import app_client, login
from tests.conftest import new_database_url
from tests.support import ROOT, free_port, make_settings_env, trede


@dataclass
class ReceivedSpan:
    name: str
    attributes: dict
    service: str
    trace_id: bytes
    parent_span_id: bytes
    kind: int
    status_code: int


def _value(any_value):
    return getattr(any_value, any_value.WhichOneof("value")) if any_value.WhichOneof("value") else None


class Collector:
    """An OTLP/HTTP trace receiver: every span it was sent, decoded."""

    def __init__(self):
        self.spans: list[ReceivedSpan] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                collector.paths.append(self.path)
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_response(404)
                    self.end_headers()
                    return
                collector.receive(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(ReceivedSpan(
                        name=span.name, attributes={a.key: _value(a.value) for a in span.attributes},
                        service=resource.get("service.name"), trace_id=span.trace_id,
                        parent_span_id=span.parent_span_id, kind=span.kind, status_code=span.status.code,
                    ))  # fmt: skip

    def named(self, name: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.name == name]


@pytest.fixture
def collector():
    receiver = Collector()
    receiver.thread.start()
    yield receiver
    broker = dramatiq.get_broker()
    broker.middleware[:] = [m for m in broker.middleware if not isinstance(m, MessageTracing)]
    shutdown_tracing()  # this test's exporters stop: later tests send to no collector
    receiver.server.shutdown()
    receiver.server.server_close()


async def test_a_request_on_a_region_page_is_a_span_named_by_its_route_with_the_region(
    world, oidc_settings, collector
):
    settings = replace(oidc_settings, otel_endpoint=collector.url)
    async with app_client(settings) as http:
        await login(http, "zl-inkoop")
        response = await http.get("/regio/zuid-limburg/instroomstops")
        probe = await http.get("/health/live")
    assert response.status_code == 200 and probe.status_code == 200
    flush_traces()

    assert set(collector.paths) == {"/v1/traces"}
    [span] = collector.named("GET /regio/{region_slug}/instroomstops")
    assert span.service == "trede-web" and span.kind == ProtoSpan.SPAN_KIND_SERVER
    assert span.attributes["http.route"] == "/regio/{region_slug}/instroomstops"
    assert span.attributes["trede.region"] == "zuid-limburg"
    status = span.attributes.get("http.response.status_code", span.attributes.get("http.status_code"))
    assert status == 200
    # the login's own requests are spans too, without a region; the probe is not traced
    assert collector.named("GET /inloggen/{idp}") and "trede.region" not in collector.named(
        "GET /inloggen/{idp}")[0].attributes
    assert not [s for s in collector.spans if "/health" in s.name or "/health" in str(s.attributes.values())]


async def test_a_broker_message_is_a_span_in_the_trace_that_sent_it(db, app_settings, collector):
    settings = replace(app_settings, otel_endpoint=collector.url)
    app = create_app(settings, start_background=False)
    assert any(isinstance(m, MessageTracing) for m in app.state.broker.middleware)  # the process's broker traces
    # The messages go through a broker of this test's own with the same tracing: the process's stub broker is
    # shared with every earlier test, whose workers leave it in states this test should not depend on.
    broker = StubBroker()
    trace_broker(broker, tracer_provider(settings, "trede-web"))
    handled: list[str] = []

    def tracing_probe(word: str) -> None:
        if word == "fout":
            raise ValueError("the probe fails on purpose")
        handled.append(word)

    actor = dramatiq.actor(tracing_probe, queue_name="tracing-test", max_retries=0, broker=broker)
    tracer = tracer_provider(settings, "trede-web").get_tracer("test")
    with tracer.start_as_current_span("verzoek") as sending:
        message = actor.send("hallo")
    failing = actor.send("fout")
    worker = dramatiq.Worker(broker, queues={"tracing-test"}, worker_threads=1)
    worker.start()
    try:
        broker.join("tracing-test", timeout=20_000, fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    flush_traces()

    assert handled == ["hallo"]
    spans = {span.attributes["messaging.message.id"]: span for span in collector.named("dramatiq tracing_probe")}
    ok, failed = spans[message.message_id], spans[failing.message_id]
    assert ok.kind == ProtoSpan.SPAN_KIND_CONSUMER and ok.status_code != Status.STATUS_CODE_ERROR
    assert ok.attributes["messaging.system"] == "dramatiq"
    assert ok.attributes["messaging.destination.name"] == "tracing-test"
    assert ok.trace_id == sending.get_span_context().trace_id.to_bytes(16, "big")  # the sender's trace
    assert ok.parent_span_id == sending.get_span_context().span_id.to_bytes(8, "big")
    assert failed.status_code == Status.STATUS_CODE_ERROR and failed.parent_span_id == b""


def test_the_worker_process_sends_a_span_per_message(tmp_path, collector):
    """`trede worker` as production runs it (Redis, its own database 7): the sweep message it handled reaches the
    collector."""
    redis_url = "redis://127.0.0.1:6379/7"
    env = {**make_settings_env(tmp_path, DATABASE_URL=new_database_url(), BROKER_URL=redis_url,
                               OTEL_EXPORTER_OTLP_ENDPOINT=collector.url), "PATH": "/usr/bin:/bin"}  # fmt: skip
    assert trede("migrate", env=env).returncode == 0
    sender = RedisBroker(url=redis_url)
    sent = dramatiq.Message(queue_name="trede", actor_name="sweep", args=(int(time.time() // 60),), kwargs={},
                            options={})  # fmt: skip
    sender.enqueue(sent)
    worker = subprocess.Popen([sys.executable, "-m", "core.cli", "worker", "--threads", "1"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # the spans go out in batches, at least every 5 s
        while time.monotonic() < deadline and worker.poll() is None and sent.message_id not in [
            span.attributes["messaging.message.id"] for span in collector.named("dramatiq sweep")
        ]:
            time.sleep(0.2)
    finally:
        worker.terminate()  # SIGTERM: the worker finishes, then sends the spans still waiting
        output, _ = worker.communicate(timeout=60)
        sender.close()
    assert worker.returncode == 0, output
    spans = {span.attributes["messaging.message.id"]: span for span in collector.named("dramatiq sweep")}
    assert sent.message_id in spans, (collector.spans, output[-2000:])
    span = spans[sent.message_id]
    assert span.service == "trede-worker" and span.kind == ProtoSpan.SPAN_KIND_CONSUMER
    assert span.attributes["messaging.destination.name"] == "trede"
    assert span.status_code != Status.STATUS_CODE_ERROR, output[-2000:]


def test_without_the_variable_no_tracing_is_set_up(tmp_path):
    """Unset: no exporter, no plugin, no message middleware, and neither OpenTelemetry's SDK nor its exporter
    loaded."""
    env = make_settings_env(tmp_path)
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    script = (
        "import json, sys\n"
        "from core.app import create_app\n"
        "from core.settings import load_settings\n"
        "from core import tracing\n"
        f"app = create_app(load_settings({env!r}), start_background=False)\n"
        "print(json.dumps({'plugins': [type(p).__name__ for p in app.plugins],\n"
        "  'broker': [type(m).__name__ for m in app.state.broker.middleware], 'providers': len(tracing._providers),\n"
        "  'sdk': sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter')))}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": env["DATABASE_URL"]})
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert "OpenTelemetryPlugin" not in seen["plugins"] and "MessageTracing" not in seen["broker"]
    # (Litestar itself imports OpenTelemetry's API when it is installed; the SDK and exporter stay unloaded)
    assert seen["providers"] == 0 and seen["sdk"] == []
    assert tracer_provider(load_settings(env), "trede-web") is None


def test_a_malformed_endpoint_stops_start_up_with_the_variable_named(tmp_path):
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        load_settings(make_settings_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="otel-collector:4318"))
    settings = load_settings(make_settings_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://otel-collector:4318"))
    assert settings.otel_endpoint == "http://otel-collector:4318"
