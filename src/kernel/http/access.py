"""The per-route access declaration: every route is public, names one permission, or is for other processes.

    @get("/carriers/{carrier_id:int}", opt=requires("carriers.read"))
    @get("/carriers/health", opt=PUBLIC)
    @get("/auth/profile", opt=AUTHENTICATED)
    @post("/internal/v1/carrier/CarrierDirectory/get_carrier", opt=SERVICE)

The app-wide check (`access_guard`, run by the app's `before_request` hook) reads the declaration and asks the
access policy that bootstrap installed; a route with no
declaration cannot be mounted (bootstrap refuses to start).
"""

from __future__ import annotations

from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from kernel.contracts.errors import Unauthorized
from kernel.security.policy import AUTHENTICATED_ONLY as AUTHENTICATED_ONLY

PERMISSION = "permission"
PUBLIC_FLAG = "public"
PUBLIC: dict[str, Any] = {PUBLIC_FLAG: True}
AUTHENTICATED: dict[str, Any] = {PERMISSION: AUTHENTICATED_ONLY}
"""Any valid token; the handler decides further (owner-or-permission routes, own profile, logout)."""
SERVICE_FLAG = "service"
SERVICE: dict[str, Any] = {SERVICE_FLAG: True}
"""Other processes of the deployment only, by a service token (split mode's internal routes, kernel.remote);
no user's token opens such a route, whatever it grants."""
SERVICE_ONLY = "service"
"""What `access_of` answers for a `SERVICE` route."""


def requires(permission: str) -> dict[str, Any]:
    if permission in {"public", SERVICE_ONLY}:
        raise ValueError(f"{permission!r} is a kind of access, not a permission")
    return {PERMISSION: permission}


def access_of(handler: BaseRouteHandler) -> str | None:
    """`"public"`, `"service"`, the permission name, or None when the route declares nothing."""
    if handler.opt.get(SERVICE_FLAG) is True:  # before PUBLIC: of two declarations, the closed one holds
        return SERVICE_ONLY
    if handler.opt.get(PUBLIC_FLAG) is True:
        return "public"
    permission = handler.opt.get(PERMISSION)
    return permission if isinstance(permission, str) and permission else None


class AccessPolicy(Protocol):
    async def authorize(self, connection: ASGIConnection[Any, Any, Any, Any], permission: str) -> None:
        """Return when the caller holds `permission`; raise Unauthorized/Forbidden otherwise."""


ACCESS_POLICY_STATE_KEY = "access_policy"
SERVICE_POLICY_STATE_KEY = "service_access_policy"
"""The policy of `SERVICE` routes (`kernel.remote.tokens.ServiceAccessPolicy`); without one they answer 401."""


def _only_options(handler: BaseRouteHandler) -> bool:
    """Litestar's automatic OPTIONS handlers (they describe a route; they never reach a module)."""
    methods: set[str] = getattr(handler, "http_methods", set())
    return bool(methods) and methods <= {"OPTIONS", "HEAD"}


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    decision = access_of(handler)
    if decision == "public" or _only_options(handler):
        return
    if decision is None:
        raise RuntimeError(f"route {handler} declares no access rule")
    if decision == SERVICE_ONLY:
        service_policy: AccessPolicy | None = connection.app.state.get(SERVICE_POLICY_STATE_KEY)
        if service_policy is None:
            raise Unauthorized("Service token required")
        await service_policy.authorize(connection, SERVICE_ONLY)
        return
    policy: AccessPolicy = connection.app.state[ACCESS_POLICY_STATE_KEY]
    await policy.authorize(connection, decision)
