"""The assembled process without HTTP: databases, modules, event transport, relays, health probes.

`create_app` serves it over HTTP; the CLI uses it for seeding and dead-letter work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker

from bootstrap.catalog import available_modules, load_descriptor, select_modules
from bootstrap.migrate import head_revision
from kernel.db.config import ModuleDatabase
from kernel.db.errors import is_transient_database_error
from kernel.events.outbox import AUDIENCE_KEY, EventAudience
from kernel.events.redis_streams import RedisStreamsTransport
from kernel.events.relay import OutboxRelay
from kernel.events.transport import BoundSubscription, EventTransport, InProcessTransport
from kernel.health import UNHEALTHY, HealthRegistry, ModuleProbe, redis_check
from kernel.modules import AssembledModule, ModuleContext, ModuleDescriptor, protocol_owner
from kernel.remote.client import ModuleUnavailable, RemoteModules
from kernel.security.context import Security
from kernel.settings import Settings, SettingsError
from kernel.store import MemoryStore, RedisStore, SharedStore

log = logging.getLogger("freightdesk.runtime")


def app_version() -> str:
    try:
        return version("freightdesk")
    except PackageNotFoundError:
        return "0.0.0+local"


def module_database(settings: Settings, descriptor: ModuleDescriptor) -> ModuleDatabase:
    name = descriptor.name
    return ModuleDatabase(
        module=name,
        url=settings.database_url(name, descriptor.database.default_file),
        metadata=descriptor.database.metadata,
        setting=f"{name.upper()}_DATABASE_URL",
    )


@dataclass
class HostedModule:
    descriptor: ModuleDescriptor
    database: ModuleDatabase
    context: ModuleContext
    assembled: AssembledModule

    @property
    def name(self) -> str:
        return self.descriptor.name


@dataclass
class Runtime:
    settings: Settings
    modules: list[HostedModule]
    transport: EventTransport
    security: Security
    relays: list[OutboxRelay] = field(default_factory=list)
    health: HealthRegistry = field(default_factory=lambda: HealthRegistry(version=app_version()))
    redis: Redis | None = None
    remote: RemoteModules | None = None
    """The clients of the modules this process calls in other processes (split mode)."""

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.modules]

    def module(self, name: str) -> HostedModule:
        for hosted in self.modules:
            if hosted.name == name:
                return hosted
        raise KeyError(name)

    async def seed(self, demo: bool, only: Sequence[str] | None = None, *, tolerate_outages: bool = False) -> None:
        """Seed each module in start order. With `tolerate_outages` (the start of `run`), a module whose seed
        needs a database that does not answer (its own, or a dependency's), or a module in another process that
        does not, is logged and left for `freightdesk seed`, and the others are still seeded."""
        for hosted in self.modules:
            if hosted.assembled.seed is None or (only is not None and hosted.name not in only):
                continue
            try:
                await hosted.assembled.seed(demo)
            except Exception as exc:
                if not tolerate_outages or not (is_transient_database_error(exc) or isinstance(exc, ModuleUnavailable)):
                    raise
                log.error(
                    "seed skipped: a database or module it needs does not answer; run `freightdesk seed` once it does",
                    extra={"module_name": hosted.name, "demo": demo, "error": type(exc).__name__},
                )

    async def dispose(self) -> None:
        for hosted in self.modules:
            await hosted.context.engine.dispose()
        if self.remote is not None:
            await self.remote.aclose()
        await self.close_redis()

    async def close_redis(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def build_transport(settings: Settings) -> EventTransport:
    if settings.event_transport == "redis":
        return RedisStreamsTransport.from_settings(settings)
    return InProcessTransport()


class Bindings:
    """The assembly seam: which object satisfies each module Protocol in this process.

    A Protocol is satisfied by an implementation handed in from outside (`external`: a stand-in in tests), else
    by the in-process implementation that a hosted module's assembly provided, else, when its module is hosted
    elsewhere (`<MODULE>_SERVICE_URL`), by a client calling that process (`remote`, kernel.remote). Bootstrap
    passes it to each module that asks for it in `assemble`'s signature.
    """

    def __init__(self, external: Mapping[type[Any], object] | None = None, remote: RemoteModules | None = None) -> None:
        self._bound: dict[type[Any], object] = {}
        self._remote = remote
        for protocol, implementation in (external or {}).items():
            self._bind(protocol, implementation)

    def provide(self, module: ModuleDescriptor, assembled: AssembledModule) -> None:
        declared, given = set(module.provides), set(assembled.provides)
        if declared != given:
            raise TypeError(
                f"module {module.name!r} declares provides={_names(declared)} but assembled {_names(given)}"
            )
        for protocol, implementation in assembled.provides.items():
            self._bind(protocol, implementation)

    def _bind(self, protocol: type[Any], implementation: object) -> None:
        if not isinstance(implementation, protocol):
            raise TypeError(f"{type(implementation).__name__} does not implement {protocol.__name__}")
        self._bound.setdefault(protocol, implementation)

    def resolve(self, settings: Settings, consumer: ModuleDescriptor) -> dict[str, object]:
        """`assemble`'s keyword arguments for `consumer`; a dependency nobody satisfies stops the start."""
        arguments: dict[str, object] = {}
        for parameter, protocol in consumer.requirements().items():
            if protocol in self._bound:
                arguments[parameter] = self._bound[protocol]
                continue
            owner = protocol_owner(protocol) or "?"
            setting = f"{owner.upper()}_SERVICE_URL"
            url = settings.service_url(owner) if owner != "?" else None
            if url is None or self._remote is None:
                raise SettingsError(
                    f"{setting}: module {consumer.name!r} needs {owner!r} ({protocol.__name__}), which this process "
                    f"does not host; host it too (FREIGHTDESK_MODULES) or set {setting} to the process that does"
                )
            self._bind(protocol, self._remote.client(protocol, owner, url))
            arguments[parameter] = self._bound[protocol]
        return arguments


def _names(protocols: set[type[Any]]) -> str:
    return "[" + ", ".join(sorted(p.__name__ for p in protocols)) + "]"


def build_runtime(
    settings: Settings,
    modules: Sequence[str] | None = None,
    *,
    external: Mapping[type[Any], object] | None = None,
    remote: RemoteModules | None = None,
) -> Runtime:
    """Assemble the hosted modules in dependency order. `external` satisfies Protocols of modules hosted
    elsewhere, else `remote` makes clients of them (default: from the settings; see `Bindings`)."""
    descriptors = select_modules(settings, modules)
    databases = [module_database(settings, d) for d in descriptors]
    problems = settings.production_problems({db.setting: db.url for db in databases})
    if problems:
        raise SettingsError("production mode refuses insecure settings: " + "; ".join(problems))

    redis = (
        Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_timeout_seconds,
            socket_connect_timeout=settings.redis_timeout_seconds,
        )
        if settings.redis_url
        else None
    )
    store: SharedStore = RedisStore(redis, settings.redis_key_prefix) if redis is not None else MemoryStore()
    security = Security.build(settings, store, signs_tokens=any(d.signs_tokens for d in descriptors))
    remote = remote or RemoteModules(settings, caller=[d.name for d in descriptors])
    hosted = assemble_modules(settings, descriptors, security, bindings=Bindings(external, remote))
    transport = build_transport(settings)
    runtime = Runtime(
        settings=settings, modules=hosted, transport=transport, security=security, redis=redis, remote=remote
    )
    audience = _audience() if isinstance(transport, InProcessTransport) else None
    for module in hosted:
        _subscribe(transport, module)
        if audience is not None:
            module.context.session_maker.configure(info={AUDIENCE_KEY: audience})
        outbox = module.descriptor.database.outbox
        if outbox is not None:
            runtime.relays.append(
                OutboxRelay(
                    outbox,
                    module.context.session_maker,
                    transport,
                    interval=settings.relay_interval_seconds,
                    max_attempts=settings.event_max_attempts,
                )
            )

    health = HealthRegistry(
        version=app_version(),
        transport=transport.name,
        transport_check=transport.check if isinstance(transport, RedisStreamsTransport) else None,
    )
    if redis is not None:
        health.process_checks["redis"] = redis_check(redis)
        health.readiness_checks["redis"] = redis_check(redis, failing=UNHEALTHY)
    for target in remote.modules:
        health.dependencies[target.module] = target.check
    for module in hosted:
        health.modules[module.name] = ModuleProbe(
            module=module.name,
            engine=module.context.engine,
            session_maker=module.context.session_maker,
            outbox=module.descriptor.database.outbox,
            version_table=module.database.version_table,
            head=head_revision(module.name),
        )
    runtime.health = health
    return runtime


