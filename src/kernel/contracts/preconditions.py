"""What a write must find before it changes anything, checked by the use case itself.

A service's update or delete takes an optional `Precondition` of the row's read model and awaits it right after
it has loaded the row under the lock its write holds (`kernel.db.locking.get_locked`): the check and the write see
the same committed state, and a concurrent writer waits for the lock, so nothing can change in between. The
precondition raises `PreconditionFailed` (412) to refuse; the transaction then ends with nothing written and no
event published. HTTP builds preconditions from `If-Match` (`kernel.http.conditional`); the service knows
nothing of headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

Precondition = Callable[[T], Awaitable[None]]
"""Given the current state (as locked for the write): return to let the write go on, raise to refuse it."""


async def check(precondition: Precondition[T] | None, current: T) -> None:
    """Await `precondition` on `current`, when there is one."""
    if precondition is not None:
        await precondition(current)
