"""The low-priority worker for deliberately slow CPU work (password hashing)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from kernel.background import BackgroundCpu, Busy


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="the nice value is per thread only on Linux")
async def test_work_runs_on_a_thread_with_lower_priority_and_the_loop_keeps_its_own() -> None:
    worker = BackgroundCpu("test-low", workers=1, nice=5)
    loop_nice = _own_nice()
    worker_nice = await worker.run(_own_nice)
    assert worker_nice == min(19, loop_nice + 5)
    assert _own_nice() == loop_nice


async def test_a_full_queue_answers_busy_at_once_and_recovers() -> None:
    worker = BackgroundCpu("test-busy", workers=1, max_waiting=2)
    release = threading.Event()
    blocked = [asyncio.ensure_future(worker.run(release.wait, 5)) for _ in range(2)]
    await asyncio.sleep(0.05)
    with pytest.raises(Busy) as caught:
        await worker.run(int, "1")
    assert caught.value.retry_after == 1
    release.set()
    assert await asyncio.gather(*blocked) == [True, True]
    assert await worker.run(int, "7") == 7


async def test_errors_of_the_work_reach_the_caller_and_free_the_slot() -> None:
    worker = BackgroundCpu("test-error", workers=1, max_waiting=1)
    with pytest.raises(ValueError, match="invalid literal"):
        await worker.run(int, "not a number")
    assert await worker.run(int, "3") == 3
