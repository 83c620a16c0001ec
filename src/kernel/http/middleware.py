"""ASGI middleware: correlation ID in and out, one access-log line per request."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kernel.correlation import HEADER, accept_or_new, set_correlation_id

access_log = logging.getLogger("freightdesk.access")


def correlation_id_of(scope: Scope) -> str:
    """The request's `X-Correlation-ID` when acceptable, else a new one."""
    incoming = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == HEADER.encode()), None)
    return accept_or_new(incoming)


def correlation_middleware_factory(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        correlation_id = correlation_id_of(scope)
        set_correlation_id(correlation_id)
        started = time.perf_counter()
        status: dict[str, Any] = {}

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers["X-Correlation-ID"] = correlation_id
            await send(message)

        try:
            await app(scope, receive, send_with_header)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status.get("code"),
                        "durationMs": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            set_correlation_id(None)

    return middleware


async def ensure_correlation_header(message: Message, scope: Scope) -> None:
    """App-level `before_send` hook: responses that never reach a route (unknown path, wrong method, CORS
    preflight) carry an `X-Correlation-ID` too. Routed responses already have the middleware's."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    if "X-Correlation-ID" not in headers:
        headers["X-Correlation-ID"] = correlation_id_of(scope)
