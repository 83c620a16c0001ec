"""Domain error families. Modules subclass these; the HTTP layer maps each family to a status once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """Base of every error a module raises on purpose."""

    default_message = "Request failed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotFound(DomainError):
    default_message = "Not found"


class Conflict(DomainError):
    default_message = "Conflict"


class Forbidden(DomainError):
    default_message = "Forbidden"


class Unauthorized(DomainError):
    default_message = "Unauthorized"


class PreconditionFailed(DomainError):
    """The client's `If-Match` names a representation the resource no longer has (HTTP 412): someone changed it
    since the client read it, and nothing was changed now."""

    default_message = "The resource has changed since it was read (If-Match does not match its current ETag)"


class Unprocessable(DomainError):
    """The request is well-formed but cannot be carried out (HTTP 422)."""

    default_message = "Unprocessable Entity"


class ValidationFailed(DomainError):
    """Input that passed the wire schema but breaks a rule; keyed by request field name (dotted)."""

    default_message = "Validation failed"

    def __init__(self, field_errors: Mapping[str, Sequence[str]], message: str | None = None) -> None:
        super().__init__(message)
        self.field_errors: dict[str, list[str]] = {key: list(msgs) for key, msgs in field_errors.items()}


class ServiceUnavailable(DomainError):
    """A dependency (another module's process, a database) cannot answer right now (HTTP 503).

    `retry_after` (seconds), when known, goes out in the `Retry-After` header.
    """

    default_message = "Service Unavailable"

    def __init__(self, message: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(int(retry_after), 1) if retry_after is not None else None


class Busy(ServiceUnavailable):
    """More work queued than this process takes on (password hashes, batched writes): try again shortly."""

    default_message = "Server busy; try again shortly"

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__(retry_after=retry_after)


class TooManyRequests(DomainError):
    """Throttled; `retry_after` seconds go out in the `Retry-After` header."""

    default_message = "Too Many Requests"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(int(retry_after), 1)


class FieldErrors:
    """Collects rule violations per field so one response reports all of them."""

    def __init__(self) -> None:
        self._errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self._errors.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            raise ValidationFailed(self._errors)
