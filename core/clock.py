"""All time comes from one clock, so tests move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self):
        """Today's date in the Netherlands (what a user means by 'today')."""
        return self.now().astimezone(AMSTERDAM).date()


class FrozenClock(Clock):
    """A clock for tests and simulations: stands still until moved."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


system_clock = Clock()
