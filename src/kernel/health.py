"""Health primitives (docs/api.md §7): real checks with latency, rolled up per module and for the process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kernel.events.outbox import Outbox
from kernel.events.relay import outbox_stats

HEALTHY = "healthy"
DEGRADED = "degraded"
UNHEALTHY = "unhealthy"
CHECK_TIMEOUT_SECONDS = 3.0
BACKLOG_AGE_DEGRADED_SECONDS = 300.0

Check = dict[str, Any]
CheckFn = Callable[[], Awaitable[Check]]


def _failure(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT_SECONDS:.0f}s"
    # The exception class is enough to act on; driver messages can carry hosts and user names.
    return f"unreachable ({type(exc).__name__})"


async def check_database(engine: AsyncEngine) -> Check:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return {"status": UNHEALTHY, "latencyMs": _ms(started), "message": _failure(exc)}
    return {"status": HEALTHY, "latencyMs": _ms(started)}


async def current_revision(engine: AsyncEngine, version_table: str) -> str | None:
    async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
        result = await connection.execute(text(f"SELECT version_num FROM {version_table}"))
        return result.scalar_one_or_none()


async def check_migrations(engine: AsyncEngine, version_table: str, head: str | None) -> Check:
    try:
        current = await current_revision(engine, version_table)
    except Exception:
        current = None
    if head is not None and current == head:
        return {"status": HEALTHY, "revision": current}
    return {"status": UNHEALTHY, "revision": current, "head": head, "message": "migrations not applied"}


async def check_outbox(session_maker: async_sessionmaker[AsyncSession], outbox: Outbox) -> Check:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), session_maker() as session:
            stats = await outbox_stats(session, outbox)
    except Exception as exc:
        return {"status": UNHEALTHY, "message": _failure(exc)}
    status = HEALTHY
    if stats.dead or stats.oldest_pending_seconds > BACKLOG_AGE_DEGRADED_SECONDS:
        status = DEGRADED
    return {
        "status": status,
        "outboxBacklog": stats.pending,
        "oldestPendingSeconds": round(stats.oldest_pending_seconds, 3),
        "deadLetters": stats.dead,
    }


def redis_check(client: Redis, failing: str = DEGRADED) -> CheckFn:
    """Redis round trip; a failure reports `failing`. In the process health a failing Redis degrades the
    process, never makes it unhealthy (modules that need no store keep serving); readiness asks with
    `failing=UNHEALTHY`, because without the store no sign-in and no authenticated request can succeed."""

    async def check() -> Check:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await client.ping()
        except Exception as exc:
            return {"status": failing, "latencyMs": _ms(started), "message": _failure(exc)}
        return {"status": HEALTHY, "latencyMs": _ms(started)}

    return check


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def worst(statuses: list[str]) -> str:
    if UNHEALTHY in statuses:
        return UNHEALTHY
    if DEGRADED in statuses:
        return DEGRADED
    return HEALTHY


@dataclass
class ModuleProbe:
    """What one hosted module reports: its database, its migrations, its outbox."""

    module: str
    engine: AsyncEngine
    session_maker: async_sessionmaker[AsyncSession]
    outbox: Outbox | None
    version_table: str
    head: str | None
    extra_checks: Mapping[str, CheckFn] = field(default_factory=dict)

    async def check(self) -> dict[str, Any]:
        checks: dict[str, Check] = {"database": await check_database(self.engine)}
        if checks["database"]["status"] == HEALTHY:
            checks["migrations"] = await check_migrations(self.engine, self.version_table, self.head)
            if self.outbox is not None and checks["migrations"]["status"] == HEALTHY:
                checks["outbox"] = await check_outbox(self.session_maker, self.outbox)
        for name, run in self.extra_checks.items():
            checks[name] = await run()
        return {"status": worst([c["status"] for c in checks.values()]), "checks": checks}


class HealthRegistry:
    """All probes of this process; the app keeps one in its state."""

    def __init__(
        self,
        version: str,
        transport: str = "inprocess",
        started_at: float | None = None,
        transport_check: CheckFn | None = None,
    ) -> None:
        self.version = version
        self.transport = transport
        self.transport_check = transport_check
        """The transport's own figures for `eventBus` (`status`, `deadLetters`, `message?`), when it has any."""
        self.started_at = started_at if started_at is not None else time.monotonic()
        self.modules: dict[str, ModuleProbe] = {}
        self.process_checks: dict[str, CheckFn] = {}
        self.readiness_checks: dict[str, CheckFn] = {}
        """Process-wide dependencies readiness needs besides the module databases (the shared store)."""
        self.dependencies: dict[str, CheckFn] = {}
        """Modules this process calls in other processes (split mode), by name: reported under `dependencies`;
        one that fails degrades the process. Readiness does not ask them: a process is ready to serve what it
        hosts, and a caller's readiness following its callee's would take a whole chain out of service (and
        keep processes that depend on each other's start from ever becoming ready)."""

    def uptime(self) -> float:
        return round(time.monotonic() - self.started_at, 3)

    async def module(self, name: str) -> dict[str, Any]:
        return await self.modules[name].check()

    async def everything(self) -> dict[str, Any]:
        names = list(self.modules)
        results = await asyncio.gather(*(self.modules[n].check() for n in names))
        modules = dict(zip(names, results, strict=True))
        process_checks = {name: await run() for name, run in self.process_checks.items()}
        transport = await self.transport_check() if self.transport_check is not None else None
        process_checks["eventBus"] = self._event_bus(modules, transport)
        dependency_names = list(self.dependencies)
        dependency_checks = await asyncio.gather(*(self.dependencies[n]() for n in dependency_names))
        dependencies = dict(zip(dependency_names, dependency_checks, strict=True))
        module_states = [m["status"] for m in modules.values()]
        other_states = [c["status"] for c in [*process_checks.values(), *dependencies.values()]]
        if module_states and all(s == UNHEALTHY for s in module_states):
            status = UNHEALTHY
        elif any(s != HEALTHY for s in module_states + other_states):
            status = DEGRADED
        else:
            status = HEALTHY
        document: dict[str, Any] = {
            "status": status,
            "version": self.version,
            "uptime": self.uptime(),
            "modules": modules,
            "checks": process_checks,
        }
        if dependencies:
            document["dependencies"] = dependencies
        return document

    def _event_bus(self, modules: dict[str, Any], transport: Check | None = None) -> Check:
        outboxes: list[Check] = []
        unreadable: list[str] = []
        for name, module in modules.items():
            if self.modules[name].outbox is None:
                continue
            outbox = module["checks"].get("outbox")
            if outbox is None or "outboxBacklog" not in outbox:
                unreadable.append(name)  # a backlog we cannot count must not look like an empty one
            else:
                outboxes.append(outbox)
        check: Check = {
            "status": worst(
                [o["status"] for o in outboxes]
                + ([DEGRADED] if unreadable else [])
                + ([transport["status"]] if transport else [])
            ),
            "transport": self.transport,
            "outboxBacklog": sum(o.get("outboxBacklog", 0) for o in outboxes),
            "oldestPendingSeconds": max((o.get("oldestPendingSeconds", 0.0) for o in outboxes), default=0.0),
            "deadLetters": sum(o.get("deadLetters", 0) for o in outboxes) + (transport or {}).get("deadLetters", 0),
        }
        messages = [transport["message"]] if transport and transport.get("message") else []
        if unreadable:
            check["unreadableOutboxes"] = unreadable
            messages.append("the outbox of " + ", ".join(unreadable) + " cannot be read; totals leave it out")
        if messages:
            check["message"] = "; ".join(messages)
        return check

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        """Ready when every hosted module's database answers and its migrations are at head, and every
        readiness check (Redis, when configured) passes. Returns the verdict and `{modules, checks?}`."""
        names = list(self.modules)
        results = await asyncio.gather(*(self._readiness(self.modules[name]) for name in names))
        document: dict[str, Any] = {"modules": dict(zip(names, results, strict=True))}
        ok = all(r["database"]["status"] == HEALTHY and r["migrations"]["status"] == HEALTHY for r in results)
        if self.readiness_checks:
            checks = {name: await run() for name, run in self.readiness_checks.items()}
            document["checks"] = checks
            ok = ok and all(c["status"] == HEALTHY for c in checks.values())
        return ok, document

    @staticmethod
    async def _readiness(probe: ModuleProbe) -> dict[str, Check]:
        database = await check_database(probe.engine)
        migrations: Check = (
            await check_migrations(probe.engine, probe.version_table, probe.head)
            if database["status"] == HEALTHY
            else {"status": UNHEALTHY, "message": "database unreachable"}
        )
        return {"database": database, "migrations": migrations}
