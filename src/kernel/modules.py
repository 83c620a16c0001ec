"""The module descriptor: everything bootstrap needs to host a module, and nothing it needs to know inside."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from litestar.types import ControllerRouterHandler
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kernel.contracts.events import IntegrationEvent
from kernel.events.outbox import Outbox
from kernel.events.transport import Subscription
from kernel.security.context import Security
from kernel.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class DatabaseSpec:
    metadata: MetaData
    default_file: str
    """SQLite file in the data dir when `<MODULE>_DATABASE_URL` is unset (modules may share one)."""
    outbox: Outbox | None = None


class Interfaces:
    """Implementations of modules' public Protocols, bound by bootstrap (in-process or HTTP client)."""

    def __init__(self) -> None:
        self._bound: dict[type[Any], Any] = {}

    def bind(self, protocol: type[T], implementation: T) -> None:
        self._bound[protocol] = implementation

    def get(self, protocol: type[T]) -> T:
        try:
            return self._bound[protocol]  # type: ignore[no-any-return]
        except KeyError:
            raise LookupError(f"no implementation bound for {protocol.__name__}") from None

    def __contains__(self, protocol: type[Any]) -> bool:
        return protocol in self._bound


@dataclass
class ModuleContext:
    """What a hosted module gets at start: its settings, its own database, the interfaces it depends on."""

    name: str
    settings: Settings
    session_maker: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    """The same database as `session_maker`, for session-free hot reads (`kernel.db.reads`)."""
    interfaces: Interfaces
    security: Security


MODULE_CONTEXTS_STATE_KEY = "module_contexts"


def context_of(state: Mapping[str, Any], module: str) -> ModuleContext:
    """The hosted module's context, from the app state (for building a module's request-scoped services)."""
    contexts: Mapping[str, ModuleContext] = state[MODULE_CONTEXTS_STATE_KEY]
    return contexts[module]


Seeder = Callable[[ModuleContext, bool], Awaitable[None]]


@dataclass(frozen=True)
class ModuleDescriptor:
    name: str
    database: DatabaseSpec
    route_prefixes: tuple[str, ...]
    """Paths under /api/v1 this module owns; unique across modules (an architecture test checks)."""
    route_handlers: Sequence[ControllerRouterHandler] = ()
    depends_on: tuple[str, ...] = ()
    publishes: Sequence[type[IntegrationEvent]] = ()
    subscriptions: Sequence[Subscription] = ()
    provides: Mapping[type[Any], Callable[[ModuleContext], Any]] = field(default_factory=dict)
    """Protocol → factory of its in-process implementation."""
    dependencies: Mapping[str, Any] = field(default_factory=dict)
    """Litestar dependencies the module's controllers use (keys carry the module's name)."""
    seed: Seeder | None = None
    signs_tokens: bool = False
    """The module issues access tokens, so its process holds the private signing key; every other process
    only verifies (with the public keys)."""
    summary: str = ""
