"""Background loops stop, even when a pass absorbs the cancellation meant to end it (as a database driver
closing its connection does), and a failing pass does not end the loop."""

from __future__ import annotations

import asyncio
import time

from kernel.periodic import Periodic, finish


async def test_a_loop_stops_between_passes_without_waiting_for_its_interval() -> None:
    passes = 0
    three_passes = asyncio.Event()

    async def work() -> None:
        nonlocal passes
        passes += 1
        if passes == 3:
            three_passes.set()

    loop = Periodic("test-loop", work, interval=0.01)
    loop.start()
    await asyncio.wait_for(three_passes.wait(), timeout=5)
    loop.interval = 60.0
    started = time.monotonic()
    await loop.stop()
    assert time.monotonic() - started < 2.0
    assert not loop.running


async def test_a_pass_that_swallows_its_cancellation_is_cancelled_again_until_it_ends() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        for _ in range(3):
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                swallowed += 1  # what a driver closing its connection does to a cancellation
        await asyncio.sleep(30)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    started = time.monotonic()
    await asyncio.wait_for(finish(task, grace_seconds=0.05), timeout=10)
    assert task.done()
    assert swallowed == 3
    assert time.monotonic() - started < 8.0


async def test_a_failing_pass_is_logged_and_the_loop_goes_on() -> None:
    calls = 0
    third_call = asyncio.Event()

    async def failing() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            third_call.set()
        raise RuntimeError("boom")

    loop = Periodic("test-failing", failing, interval=0.01)
    loop.start()
    await asyncio.wait_for(third_call.wait(), timeout=5)
    await loop.stop()
    assert calls >= 3
