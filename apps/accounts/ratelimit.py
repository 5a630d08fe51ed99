"""Rate limits counted in the database (one atomic upsert per hit), so every web process shares them.

Use the guard on a route: ``guards=[rate_limit("login", limit=30, window=300)]``. A client (by IP address) that
makes more than ``limit`` requests in a fixed window of ``window`` seconds gets 429 until the window ends.
"""

from __future__ import annotations

import random
import time
import uuid

from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler

from apps.accounts.tables import RateLimitCounter

# Limits of the endpoints that invite abuse. Uploads (apps/documents) use the "upload" bucket.
LIMITS = {
    # Starting a login and the callback, per address: generous, since a whole town hall may share one address.
    "login": (100, 300),
    "upload": (60, 3600),
}

_UPSERT = (
    'INSERT INTO "rate_limit_counter" ("id", "key", "hits", "expires_at") VALUES ({}, {}, 1, {}) '
    'ON CONFLICT ("key") DO UPDATE SET "hits" = "rate_limit_counter"."hits" + 1 RETURNING "hits"'
)


async def hit(bucket: str, client: str, *, limit: int, window: int, now: float | None = None) -> bool:
    """Count one hit; True when it is within the limit."""
    moment = int(time.time() if now is None else now)
    slot = moment // window
    key = f"{bucket}:{client}:{slot}"[:200]
    rows = await RateLimitCounter.raw(_UPSERT, uuid.uuid4(), key, (slot + 1) * window)
    if random.random() < 0.02:  # now and then, forget windows that have ended
        await RateLimitCounter.delete().where(RateLimitCounter.expires_at < moment)
    return rows[0]["hits"] <= limit


def client_address(connection: ASGIConnection) -> str:
    return connection.client.host if connection.client else "unknown"


def rate_limit(bucket: str):
    """A guard that refuses (429) a client over the bucket's limit (see ``LIMITS``)."""
    limit, window = LIMITS[bucket]

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if not await hit(bucket, client_address(connection), limit=limit, window=window):
            raise TooManyRequestsException(
                detail="Te veel pogingen. Wacht een paar minuten en probeer het dan opnieuw.",
                headers={"Retry-After": str(window - int(time.time()) % window)},
            )

    guard.__name__ = f"rate_limit_{bucket}"
    return guard
