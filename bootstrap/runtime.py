"""The wired process without HTTP: databases, interfaces, event transport, relays, health probes.

`create_app` serves it over HTTP; the CLI uses it for seeding and dead-letter work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bootstrap.catalog import select_modules
from bootstrap.migrate import head_revision
from kernel.db.config import ModuleDatabase, configure_engine, new_session_maker
from kernel.events.relay import OutboxRelay
from kernel.events.transport import BoundSubscription, EventTransport, InProcessTransport
from kernel.health import HealthRegistry, ModuleProbe, redis_check
from kernel.modules import Interfaces, ModuleContext, ModuleDescriptor
from kernel.security.context import Security
from kernel.settings import Settings, SettingsError
from kernel.store import MemoryStore, RedisStore, SharedStore


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
    config: SQLAlchemyAsyncConfig
    engine: AsyncEngine
    session_maker: async_sessionmaker[AsyncSession]
    context: ModuleContext


@dataclass
class Runtime:
    settings: Settings
    modules: list[HostedModule]
    interfaces: Interfaces
    transport: EventTransport
    security: Security
    relays: list[OutboxRelay] = field(default_factory=list)
    health: HealthRegistry = field(default_factory=lambda: HealthRegistry(version=app_version()))
    redis: Redis | None = None

    @property
    def names(self) -> list[str]:
        return [m.descriptor.name for m in self.modules]

    def module(self, name: str) -> HostedModule:
        for hosted in self.modules:
            if hosted.descriptor.name == name:
                return hosted
        raise KeyError(name)

    async def seed(self, demo: bool, only: Sequence[str] | None = None) -> None:
        for hosted in self.modules:
            if hosted.descriptor.seed is not None and (only is None or hosted.descriptor.name in only):
                await hosted.descriptor.seed(hosted.context, demo)

    async def dispose(self) -> None:
        for hosted in self.modules:
            await hosted.engine.dispose()
        await self.close_redis()

    async def close_redis(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def build_transport(settings: Settings) -> EventTransport:
    if settings.event_transport == "inprocess":
        return InProcessTransport()
    raise SettingsError("FREIGHTDESK_EVENT_TRANSPORT: 'redis' is not available in this version; use 'inprocess'")


def build_runtime(settings: Settings, modules: Sequence[str] | None = None) -> Runtime:
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
    interfaces = Interfaces()
    transport = build_transport(settings)
    hosted: list[HostedModule] = []
    for descriptor, database in zip(descriptors, databases, strict=True):
        database.prepare()
        config = database.sqlalchemy_config(
            pool_size=settings.db_pool_size, pre_ping=settings.db_pre_ping, timeout=settings.db_timeout_seconds
        )
        engine = config.get_engine()
        configure_engine(engine, settings.db_timeout_seconds)
        session_maker = new_session_maker(engine)
        context = ModuleContext(
            name=descriptor.name,
            settings=settings,
            session_maker=session_maker,
            engine=engine,
            interfaces=interfaces,
            security=security,
        )
        for protocol, factory in descriptor.provides.items():
            interfaces.bind(protocol, factory(context))
        hosted.append(HostedModule(descriptor, database, config, engine, session_maker, context))

    runtime = Runtime(
        settings=settings,
        modules=hosted,
        interfaces=interfaces,
        transport=transport,
        security=security,
        redis=redis,
    )
    for module in hosted:
        outbox = module.descriptor.database.outbox
        for subscription in module.descriptor.subscriptions:
            if outbox is None:
                raise TypeError(f"module {module.descriptor.name!r} subscribes to events but has no inbox table")
            transport.subscribe(BoundSubscription(module.descriptor.name, subscription, module.session_maker, outbox))
        if outbox is not None:
            runtime.relays.append(
                OutboxRelay(
                    outbox,
                    module.session_maker,
                    transport,
                    interval=settings.relay_interval_seconds,
                    max_attempts=settings.event_max_attempts,
                )
            )

    health = HealthRegistry(version=app_version(), transport=transport.name)
    if redis is not None:
        health.process_checks["redis"] = redis_check(redis)
    for module in hosted:
        health.modules[module.descriptor.name] = ModuleProbe(
            module=module.descriptor.name,
            engine=module.engine,
            session_maker=module.session_maker,
            outbox=module.descriptor.database.outbox,
            version_table=module.database.version_table,
            head=head_revision(module.descriptor.name),
        )
    runtime.health = health
    return runtime
