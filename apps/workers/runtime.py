"""What actors need from their process: the transports built from this process's settings."""

from __future__ import annotations

from apps.notifications.transports import Transport

_transports: dict[str, Transport] | None = None


def set_transports(transports: dict[str, Transport] | None) -> None:
    global _transports
    _transports = transports


def transports() -> dict[str, Transport]:
    global _transports
    if _transports is None:
        from apps.notifications.services import transports_from_settings
        from core.settings import load_settings

        _transports = transports_from_settings(load_settings())
    return _transports
