"""Reading what the app wrote, straight from a module's own database (for assertions only)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import func, select

from bootstrap.app import RUNTIME_STATE_KEY
from bootstrap.runtime import Runtime
from kernel.db.versions import VersionWatcher

ADMIN_PERMISSIONS = [
    f"{resource}.{action}"
    for resource in ("carriers", "customers", "users")
    for action in ("create", "read", "update", "delete", "list")
]


def token_for(
    app: Litestar,
    permissions: list[str] | None = None,
    user_id: int = 1,
    roles: list[str] | None = None,
    session_id: str | None = None,
) -> str:
    """A real signed access token from the app's own key ring (no login round trip needed)."""
    return runtime_of(app).security.issuer.issue(
        user_id=user_id,
        email=f"user{user_id}@example.com",
        roles=roles or ["admin"],
        permissions=ADMIN_PERMISSIONS if permissions is None else permissions,
        session_id=session_id or uuid.uuid4().hex,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def runtime_of(app: Litestar) -> Runtime:
    runtime: Runtime = app.state[RUNTIME_STATE_KEY]
    return runtime


async def outbox_rows(app: Litestar, module: str) -> list[Any]:
    hosted = runtime_of(app).module(module)
    outbox = hosted.descriptor.database.outbox
    assert outbox is not None
    async with hosted.context.session_maker() as session:
        return list((await session.scalars(select(outbox.record).order_by(outbox.record.id))).all())


async def count_rows(app: Litestar, module: str, table: str) -> int:
    hosted = runtime_of(app).module(module)
    table_ = hosted.descriptor.database.metadata.tables[table]
    async with hosted.context.session_maker() as session:
        return int(await session.scalar(select(func.count()).select_from(table_)) or 0)


def provided(app: Litestar, protocol: type[Any]) -> Any:
    """The implementation of a module Protocol that the app's modules were handed (the assembly seam)."""
    for hosted in runtime_of(app).modules:
        if protocol in hosted.assembled.provides:
            return hosted.assembled.provides[protocol]
    raise LookupError(protocol.__name__)


@dataclass
class TwoProcesses:
    """Two apps built from the same settings, both serving: two processes (workers or replicas) that share only
    their databases, with a client each."""

    app_a: Litestar
    app_b: Litestar
    a: httpx.AsyncClient
    b: httpx.AsyncClient


def watcher_of(app: Litestar, module: str) -> VersionWatcher:
    """The module's version watcher (the background service that drops its process's caches)."""
    (watcher,) = [s for s in runtime_of(app).module(module).assembled.background if isinstance(s, VersionWatcher)]
    return watcher
