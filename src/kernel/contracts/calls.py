"""How a Protocol method may be called from another process: whether repeating it is safe.

A module marks, in its `api.py`, the methods of its Protocols that may be sent again when a call to another
process failed without an answer (a refused connection, a dropped one, a 503 of the process in front):

    @runtime_checkable
    class CarrierDirectory(Protocol):
        @idempotent
        async def get_carrier(self, carrier_id: int) -> CarrierSummary | None: ...

A method without the mark is sent once (registering a user, changing a password, signing in): the caller gets
the failure instead of a second attempt whose effect it could not know. The HTTP client of split mode
(`kernel.remote`) reads the mark; an in-process call is never repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

IDEMPOTENT_ATTRIBUTE = "__freightdesk_idempotent__"

Method = TypeVar("Method", bound=Callable[..., Any])


def idempotent(method: Method) -> Method:
    """Mark a Protocol method as safe to repeat: calling it twice has the effect of calling it once."""
    setattr(method, IDEMPOTENT_ATTRIBUTE, True)
    return method


def is_idempotent(method: Callable[..., Any]) -> bool:
    return getattr(method, IDEMPOTENT_ATTRIBUTE, False) is True
