"""The Dramatiq broker, chosen from BROKER_URL.

``stub://`` is the embedded default: an in-process broker whose worker runs inside the web process. It keeps
nothing across restarts, which is fine because the database is the source of truth: the scheduler's
sweep finds again whatever a lost message was about.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from core.messages import configured_url, record_configured


def make_broker(url: str) -> dramatiq.Broker:
    if url.startswith("stub://"):
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:  # settings already refuse other schemes; this guards direct callers
        raise ValueError(f"unsupported broker URL scheme: {url.split(':', 1)[0]}")
    broker.add_middleware(AsyncIO())  # Trede's actors are async: they share the services with the web
    return broker


def configure_broker(url: str) -> dramatiq.Broker:
    """Install the broker for this process, once, before any actor module is imported."""
    if (configured := configured_url()) is not None:
        if configured != url:
            raise RuntimeError(f"broker already configured for {configured}, not {url}")
        return dramatiq.get_broker()
    broker = make_broker(url)
    dramatiq.set_broker(broker)
    record_configured(url)
    # why: the apps' actors bind to the broker set when they are declared, so they load after set_broker
    import apps.wiring  # noqa: F401

    return broker


async def broker_ready(broker: dramatiq.Broker) -> None:
    """Raise if the broker cannot be reached (for /health/ready)."""
    import anyio

    def probe() -> None:
        name = type(broker).__name__
        if name == "RedisBroker":
            broker.client.ping()
        elif name == "RabbitmqBroker":
            broker.connection  # noqa: B018 - opens (or reuses) the connection; raises when down
            if not broker.connection.is_open:
                raise ConnectionError("RabbitMQ connection is closed")

    await anyio.to_thread.run_sync(probe)
