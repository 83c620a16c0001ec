"""The error responses every route can give, written into the OpenAPI document in the v1 error shape.

Litestar documents a 400 in its own `{status_code, detail, extra}` shape and nothing else; clients generated
from the document would then expect a body the API never sends.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from kernel.http.access import access_of


class ErrorBody(msgspec.Struct, kw_only=True, rename="camel"):
    """docs/api.md §1: every 4xx/5xx body."""

    message: str
    status_code: int
    error: str
    timestamp: str
    path: str
    field_errors: dict[str, list[str]] | msgspec.UnsetType = msgspec.UNSET


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)


_ALWAYS = {
    400: _spec("Validation failed (fieldErrors keyed by request field) or malformed JSON"),
    503: _spec("A database or the shared store is unavailable; retry after Retry-After"),
}
_GUARDED = {401: _spec("No valid access token"), 403: _spec("The token lacks the route's permission")}
_WITH_ID = {404: _spec("Not found")}
_WRITES = {
    409: _spec("Conflicts with existing data or a rule (e.g. the last administrator)"),
    413: _spec("Body over 1 MiB"),
    429: _spec("Too many failed password checks for this email; see Retry-After"),
}


def document_error_responses(app: Litestar) -> None:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            responses: dict[int, Any] = dict(_ALWAYS)
            if access_of(handler) != "public":
                responses.update(_GUARDED)
            if "{" in route.path:
                responses.update(_WITH_ID)
            if handler.http_methods & {"POST", "PUT", "PATCH", "DELETE"}:
                responses.update(_WRITES)
            handler.responses = {**responses, **(handler.responses or {})}
