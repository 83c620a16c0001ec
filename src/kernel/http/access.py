"""The per-route access declaration: every route is either public or names one permission.

    @get("/carriers/{carrier_id:int}", opt=requires("carriers.read"))
    @get("/carriers/health", opt=PUBLIC)
    @get("/auth/profile", opt=AUTHENTICATED)

The app-wide guard reads the declaration and asks the access policy that bootstrap installed; a route with no
declaration cannot be mounted (bootstrap refuses to start).
"""

from __future__ import annotations

from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from kernel.security.policy import AUTHENTICATED_ONLY as AUTHENTICATED_ONLY

PERMISSION = "permission"
PUBLIC_FLAG = "public"
PUBLIC: dict[str, Any] = {PUBLIC_FLAG: True}
AUTHENTICATED: dict[str, Any] = {PERMISSION: AUTHENTICATED_ONLY}
"""Any valid token; the handler decides further (owner-or-permission routes, own profile, logout)."""


def requires(permission: str) -> dict[str, Any]:
    return {PERMISSION: permission}


def access_of(handler: BaseRouteHandler) -> str | None:
    """`"public"`, the permission name, or None when the route declares nothing."""
    if handler.opt.get(PUBLIC_FLAG) is True:
        return "public"
    permission = handler.opt.get(PERMISSION)
    return permission if isinstance(permission, str) and permission else None


class AccessPolicy(Protocol):
    async def authorize(self, connection: ASGIConnection[Any, Any, Any, Any], permission: str) -> None:
        """Return when the caller holds `permission`; raise Unauthorized/Forbidden otherwise."""


ACCESS_POLICY_STATE_KEY = "access_policy"


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
    policy: AccessPolicy = connection.app.state[ACCESS_POLICY_STATE_KEY]
    await policy.authorize(connection, decision)
