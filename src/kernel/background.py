"""Deliberately slow CPU work (password hashing) kept away from the event loop and from request latency.

A thread pool alone is not enough: argon2 releases the GIL and spreads one hash over several native threads,
so a burst of sign-ins would take every core from the thread that serves all other requests. A
`BackgroundCpu` runs such work on a small, fixed number of threads whose scheduling priority is lowered
(Linux keeps a nice value per thread, and threads a worker starts inherit it). The event loop then wins
the CPU whenever it has work, and the slow jobs queue instead of piling up memory (an argon2 hash holds
its whole memory cost while it runs). The queue is bounded too: past `max_waiting` jobs a caller gets
`Busy` (HTTP 503 with `Retry-After`) at once, instead of an answer that arrives after its client gave up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from kernel.contracts.errors import Busy

log = logging.getLogger("freightdesk.background")

LOWEST_USEFUL_NICE = 19

P = ParamSpec("P")
R = TypeVar("R")


def _lower_own_priority(nice: int) -> None:
    # Only on Linux is the nice value per thread; elsewhere setpriority would slow the whole process.
    if sys.platform != "linux" or nice <= 0:
        return
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(LOWEST_USEFUL_NICE, current + nice))
    except OSError as exc:  # a sandbox may forbid it; the work still runs, only without the priority drop
        log.warning("could not lower the priority of a background thread: %s", exc)


class BackgroundCpu:
    """Runs blocking CPU-bound callables on `workers` low-priority threads, awaited from async code."""

    def __init__(self, name: str, workers: int = 1, nice: int = 10, max_waiting: int = 32) -> None:
        self.max_waiting = max_waiting
        self._pending = 0  # queued or running; every event loop of the process shares the threads
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix=name,
            initializer=_lower_own_priority,
            initargs=(nice,),
        )

    async def run(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            if self._pending >= self.max_waiting:
                raise Busy()
            self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))
        finally:
            with self._lock:
                self._pending -= 1
