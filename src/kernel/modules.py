"""How a module is hosted.

A module's `module.py` holds a `ModuleDescriptor`: its static facts (name, dependencies, database, route
prefixes, the Protocols it provides, the events it publishes and subscribes to) and one `assemble` function.
Bootstrap calls `assemble(context, **dependencies)` in dependency order: `context` is the module's own
`ModuleContext` (its database, the process's security), and every further parameter is keyword-only, typed by
another module's Protocol. Bootstrap reads those types and passes the object that satisfies each one: the
in-process implementation another module's assembly provided, or (split mode) a client of the process that
hosts it. `assemble` returns an `AssembledModule`: routes with their dependencies bound, the implementations
of the Protocols the module provides, its event handlers and its seed.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from litestar.di import Provide
from litestar.types import ControllerRouterHandler
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kernel.contracts.events import IntegrationEvent
from kernel.events.outbox import Inbox, Outbox
from kernel.events.transport import Subscription
from kernel.security.context import Security
from kernel.settings import Settings


@dataclass(frozen=True)
class DatabaseSpec:
    metadata: MetaData
    default_file: str
    """SQLite file in the data dir when `<MODULE>_DATABASE_URL` is unset (modules may share one)."""
    outbox: Outbox | None = None
    """For a module that publishes events."""
    inbox: Inbox | None = None
    """For a module that subscribes to events."""


@dataclass(frozen=True)
class ModuleContext:
    """What bootstrap hands every module's assembly: its own database and the process's shared parts."""

    name: str
    settings: Settings
    engine: AsyncEngine
    """For session-free hot reads (`kernel.db.reads`)."""
    session_maker: async_sessionmaker[AsyncSession]
    """The module's one session factory: request sessions, handlers, seeds and directories all use it."""
    security: Security

    def session_dependency(self) -> Provide:
        """A Litestar dependency giving each request its own session on this module's database, closed after."""
        session_maker = self.session_maker

        async def provide_session() -> AsyncIterator[AsyncSession]:
            async with session_maker() as session:
                yield session

        return Provide(provide_session)


class BackgroundService(Protocol):
    """Work a module runs while the process serves: `start` returns once the service is ready (the process
    serves only after), `stop` ends it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Seed = Callable[[bool], Awaitable[None]]
"""`seed(demo)`: add reference data, and demo data when asked; idempotent."""


@dataclass(frozen=True)
class AssembledModule:
    routes: Sequence[ControllerRouterHandler]
    """Routers/controllers under /api/v1, their dependencies bound (`litestar.Router(dependencies=...)`)."""
    provides: Mapping[type[Any], object] = field(default_factory=dict)
    """Protocol → its in-process implementation; exactly the descriptor's `provides`."""
    subscriptions: Sequence[Subscription] = ()
    """Handlers of exactly the descriptor's `subscribes_to` events."""
    seed: Seed | None = None
    background: Sequence[BackgroundService] = ()
    """Started after the outbox backlog was delivered once, before the process serves; stopped first."""


Assemble = Callable[..., AssembledModule]


@dataclass(frozen=True)
class ModuleDescriptor:
    name: str
    summary: str
    database: DatabaseSpec
    route_prefixes: tuple[str, ...]
    """Paths under /api/v1 this module owns; unique across modules (an architecture test checks)."""
    assemble: Assemble
    depends_on: tuple[str, ...] = ()
    provides: tuple[type[Any], ...] = ()
    """The Protocols (from this module's `api.py`) whose implementations `assemble` returns."""
    publishes: Sequence[type[IntegrationEvent]] = ()
    subscribes_to: Sequence[type[IntegrationEvent]] = ()
    signs_tokens: bool = False
    """The module issues access tokens, so its process holds the private signing key; every other process
    only verifies (with the public keys)."""

    def requirements(self) -> dict[str, type[Any]]:
        """The Protocols `assemble` asks for: keyword-only parameter name → its annotated type."""
        hints = typing.get_type_hints(self.assemble)
        parameters = inspect.signature(self.assemble).parameters.values()
        return {p.name: hints[p.name] for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def protocol_owner(protocol: type[Any]) -> str | None:
    """The module whose `api.py` defines `protocol` (`modules.user.api.UserAccounts` → `user`)."""
    parts = protocol.__module__.split(".")
    if len(parts) == 3 and parts[0] == "modules" and parts[2] == "api":
        return parts[1]
    return None
