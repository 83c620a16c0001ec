"""Health routes: the process (`/health`, `/health/live`, `/health/ready`) and one per module."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from kernel.health import UNHEALTHY, HealthRegistry
from kernel.http.access import PUBLIC
from kernel.http.envelope import error_body, success_body, utc_timestamp
from kernel.http.openapi import ErrorBody, Timestamp

HEALTH_STATE_KEY = "health"
NO_STORE = {"Cache-Control": "no-store"}


# ---- the documents, as the OpenAPI document describes them (kernel/health.py builds them as dicts)

Status = Literal["healthy", "degraded", "unhealthy"]


class _Document(msgspec.Struct, kw_only=True, rename="camel"):
    pass


class DatabaseCheck(_Document):
    status: Status
    latency_ms: float
    message: str | msgspec.UnsetType = msgspec.UNSET


class MigrationsCheck(_Document):
    status: Status
    revision: str | msgspec.UnsetType | None = msgspec.UNSET
    head: str | msgspec.UnsetType | None = msgspec.UNSET
    message: str | msgspec.UnsetType = msgspec.UNSET


class OutboxCheck(_Document):
    """The figures are missing when the outbox could not be read (`message` says why)."""

    status: Status
    outbox_backlog: int | msgspec.UnsetType = msgspec.UNSET
    oldest_pending_seconds: float | msgspec.UnsetType = msgspec.UNSET
    dead_letters: int | msgspec.UnsetType = msgspec.UNSET
    message: str | msgspec.UnsetType = msgspec.UNSET


class ModuleChecks(_Document):
    """`migrations` once the database answers; `outbox` once the migrations are applied."""

    database: DatabaseCheck
    migrations: MigrationsCheck | msgspec.UnsetType = msgspec.UNSET
    outbox: OutboxCheck | msgspec.UnsetType = msgspec.UNSET


class ModuleStatus(_Document):
    status: Status
    checks: ModuleChecks


class StoreCheck(_Document):
    """Redis: a failing one degrades the process, never makes it unhealthy."""

    status: Status
    latency_ms: float
    message: str | msgspec.UnsetType = msgspec.UNSET


class EventBusCheck(_Document):
    status: Status
    transport: str
    outbox_backlog: int
    oldest_pending_seconds: float
    dead_letters: int
    unreadable_outboxes: list[str] | msgspec.UnsetType = msgspec.UNSET
    message: str | msgspec.UnsetType = msgspec.UNSET


class ProcessChecks(_Document):
    event_bus: EventBusCheck
    redis: StoreCheck | msgspec.UnsetType = msgspec.UNSET


class DependencyCheck(_Document):
    """A module this process calls in another process (split mode): a failing one degrades the process."""

    status: Status
    reachable: bool
    circuit: Literal["closed", "open", "half-open"]
    latency_ms: float
    message: str | msgspec.UnsetType = msgspec.UNSET


class ProcessHealth(_Document):
    timestamp: Timestamp
    status: Status
    version: str
    uptime: float
    modules: dict[str, ModuleStatus]
    checks: ProcessChecks
    dependencies: dict[str, DependencyCheck] | msgspec.UnsetType = msgspec.UNSET
    """Present in a process that calls modules hosted elsewhere, by module name."""


class ModuleHealth(_Document):
    timestamp: Timestamp
    module: str
    version: str
    uptime: float
    status: Status
    checks: ModuleChecks


class ModuleReadiness(_Document):
    database: DatabaseCheck
    migrations: MigrationsCheck


class ReadinessChecks(_Document):
    redis: StoreCheck | msgspec.UnsetType = msgspec.UNSET


class Readiness(_Document):
    timestamp: Timestamp
    status: Status
    modules: dict[str, ModuleReadiness]
    checks: ReadinessChecks | msgspec.UnsetType = msgspec.UNSET
    """Present when the process depends on Redis (`REDIS_URL`): sign-ins and revocation checks need it."""


class Liveness(_Document):
    timestamp: Timestamp
    status: Status


class ProcessHealthFailure(ErrorBody):
    """503: the error shape with the health document under `data`."""

    data: ProcessHealth


class ModuleHealthFailure(ErrorBody):
    """503: the error shape with the module's health document under `data`."""

    data: ModuleHealth


class ReadinessFailure(ErrorBody):
    """503: the error shape with the readiness document under `data`."""

    data: Readiness


def _documents(healthy: type[Any], failure: type[Any] | None = None) -> dict[int, ResponseSpec]:
    responses = {200: ResponseSpec(data_container=healthy, description="Healthy or degraded")}
    if failure is not None:
        responses[503] = ResponseSpec(data_container=failure, description="Unhealthy")
    return responses


def _registry(request: Request[Any, Any, Any]) -> HealthRegistry:
    registry: HealthRegistry = request.app.state[HEALTH_STATE_KEY]
    return registry


def health_response(request: Request[Any, Any, Any], document: dict[str, Any], healthy: bool) -> Response[Any]:
    """200 with the success envelope, or 503 with the error shape carrying the document under `data`."""
    document = {"timestamp": utc_timestamp(), **document}
    if healthy:
        body = success_body(document, 200, "GET")
        return Response(body, status_code=200, media_type=MediaType.JSON, headers=NO_STORE)
    body = error_body(request, 503, "Service Unavailable", data=document)
    return Response(body, status_code=503, media_type=MediaType.JSON, headers=NO_STORE)


def module_health_route(path: str, module: str) -> HTTPRouteHandler:
    """`GET <path>`: one module's own status; 503 only when that module is unhealthy."""

    async def module_health(request: Request[Any, Any, Any]) -> Response[Any]:
        registry = _registry(request)
        document = {"module": module, "version": registry.version, "uptime": registry.uptime()}
        document.update(await registry.module(module))
        return health_response(request, document, document["status"] != UNHEALTHY)

    module_health.__name__ = f"{module}_health"
    return get(
        path,
        opt=PUBLIC,
        tags=["health"],
        summary=f"{module} module health",
        responses=_documents(ModuleHealth, ModuleHealthFailure),
    )(module_health)


@get(
    "/health",
    opt=PUBLIC,
    tags=["health"],
    summary="Health of the whole process",
    responses=_documents(ProcessHealth, ProcessHealthFailure),
)
async def process_health(request: Request[Any, Any, Any]) -> Response[Any]:
    document = await _registry(request).everything()
    return health_response(request, document, document["status"] != UNHEALTHY)


@get(
    "/health/live",
    opt=PUBLIC,
    tags=["health"],
    summary="Liveness: answers while the process runs (no I/O)",
    responses=_documents(Liveness),
)
async def process_live(request: Request[Any, Any, Any]) -> Response[Any]:
    return health_response(request, {"status": "healthy"}, True)


@get(
    "/health/ready",
    opt=PUBLIC,
    tags=["health"],
    summary="Readiness: migrations applied, databases and (when configured) Redis answer",
    responses=_documents(Readiness, ReadinessFailure),
)
async def process_ready(request: Request[Any, Any, Any]) -> Response[Any]:
    ok, document = await _registry(request).ready()
    return health_response(request, {"status": "healthy" if ok else UNHEALTHY, **document}, ok)


PROCESS_HEALTH_ROUTES = [process_health, process_live, process_ready]
