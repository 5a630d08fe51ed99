"""Rate limits counted in the database (one atomic upsert per hit), so every web process shares them.

Use the guard on a route: ``guards=[rate_limit("login")]`` (limits in ``LIMITS``). A client (by IP address) that
makes more than ``limit`` requests in a fixed window of ``window`` seconds gets 429 until the window ends; a
logged-in person is counted as well (key ``bucket:account:<user id>:slot``), so one person does not get a fresh
bucket by changing address.

The client's address is the connection's, or behind a proxy the one uvicorn takes from X-Forwarded-For, which it
believes only from the proxies in FORWARDED_ALLOW_IPS (``trede serve``): a client cannot pick a fresh bucket by
sending that header itself.
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


def account_of(connection: ASGIConnection) -> str | None:
    """The logged-in person's user id, when the session holds one."""
    session = connection.scope.get("session")
    uid = session.get("uid") if isinstance(session, dict) else None
    return str(uid) if uid else None


def rate_limit(bucket: str):
    """A guard that refuses (429) a client, or a logged-in person, over the bucket's limit (see ``LIMITS``)."""
    limit, window = LIMITS[bucket]

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        within = await hit(bucket, client_address(connection), limit=limit, window=window)
        account = account_of(connection)
        if account is not None:  # counted even when the address is over, so a person's count stays true
            within = await hit(bucket, f"account:{account}", limit=limit, window=window) and within
        if not within:
            raise TooManyRequestsException(
                detail="Te veel pogingen. Wacht een paar minuten en probeer het dan opnieuw.",
                headers={"Retry-After": str(window - int(time.time()) % window)},
            )

    guard.__name__ = f"rate_limit_{bucket}"
    return guard
