"""Server-side sessions in the database, so that any number of web processes share them.

- ``PiccoloStore``: a Litestar ``Store`` on the ``web_session`` table (SQLite and PostgreSQL alike).
- ``TredeSessionConfig``: Litestar's server-side session middleware with three changes: an empty session
  costs nothing (no row, no cookie), an unchanged session is not written again (the idle expiry is renewed on
  read), and the session id is *rotated* when asked (``rotate_session``) — Litestar itself keeps the incoming id,
  which would allow session fixation at login.

Timeouts: a session ends after ``IDLE_TIMEOUT`` without a request (the store entry expires) and at the latest
``ABSOLUTE_TIMEOUT`` after login (checked against ``auth_at`` by ``apps.accounts.guards``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items

from apps.accounts.tables import WebSession
from core.tenancy import UserScope

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

IDLE_TIMEOUT = timedelta(minutes=60)
ABSOLUTE_TIMEOUT = timedelta(hours=10)
COOKIE_NAME = "trede_session"
_ROTATE = "trede.rotate_session"
_LOADED = "trede.session_loaded"
_PERSON_ROWS = "trede.session_person"


def _seconds(value: int | timedelta | None) -> int | None:
    if value is None:
        return None
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


class PiccoloStore(Store):
    """A Litestar store on the ``web_session`` table. Expired entries read as missing and are removed."""

    __slots__ = ()

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None, *,
                  user_id: UUID | None = None) -> None:  # fmt: skip
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in)
        expires_at = int(time.time()) + seconds if seconds is not None else None
        row = WebSession(key=key, value=data, expires_at=expires_at, user_id=user_id)
        await WebSession.insert(row).on_conflict(
            target=WebSession.key, action="DO UPDATE",
            values=[WebSession.value, WebSession.expires_at, WebSession.user_id],
        )  # fmt: skip

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = await WebSession.select(WebSession.value, WebSession.expires_at).where(WebSession.key == key).first()
        return await self._checked(key, row, renew_for)

    async def get_with_person(self, key: str, renew_for: int | timedelta | None = None) -> tuple[bytes | None, list]:
        """The session's value and the rows of its person with their memberships, in one query
        (``UserScope.through_session``); the rows are empty when the session names no (existing) user."""
        rows = await UserScope.through_session(WebSession, key)
        value = await self._checked(key, rows[0] if rows else None, renew_for)
        return value, rows if value is not None and rows[0]["user_found"] is not None else []

    async def _checked(self, key: str, row: dict | None, renew_for: int | timedelta | None) -> bytes | None:
        if row is None:
            return None
        now = int(time.time())
        expires_at = row["expires_at"]
        if expires_at is not None and expires_at <= now:
            await self.delete(key)
            return None
        seconds = _seconds(renew_for)
        # Renew the idle expiry, but write at most once a minute per session.
        if seconds is not None and expires_at is not None and now + seconds - expires_at >= 60:
            await WebSession.update({WebSession.expires_at: now + seconds}).where(WebSession.key == key)
        value = row["value"]
        return bytes(value) if value is not None else None

    async def delete(self, key: str) -> None:
        await WebSession.delete().where(WebSession.key == key)

    async def delete_all(self) -> None:
        await WebSession.delete(force=True)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await WebSession.select(WebSession.expires_at).where(WebSession.key == key).first()
        if row is None or row["expires_at"] is None:
            return None
        return max(row["expires_at"] - int(time.time()), 0) or None

    async def delete_expired(self) -> int:
        now = int(time.time())
        expired = await WebSession.count().where(WebSession.expires_at <= now)
        if expired:
            await WebSession.delete().where(WebSession.expires_at <= now)
        return expired


def rotate_session(connection: ASGIConnection) -> None:
    """Give this session a new id when the response is sent, and delete the entry under the old id."""
    connection.scope["state"][_ROTATE] = True


def signed_in_rows(connection: ASGIConnection) -> list[dict]:
    """The person's rows read with this request's session (``PiccoloStore.get_with_person``), or none."""
    return connection.scope["state"].get(_PERSON_ROWS) or []


def _user_of(session: Any) -> UUID | None:
    try:
        return UUID(str(session["uid"])) if isinstance(session, dict) and session.get("uid") else None
    except ValueError:
        return None


class TredeSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if session_id and session_id != "null":
            store = self.config.get_store_from_app(connection.scope["app"])
            if isinstance(store, PiccoloStore):  # the session with its person: one query
                max_age = int(self.config.max_age) if self.config.max_age is not None else None
                data, rows = await store.get_with_person(session_id, max_age if self.config.renew_on_access else None)
                connection.scope["state"][_PERSON_ROWS] = rows
            else:
                data = await self.get(session_id, store=store)
            if data is not None:
                connection.scope["state"][_LOADED] = data
                return self.deserialize_data(data)
        return {}

    async def _store(self, session_id: str, data: bytes, store: Store, session: Any) -> None:
        if not isinstance(store, PiccoloStore):
            await self.set(session_id=session_id, data=data, store=store)
            return
        expires_in = int(self.config.max_age) if self.config.max_age is not None else None
        await store.set(session_id, data, expires_in=expires_in, user_id=_user_of(session))

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        incoming = connection.cookies.get(self.config.key)
        if incoming == "null":
            incoming = None
        cookie_params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        state = connection.scope["state"]

        if scope_session is Empty or not scope_session:
            if incoming:  # the session was cleared (logout) or had expired: remove both
                await self.delete(incoming, store=store)
                headers.add(
                    "Set-Cookie",
                    Cookie(value="null", key=self.config.key, expires=0, **cookie_params).to_header(header=""),
                )
            return

        data = self.serialize_data(scope_session, connection.scope)
        # A new id at login (rotate) and whenever the incoming id names no stored session: an id the client chose
        # (or one that expired) is never adopted, so nobody can plant a session id before the login.
        if state.get(_ROTATE) or not incoming or _LOADED not in state:
            if incoming:
                await self.delete(incoming, store=store)
            session_id = self.generate_session_id()
            await self._store(session_id, data, store, scope_session)
        else:
            session_id = incoming
            if data != state.get(_LOADED):
                await self._store(session_id, data, store, scope_session)
        headers.add("Set-Cookie", Cookie(value=session_id, key=self.config.key, **cookie_params).to_header(header=""))


@dataclass
class TredeSessionConfig(ServerSideSessionConfig):
    _backend_class = TredeSessionBackend  # type: ignore[assignment]

    key: str = field(default=COOKIE_NAME)
    max_age: int = field(default=int(IDLE_TIMEOUT.total_seconds()))
    renew_on_access: bool = field(default=True)
    httponly: bool = field(default=True)
    samesite: str = field(default="lax")  # type: ignore[assignment]
    store: str = "sessions"


def session_config(*, secure: bool) -> TredeSessionConfig:
    return TredeSessionConfig(secure=secure)
