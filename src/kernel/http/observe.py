"""What every HTTP request passes through first: its correlation ID, its request metrics, its access-log line.

One plain ASGI wrapper around the whole app (`observe_requests`), outside Litestar's routing, so that answers
that never reach a route (unknown path, wrong method, CORS preflight) are counted and carry their
`X-Correlation-ID` like every other. It adds one wrapped `send` per request and nothing per route:

- the correlation ID comes from `X-Correlation-ID` when acceptable (`kernel.correlation`), else is new; it is
  set for the logs of the request and appended to the response's headers;
- the request metrics use label children made once per (method, route template, status) and kept, so a
  request costs two dictionary look-ups, one counter and one histogram update (docs/operations.md#metrics);
- the access log (`FREIGHTDESK_ACCESS_LOG`): `all` writes a line per request; `errors` (the default) only for
  answers with status 400 or more and for requests slower than `FREIGHTDESK_ACCESS_LOG_SLOW_MS`, so the
  happy path formats no record; `off` writes none. Request counts by route and status are in the metrics
  whatever the mode.
"""

from __future__ import annotations

import logging
import time
from enum import StrEnum
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from kernel.correlation import HEADER, accept_or_new, set_correlation_id

access_log = logging.getLogger("freightdesk.access")

APP_NAME = "freightdesk"
UNMATCHED = "<unmatched>"
"""The `path` label of requests that matched no route (each would otherwise be a label value of its own)."""
_CORRELATION_HEADER = HEADER.encode()
_NOT_COUNTED = frozenset({"/metrics"})


class AccessLogMode(StrEnum):
    ALL = "all"
    ERRORS = "errors"
    OFF = "off"


_LABELS = ("method", "path", "status_code", "app_name")
REQUESTS = Counter(f"{APP_NAME}_requests", "Requests served", _LABELS)
REQUEST_DURATION = Histogram(f"{APP_NAME}_request_duration_seconds", "Request latency", _LABELS)
REQUEST_ERRORS = Counter(f"{APP_NAME}_requests_error", "Requests answered with a 5xx status", _LABELS)
IN_PROGRESS = Gauge(
    f"{APP_NAME}_requests_in_progress", "Requests being served", ["app_name"], multiprocess_mode="livesum"
)


class RequestMetrics:
    """The request counters and latency histogram, with one set of label children per route and status."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
        self.in_progress = IN_PROGRESS.labels(app_name=APP_NAME)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, path, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, path, str(status), APP_NAME)
            error = REQUEST_ERRORS.labels(*labels) if status >= 500 else None
            children = self._children[key] = (REQUESTS.labels(*labels), REQUEST_DURATION.labels(*labels), error)
        count, duration, error = children
        count.inc()
        duration.observe(seconds)
        if error is not None:
            error.inc()


def correlation_id_of(scope: Scope) -> str:
    """The request's `X-Correlation-ID` when acceptable, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == _CORRELATION_HEADER:
            return accept_or_new(value.decode("latin-1"))
    return accept_or_new(None)


def observe_requests(app: ASGIApp, *, access: AccessLogMode = AccessLogMode.ERRORS, slow_ms: float = 1000.0) -> ASGIApp:
    """`app` with correlation IDs, request metrics and the access log (see the module's docstring)."""
    metrics = RequestMetrics()
    log_all = access is AccessLogMode.ALL
    log_problems = access is AccessLogMode.ERRORS
    slow_seconds = slow_ms / 1000

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        correlation_id = correlation_id_of(scope)
        correlation_header = (_CORRELATION_HEADER, correlation_id.encode("latin-1"))
        set_correlation_id(correlation_id)
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before it answers

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), correlation_header]
            await send(message)

        metrics.in_progress.inc()
        try:
            await app(scope, receive, send_observed)
        finally:
            metrics.in_progress.dec()
            seconds = time.perf_counter() - started
            path = scope.get("path_template") or UNMATCHED
            if path not in _NOT_COUNTED:
                metrics.observe(scope["method"], path, status, seconds)
            if log_all or (log_problems and (status >= 400 or seconds >= slow_seconds)):
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "durationMs": round(seconds * 1000, 2),
                    },
                )
            set_correlation_id(None)

    return observed
