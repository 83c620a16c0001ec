"""Correlation IDs: taken from `X-Correlation-ID` when sane, else new; carried by logs and events."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

HEADER = "x-correlation-id"
MAX_LENGTH = 128

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def set_correlation_id(value: str | None) -> None:
    _correlation_id.set(value)


def accept_or_new(candidate: str | None) -> str:
    """The caller's id if it is 1-128 printable ASCII characters, else a fresh UUID."""
    if candidate and len(candidate) <= MAX_LENGTH and candidate.isascii() and candidate.isprintable():
        return candidate
    return str(uuid.uuid4())
