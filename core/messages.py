"""Handing work to an app's actor by name, without knowing the app or the broker module (apps import this;
``core.broker`` sets the broker and records it here). Apart from ``core.broker`` so that the apps, which
``core.broker`` loads once the broker is set, never import it back."""

from __future__ import annotations

import dramatiq

_configured_url: str | None = None


def configured_url() -> str | None:
    """The URL of the broker this process uses, or None when none is configured (a script, some tests)."""
    return _configured_url


def record_configured(url: str) -> None:
    global _configured_url
    _configured_url = url


def send_by_name(actor_name: str, *args: str) -> bool:
    """Enqueue a message for an app's actor by its name (core knows no app). False when this process has no
    broker configured (a script, a test without one): the database row waits for the sweep."""
    if _configured_url is None:
        return False
    dramatiq.get_broker().get_actor(actor_name).send(*args)
    return True
