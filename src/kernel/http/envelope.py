"""The v1 success and error envelopes (docs/api.md §1)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from litestar import Request, Response
from litestar.response.base import ASGIResponse

if TYPE_CHECKING:
    from litestar import Litestar

RAW_BODY = "raw_body"
"""Route `opt` key: the handler's return value is sent as is (e.g. the JWKS document)."""


_formatted: tuple[int, str] = (-1, "")


def utc_timestamp() -> str:
    """Now, as every envelope says it: ISO 8601 UTC with milliseconds. Formatted once per millisecond: under
    load many answers share one, and formatting a datetime was 4 % of a cached read's CPU."""
    global _formatted
    millisecond = time.time_ns() // 1_000_000
    if _formatted[0] != millisecond:
        seconds, milliseconds = divmod(millisecond, 1000)
        moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=milliseconds * 1000)
        _formatted = (millisecond, moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    return _formatted[1]


def success_message(status_code: int, method: str) -> str:
    if status_code == 201 or method == "POST":
        return "Created successfully"
    if method in {"PUT", "PATCH"}:
        return "Updated successfully"
    if method == "DELETE":
        return "Deleted successfully"
    return "Success"


def reason_phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def success_body(data: Any, status_code: int, method: str) -> dict[str, Any]:
    return {
        "data": data,
        "message": success_message(status_code, method),
        "statusCode": status_code,
        "timestamp": utc_timestamp(),
        "success": True,
    }


def request_path(request: Request[Any, Any, Any]) -> str:
    """The path as the client sent it (still percent-encoded, like the query string), with the query."""
    query = request.scope.get("query_string", b"")
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) and raw_path else request.scope.get("path", "/")
    return f"{path}?{query.decode('latin-1')}" if query else str(path)


def error_body(
    request: Request[Any, Any, Any],
    status_code: int,
    message: str,
    field_errors: dict[str, list[str]] | None = None,
    data: Any = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": message,
        "statusCode": status_code,
        "error": reason_phrase(status_code),
        "timestamp": utc_timestamp(),
        "path": request_path(request),
    }
    if field_errors:
        body["fieldErrors"] = field_errors
    if data is not None:
        body["data"] = data
    return body


class EnvelopedResponse(Response[Any]):
    """The app's response class: wraps what a handler returns in the success envelope."""

    def to_asgi_response(self, app: Litestar | None, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        status = kwargs.get("status_code") or self.status_code or 200
        if status != 204 and not request.route_handler.opt.get(RAW_BODY):
            self.content = success_body(self.content, status, request.method)
        return super().to_asgi_response(app, request, **kwargs)
