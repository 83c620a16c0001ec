"""Health routes: the process (`/health`, `/health/live`, `/health/ready`) and one per module."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.handlers import HTTPRouteHandler

from kernel.health import UNHEALTHY, HealthRegistry
from kernel.http.access import PUBLIC
from kernel.http.envelope import error_body, success_body, utc_timestamp

HEALTH_STATE_KEY = "health"
NO_STORE = {"Cache-Control": "no-store"}


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
    return get(path, opt=PUBLIC, tags=["health"], summary=f"{module} module health", include_in_schema=True)(
        module_health
    )


@get("/health", opt=PUBLIC, tags=["health"], summary="Health of the whole process")
async def process_health(request: Request[Any, Any, Any]) -> Response[Any]:
    document = await _registry(request).everything()
    return health_response(request, document, document["status"] != UNHEALTHY)


@get("/health/live", opt=PUBLIC, tags=["health"], summary="Liveness: answers while the process runs (no I/O)")
async def process_live(request: Request[Any, Any, Any]) -> Response[Any]:
    return health_response(request, {"status": "healthy"}, True)


@get(
    "/health/ready",
    opt=PUBLIC,
    tags=["health"],
    summary="Readiness: migrations applied, databases and (when configured) Redis answer",
)
async def process_ready(request: Request[Any, Any, Any]) -> Response[Any]:
    ok, document = await _registry(request).ready()
    return health_response(request, {"status": "healthy" if ok else UNHEALTHY, **document}, ok)


PROCESS_HEALTH_ROUTES = [process_health, process_live, process_ready]