def assemble_modules(
    settings: Settings,
    descriptors: Sequence[ModuleDescriptor],
    security: Security,
    external: Mapping[type[Any], object] | None = None,
    *,
    bindings: Bindings | None = None,
) -> list[HostedModule]:
    """Give each module (in dependency order) its database and the Protocols it asks for, and assemble it."""
    bindings = bindings or Bindings(external)
    hosted: list[HostedModule] = []
    for descriptor in descriptors:
        database = module_database(settings, descriptor)
        arguments = bindings.resolve(settings, descriptor)
        database.prepare()
        engine = database.create_engine(
            pool_size=settings.db_pool_size, pre_ping=settings.db_pre_ping, timeout=settings.db_timeout_seconds
        )
        context = ModuleContext(
            name=descriptor.name,
            settings=settings,
            engine=engine,
            session_maker=async_sessionmaker(engine, expire_on_commit=False),
            security=security,
        )
        assembled = descriptor.assemble(context, **arguments)
        bindings.provide(descriptor, assembled)
        hosted.append(HostedModule(descriptor, database, context, assembled))
    return hosted


def _audience() -> EventAudience:
    """What every module of the application subscribes to, hosted here or not: with the in-process transport
    an event of another type reaches nobody. (A process hosting some modules beside servers on another
    transport, such as `freightdesk seed --modules user` in the hybrid shape, must leave `user.created` for
    their relay: it counts the customer module too.)"""
    return EventAudience(
        frozenset(event.event_type for name in available_modules() for event in load_descriptor(name).subscribes_to)
    )


def _subscribe(transport: EventTransport, module: HostedModule) -> None:
    descriptor, subscriptions = module.descriptor, module.assembled.subscriptions
    declared = {e.event_type for e in descriptor.subscribes_to}
    handled = {s.event.event_type for s in subscriptions}
    if declared != handled:
        raise TypeError(
            f"module {descriptor.name!r} declares subscribes_to={sorted(declared)} but handles {sorted(handled)}"
        )
    inbox = descriptor.database.inbox
    if subscriptions and inbox is None:
        raise TypeError(f"module {descriptor.name!r} subscribes to events but has no inbox table")
    for subscription in subscriptions:
        assert inbox is not None
        transport.subscribe(BoundSubscription(descriptor.name, subscription, module.context.session_maker, inbox))
