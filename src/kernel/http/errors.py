"""Every failure leaves in the v1 error shape (docs/api.md §1).

Domain error families map to HTTP statuses here, once.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from advanced_alchemy.exceptions import IntegrityError as RepositoryIntegrityError
from advanced_alchemy.exceptions import NotFoundError as RepositoryNotFound
from advanced_alchemy.exceptions import RepositoryError
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.http_exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.utils.scope.state import ScopeState
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from kernel.contracts.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    ValidationFailed,
)
from kernel.db.errors import database_error_text, is_missing_table_error, is_transient_database_error
from kernel.http.envelope import error_body
from kernel.http.validation import collect_field_errors, humanize
from kernel.store import StoreUnavailable

log = logging.getLogger("freightdesk.http")

_DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (Unprocessable, 422),
    (ServiceUnavailable, 503),
]


def _response(
    request: Request[Any, Any, Any], status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, TooManyRequests):
        body = error_body(request, 429, exc.message)
        return _response(request, 429, body, {"Retry-After": str(exc.retry_after)})
    status = next((code for family, code in _DOMAIN_STATUS if isinstance(exc, family)), 400)
    field_errors = exc.field_errors if isinstance(exc, ValidationFailed) else None
    headers = (
        {"Retry-After": str(exc.retry_after)}
        if isinstance(exc, ServiceUnavailable) and exc.retry_after is not None
        else None
    )
    return _response(request, status, error_body(request, status, exc.message, field_errors), headers)


def _body_field_errors(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    """Every bad body field, not only the first that msgspec met (the body was read and cached already)."""
    data_field = request.route_handler.parsed_data_field
    body = ScopeState.from_scope(request.scope).body
    if data_field is not None and isinstance(body, bytes):
        if not body.strip():
            return {"body": ["is required"]}
        try:
            raw = msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return {"body": ["is not valid JSON"]}
        errors = collect_field_errors(raw, data_field.annotation)
        if errors:
            return errors
    return {}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _reported_field_errors(exc: ValidationException) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or item.get("source") or "body")
        if item.get("source") == "path":  # path parameters are declared snake_case, named camelCase on the wire
            key = _camel(key)
        message = str(item.get("message", "is invalid"))
        if message.startswith("Object contains unknown field"):
            field = message.split("`")[1] if "`" in message else key
            errors.setdefault(field, []).append(f"property {field} should not exist")
        elif message.startswith("Object missing required field"):
            field = message.split("`")[1] if "`" in message else key
            errors.setdefault(field, []).append("is required")
        else:
            errors.setdefault(key, []).append(humanize(message))
    return errors


def handle_validation_exception(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    from_body = any(isinstance(item, dict) and item.get("source") == "body" for item in extra)
    field_errors = _body_field_errors(request) if from_body else {}
    if not field_errors:
        field_errors = _reported_field_errors(exc)
    if not field_errors:
        # Litestar reports undecodable bodies without a field: say so plainly.
        detail = exc.detail if isinstance(exc.detail, str) else ""
        field_errors = {"body": ["is not valid JSON" if "JSON" in detail or "decode" in detail else "is invalid"]}
    return _response(request, 400, error_body(request, 400, "Validation failed", field_errors))


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException):
        message = exc.detail if exc.detail and exc.detail != "Unauthorized" else "Unauthorized"
    elif isinstance(exc, PermissionDeniedException):
        message = "Forbidden"
    elif status == 404:
        message = (
            exc.detail if exc.detail and exc.detail != "Not Found" else f"Cannot {request.method} {request.url.path}"
        )
    elif status == 413:
        message = "Request body is too large (limit 1 MiB)"
    elif status == 400 and "JSON" in (exc.detail or ""):
        return _response(
            request,
            400,
            error_body(request, 400, "Malformed JSON in request body", {"body": ["is not valid JSON"]}),
        )
    else:
        message = exc.detail or ""
    if status >= 500:
        log.error("server error", extra={"path": request.url.path}, exc_info=exc)
        message = "Internal server error" if status == 500 else (message or "Service Unavailable")
    headers = dict(exc.headers) if exc.headers else None
    return _response(request, status, error_body(request, status, message or "Error"), headers)


STORE_RETRY_AFTER_SECONDS = 5
"""What a 503 for a shared store outage asks the client to wait: long enough for a Redis restart."""


def handle_store_unavailable(request: Request[Any, Any, Any], exc: StoreUnavailable) -> Response[Any]:
    """The shared store is needed for this request (revocations, sign-in throttling, rate limits) and did not
    answer: fail closed."""
    log.warning("shared store unavailable", extra={"path": request.url.path, "error": str(exc)})
    return _response(
        request,
        503,
        error_body(request, 503, "Service Unavailable"),
        {"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
    )


def handle_database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_missing_table_error(exc):
        # Not a bug in the request: the module's database has no tables yet (production does not migrate on
        # start). 503 like readiness says, until `freightdesk db upgrade` has run.
        log.error(
            "database not migrated; run `freightdesk db upgrade`",
            extra={"path": request.url.path, "error": database_error_text(exc)},
        )
        return _response(request, 503, error_body(request, 503, "Service Unavailable"))
    if not is_transient_database_error(exc):
        return handle_unexpected(request, exc)
    log.warning(
        "database unavailable",
        extra={"path": request.url.path, "error": type(getattr(exc, "orig", None) or exc).__name__},
    )
    return _response(request, 503, error_body(request, 503, "Service Unavailable"), {"Retry-After": "1"})


def handle_repository_error(request: Request[Any, Any, Any], exc: RepositoryError) -> Response[Any]:
    """advanced-alchemy's repositories wrap every database error, an outage included, in their own types
    (which its plugin would answer with a 409 in another shape): unwrap and answer as for a direct query."""
    cause = exc.__cause__
    if isinstance(cause, Exception) and (is_transient_database_error(cause) or is_missing_table_error(cause)):
        return handle_database_error(request, cause)
    if isinstance(exc, RepositoryNotFound):
        return _response(request, 404, error_body(request, 404, "Not found"))
    if isinstance(exc, RepositoryIntegrityError):
        return _response(request, 409, error_body(request, 409, "Conflicts with existing data"))
    return handle_unexpected(request, exc)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
    status = HTTP_500_INTERNAL_SERVER_ERROR
    return _response(request, status, error_body(request, status, "Internal server error"))


def exception_handlers() -> dict[Any, Any]:
    return {
        DomainError: handle_domain_error,
        ValidationException: handle_validation_exception,
        HTTPException: handle_http_exception,
        StoreUnavailable: handle_store_unavailable,
        DBAPIError: handle_database_error,
        RepositoryError: handle_repository_error,
        SQLAlchemyTimeoutError: handle_database_error,
        Exception: handle_unexpected,
    }
