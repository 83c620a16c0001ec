"""Work repeated every few moments while the process serves, and a stop that cannot hang.

Cancelling a task in the middle of a database call is unreliable: the driver may absorb the cancellation while
it closes its connection (SQLAlchemy's pool logs "Exception closing connection … CancelledError" and goes on),
and a loop that swallowed its only cancellation runs for ever — and so does whoever awaits it. So a loop is
asked to stop first and ends between two passes; only a pass that overruns the grace period is cancelled, and
cancelled again until it really ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("freightdesk.background")

STOP_GRACE_SECONDS = 10.0


async def finish(task: asyncio.Task[None], grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """Wait up to `grace_seconds` for `task` to end by itself, then cancel it until it has ended."""
    await asyncio.wait({task}, timeout=grace_seconds)
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("background task %s failed", task.get_name(), exc_info=error)


class Periodic:
    """Runs `work` every `interval` seconds from `start` until `stop`. `work` reports its own failures; an
    exception it lets through is logged and the next pass runs as planned."""

    def __init__(self, name: str, work: Callable[[], Awaitable[None]], interval: float) -> None:
        self.name = name
        self.interval = interval
        self._work = work
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        if self._task is None:
            return
        self._stopping.set()
        await finish(self._task, grace_seconds)
        self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            if self._stopping.is_set():
                return
            try:
                await self._work()
            except Exception:
                log.exception("background pass %s failed", self.name)
