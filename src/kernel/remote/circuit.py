"""A circuit breaker per module called in another process.

Closed: calls go out. After `failures` consecutive failed requests it opens: for `open_seconds` every call fails
at once, without waiting for a process that does not answer. Then it is half-open: one call goes out as a
probe (the others still fail at once); its success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(self, failures: int, open_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if failures < 1 or open_seconds <= 0:
            raise ValueError("a circuit opens after at least one failure, for some time")
        self._threshold = failures
        self._open_seconds = open_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        return OPEN if self._clock() - self._opened_at < self._open_seconds else HALF_OPEN

    def seconds_until_probe(self) -> float:
        """How long the circuit stays open; 0 when a call could go out now."""
        if self._opened_at is None:
            return 0.0
        return max(self._open_seconds - (self._clock() - self._opened_at), 0.0)

    def admit(self) -> bool:
        """Whether a call may go out now; when half-open, only the one probe until it ends."""
        state = self.state
        if state == CLOSED:
            return True
        if state == OPEN or self._probing:
            return False
        self._probing = True
        return True

    def succeeded(self) -> bool:
        """Record an answer; True when it closed an open circuit."""
        was_open = self._opened_at is not None
        self._failures = 0
        self._opened_at = None
        self._probing = False
        return was_open

    def failed(self) -> bool:
        """Record a failed request; True when it opened the circuit."""
        self._probing = False
        if self._opened_at is not None:  # the half-open probe failed
            self._opened_at = self._clock()
            return True
        self._failures += 1
        if self._failures >= self._threshold:
            self._opened_at = self._clock()
            return True
        return False

    def released(self) -> None:
        """A call that ended with neither an answer nor a failure (its caller was cancelled): a half-open
        circuit lets the next call probe."""
        self._probing = False
