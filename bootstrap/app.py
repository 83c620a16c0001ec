"""`create_app`: one Litestar app hosting the selected modules, each with its own database engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.plugins import InitPluginProtocol

from bootstrap.runtime import Runtime, app_version, build_runtime
from kernel.http.access import ACCESS_POLICY_STATE_KEY, SERVICE_POLICY_STATE_KEY, access_guard, access_of
from kernel.http.body import check_request
from kernel.http.client_address import client_address_middleware
from kernel.http.docs_ui import OfflineSwaggerUI, docs_router
from kernel.http.envelope import EnvelopedResponse
from kernel.http.errors import exception_handlers
from kernel.http.health import HEALTH_STATE_KEY, PROCESS_HEALTH_ROUTES
from kernel.http.metrics import METRICS_PERMISSION, metrics
from kernel.http.observe import AccessLogMode, observe_requests
from kernel.http.openapi import OpenAPIDocumentPlugin
from kernel.http.rate_limit import RATE_LIMITER_STATE_KEY, rate_limit_guard
from kernel.logging import configure_logging
from kernel.remote.client import RemoteModules
from kernel.remote.server import internal_router
from kernel.remote.tokens import ServiceAccessPolicy, ServiceTokens
from kernel.security.policy import TokenAccessPolicy
from kernel.security.principal import PRINCIPAL_DEPENDENCY, provide_principal
from kernel.security.throttle import RateLimiter
from kernel.settings import Settings

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024
RUNTIME_STATE_KEY = "runtime"


async def before_each_request(request: Request[Any, Any, Any]) -> None:
    """The app's `before_request` hook, before any dependency or body is resolved: who may (the access
    declaration), how often (the rate limit), then the path ids and the body as written (kernel.http.body).

    Not a Litestar guard: Litestar copies the route handler for every guard it calls, which cost a fast route
    about a twentieth of its throughput. The start check below makes sure no route replaces this hook or
    answers from a response cache (which Litestar consults before the hook)."""
    handler = request.route_handler
    await access_guard(request, handler)
    await rate_limit_guard(request, handler)
    await check_request(request)


class UndeclaredAccess(RuntimeError):
    """A route that declares no access, or would skip the check of it: refused at start."""


def check_access_declarations(app: Litestar) -> None:
    """Every route declares its access, and every route is checked by `before_each_request`."""
    undeclared, unguarded = [], []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            methods = [
                f"{method} {route.path}" for method in sorted(handler.http_methods) if method not in {"OPTIONS", "HEAD"}
            ]
            if access_of(handler) is None:
                undeclared += methods
            if handler.resolve_before_request() is not before_each_request or handler.cache:
                unguarded += methods
    if undeclared:
        raise UndeclaredAccess("routes without an access declaration: " + ", ".join(undeclared))
    if unguarded:
        raise UndeclaredAccess("routes that skip the access check: " + ", ".join(unguarded))


class RuntimePlugin(InitPluginProtocol):
    """Runs the transport and the outbox relays while the app runs; then disposes of the module engines and
    closes the Redis client."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.lifespan)
        return app_config

    @asynccontextmanager
    async def lifespan(self, _app: Litestar) -> AsyncIterator[None]:
        await self.runtime.transport.start()
        # Deliver what an earlier run committed but did not deliver (a kill -9 between the two), so the effects
        # of those events, revocations among them, hold before the first request is served.
        for relay in self.runtime.relays:
            await relay.drain_at_start()
        services = [service for m in self.runtime.modules for service in m.assembled.background]
        for service in services:
            await service.start()
        for relay in self.runtime.relays:
            relay.start()
        try:
            yield
        finally:
            for relay in self.runtime.relays:
                await relay.stop()
            for service in reversed(services):
                await service.stop()
            await self.runtime.transport.stop()
            await self.runtime.dispose()


def create_app(
    settings: Settings | None = None,
    modules: Sequence[str] | None = None,
    *,
    external: Mapping[type[Any], object] | None = None,
    remote: RemoteModules | None = None,
) -> Litestar:
    """The app hosting `modules` (default: FREIGHTDESK_MODULES, else all). The Protocols of modules hosted
    elsewhere are satisfied by `external`, else by clients of their processes that `remote` makes (default:
    at their `<MODULE>_SERVICE_URL`; `bootstrap.runtime.Bindings`)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_json)
    runtime = build_runtime(settings, modules, external=external, remote=remote)
    return _app_for(runtime)


def _app_for(runtime: Runtime) -> Litestar:
    settings = runtime.settings
    api = Router(
        path=API_PREFIX,
        route_handlers=[
            *PROCESS_HEALTH_ROUTES,
            *(route for m in runtime.modules for route in m.assembled.routes),
        ],
    )

    # What the hosted modules provide, for the processes that host their consumers (split mode); open only to
    # a service token, never part of the API or its document.
    internal = internal_router({m.name: m.assembled.provides for m in runtime.modules})

    app = Litestar(
        route_handlers=[api, internal, metrics],
        plugins=[RuntimePlugin(runtime)],
        dependencies={PRINCIPAL_DEPENDENCY: Provide(provide_principal)},
        before_request=before_each_request,
        # every later reader (rate limits, sessions) sees the client's own address
        middleware=[client_address_middleware(settings.trusted_proxies)] if settings.trusted_proxies else [],
        exception_handlers=exception_handlers(),
        response_class=EnvelopedResponse,
        request_max_body_size=MAX_BODY_BYTES,
        cors_config=(
            CORSConfig(
                allow_origins=list(settings.cors_origins), expose_headers=["X-Correlation-ID", "Retry-After", "ETag"]
            )
            if settings.cors_origins
            else None
        ),
        openapi_config=OpenAPIConfig(
            title="Freightdesk API",
            version=app_version(),
            description="Freightdesk back office API v1 (the whole contract: docs/api.md). Success bodies are "
            "wrapped in {data, message, statusCode, timestamp, success}; errors use "
            "{message, statusCode, error, timestamp, path, fieldErrors?}.",
            openapi_router=docs_router(),
            render_plugins=[OfflineSwaggerUI(), OpenAPIDocumentPlugin()],
        ),
        state=State(
            {
                HEALTH_STATE_KEY: runtime.health,
                ACCESS_POLICY_STATE_KEY: TokenAccessPolicy(
                    runtime.security.verifier,
                    {settings.metrics_token: frozenset({METRICS_PERMISSION})} if settings.metrics_token else None,
                ),
                RATE_LIMITER_STATE_KEY: RateLimiter(runtime.security.store),
                SERVICE_POLICY_STATE_KEY: ServiceAccessPolicy(
                    ServiceTokens(settings.service_token_secret(), issuer=",".join(runtime.names))
                ),
                RUNTIME_STATE_KEY: runtime,
            }
        ),
        debug=False,
        logging_config=None,
    )
    check_access_declarations(app)
    # Outside routing, so answers that reach no route are observed too (kernel.http.observe).
    app.asgi_handler = observe_requests(
        app.asgi_handler, access=AccessLogMode(settings.access_log), slow_ms=settings.access_log_slow_ms
    )
    return app
