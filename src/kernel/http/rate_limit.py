"""Per-route rate limits, declared next to the access declaration and applied by one app-wide guard:

    @post("/auth/register", opt={**PUBLIC, **rate_limited(REGISTER_LIMIT)})

The guard runs before the body is read, so malformed requests count too. Requests are counted per client IP
(`request.client`, see kernel.http.client_address) in the shared store (kernel.security.throttle).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from kernel.security.throttle import RateLimit, RateLimiter

RATE_LIMIT = "rate_limit"
RATE_LIMITER_STATE_KEY = "rate_limiter"
UNKNOWN_CLIENT = "unknown"


def rate_limited(limit: RateLimit) -> dict[str, Any]:
    return {RATE_LIMIT: limit}


def rate_limit_of(handler: BaseRouteHandler) -> RateLimit | None:
    limit = handler.opt.get(RATE_LIMIT)
    return limit if isinstance(limit, RateLimit) else None


async def rate_limit_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    limit = rate_limit_of(handler)
    if limit is None:
        return
    limiter: RateLimiter = connection.app.state[RATE_LIMITER_STATE_KEY]
    await limiter.hit(limit, connection.client.host if connection.client else UNKNOWN_CLIENT)
