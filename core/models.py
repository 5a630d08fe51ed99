"""Column helpers shared by the apps' tables."""

from datetime import UTC, datetime

from piccolo.columns import UUID, Timestamptz


def utcnow() -> datetime:
    return datetime.now(UTC)


def uuid_pk() -> UUID:
    # Random ids: nothing to enumerate across regions, and rows can be created before they are stored.
    return UUID(primary_key=True)


def created_at() -> Timestamptz:
    return Timestamptz(default=utcnow, index=True)
