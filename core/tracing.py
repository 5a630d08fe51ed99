"""Optional tracing with OpenTelemetry, switched on by ``OTEL_EXPORTER_OTLP_ENDPOINT``.

With the variable set, the web process sends a span per request (named by method and route template, with
``http.route`` and, once the request's code knows it, ``trede.region``) and every process that handles broker
messages sends a span per message (``dramatiq <actor>``, with the queue, the message id and the retry count),
as OTLP over HTTP (protobuf) to ``<endpoint>/v1/traces``. A message enqueued while a span is current carries
that span's context, so the worker's span joins the request's trace.

Unset (the default), nothing here runs: no middleware is added, no exporter exists, and OpenTelemetry's SDK and
exporter are not even imported (Litestar loads OpenTelemetry's small API package by itself when it is installed).
The other ``OTEL_*`` variables of the OTLP exporter (``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_EXPORTER_OTLP_TIMEOUT``,
``OTEL_EXPORTER_OTLP_COMPRESSION``) work as documented by OpenTelemetry.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import dramatiq

from core.logs import region_var

if TYPE_CHECKING:
    from litestar.plugins.opentelemetry import OpenTelemetryPlugin
    from litestar.types import ASGIApp, Message, Receive, Scope, Send
    from opentelemetry.sdk.trace import TracerProvider

    from core.settings import Settings

# Not traced: static files, the probes and the scrape (many a minute, nothing to learn from them)
UNTRACED = ["^/static/", "^/health", "^/metrics"]

_providers: dict[tuple[str, str], TracerProvider] = {}  # one per endpoint and service in a process


def tracer_provider(settings: Settings, service: str) -> TracerProvider | None:
    """The process's tracer provider exporting to the configured endpoint, or None when tracing is off."""
    if not settings.otel_endpoint:
        return None
    key = (settings.otel_endpoint, service)
    if key not in _providers:
        # the SDK and exporter are imported only when tracing is on
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        # the generic endpoint names the collector; traces go to its /v1/traces (as the OTLP spec says)
        exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint.rstrip("/") + "/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
        _providers[key] = provider
    return _providers[key]


def flush_traces() -> None:
    """Send the spans still waiting in this process (at shutdown)."""
    for provider in _providers.values():
        provider.force_flush(timeout_millis=5_000)


def web_plugin(provider: TracerProvider) -> OpenTelemetryPlugin:
    """Litestar's OpenTelemetry plugin: one server span per request around the whole app."""
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    return OpenTelemetryPlugin(
        OpenTelemetryConfig(
            tracer_provider=provider,
            exclude=UNTRACED,
            exclude_spans=["receive", "send"],
            # the method only until the route is known (route_span_middleware): never a path full of ids
            scope_span_details_extractor=lambda scope: (str(scope.get("method") or scope["type"]), {}),
        )
    )


def route_span_middleware(app: ASGIApp) -> ASGIApp:
    """Inside the routing: the request's span is named by its route template (``GET /regio/{region_slug}``)
    rather than by the path with its ids, and gets the region the request's code resolved."""
    from opentelemetry import trace
    from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        template = scope.get("path_template")
        if not span.is_recording() or scope["type"] != "http":
            await app(scope, receive, send)
            return
        if template:
            span.update_name(f"{scope['method']} {template}")
            span.set_attribute(HTTP_ROUTE, template)

        async def send_with_region(message: Message) -> None:
            # the span ends with the response's last part: the region (known once the guards ran) goes on first
            if message["type"] == "http.response.start" and region_var.get():
                span.set_attribute("trede.region", region_var.get())
            await send(message)

        await app(scope, receive, send_with_region)

    return middleware


class MessageTracing(dramatiq.Middleware):
    """A span per broker message, in the thread that handles it; the enqueuing span's context travels along."""

    CONTEXT_OPTION = "trace_context"

    def __init__(self, provider: TracerProvider):
        from opentelemetry import context, propagate, trace

        self._context, self._propagate, self._trace = context, propagate, trace
        self.tracer = provider.get_tracer("trede.workers")
        self._active = threading.local()

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message, delay: Any) -> None:
        carrier: dict[str, str] = {}
        self._propagate.inject(carrier)
        if carrier:
            message.options[self.CONTEXT_OPTION] = carrier

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        parent = self._propagate.extract(message.options.get(self.CONTEXT_OPTION) or {})
        span = self.tracer.start_span(
            f"dramatiq {message.actor_name}",
            context=parent,
            kind=self._trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "dramatiq",
                "messaging.operation.type": "process",
                "messaging.destination.name": message.queue_name,
                "messaging.message.id": message.message_id,
                "dramatiq.actor": message.actor_name,
                "dramatiq.retries": message.options.get("retries", 0),
            },
        )
        token = self._context.attach(self._trace.set_span_in_context(span))
        self._active.span = (span, token)

    def after_process_message(
        self, broker: dramatiq.Broker, message: dramatiq.Message, *, result: Any = None, exception: Any = None
    ) -> None:
        active = getattr(self._active, "span", None)
        if active is None:
            return
        self._active.span = None
        span, token = active
        if exception is not None:
            span.record_exception(exception)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, type(exception).__name__))
        self._context.detach(token)
        span.end()

    after_skip_message = after_process_message


def trace_broker(broker: dramatiq.Broker, provider: TracerProvider | None) -> None:
    """Add the message spans to this process's broker (once)."""
    if provider is None or any(isinstance(m, MessageTracing) for m in broker.middleware):
        return
    broker.add_middleware(MessageTracing(provider))


def shutdown_tracing() -> None:
    """Send what is waiting and stop every exporter of this process (its providers are forgotten)."""
    while _providers:
        _, provider = _providers.popitem()
        provider.shutdown()
