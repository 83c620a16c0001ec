"""Named versions and their watcher (kernel.db.versions) on a real database (SQLite and MariaDB).

A throwaway module ("tally") owns a versions table; the watcher's callbacks count their calls, so "dropped"
is visible as a number.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from kernel.db.base import module_base
from kernel.db.config import configure_engine
from kernel.db.versions import Versions, VersionWatcher
from tests.conftest import require_service
from tests.isolation import MYSQL_URL, mysql_database_url, recreate_mysql_databases, run_database_name

TallyBase = module_base("tally")
versions = Versions.for_base(TallyBase)
INTERVAL = 0.05


async def _engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url)
    configure_engine(engine)
    async with engine.begin() as connection:
        await connection.run_sync(TallyBase.metadata.create_all)
    return engine


@pytest.fixture
async def engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if backend == "mysql":
        require_service("mysql", bool(MYSQL_URL))
        database = run_database_name("kernel_versions")
        await recreate_mysql_databases([database])
        url = mysql_database_url(database)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'tally.sqlite'}"
    engine_ = await _engine(url)
    yield engine_
    await engine_.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


async def bump(sessions: async_sessionmaker[AsyncSession], name: str, commit: bool = True) -> None:
    async with sessions() as session:
        await versions.bump(session, name)
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def within(seconds: float, condition: Callable[[], bool]) -> float | None:
    """How long `condition` took to hold, polling; None if it did not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    return None


async def test_a_version_moves_only_when_its_transaction_commits(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert await versions.read(engine, ["alpha"]) == {"alpha": 0}  # never bumped
    await bump(sessions, "alpha", commit=False)
    assert await versions.read(engine, ["alpha"]) == {"alpha": 0}
    await bump(sessions, "alpha")
    assert await versions.read(engine, ["alpha"]) == {"alpha": 1}
    await bump(sessions, "alpha", commit=False)
    assert await versions.read(engine, ["alpha"]) == {"alpha": 1}
    async with sessions() as session:
        await versions.bump(session, "alpha")
        await versions.bump(session, "beta")
        await versions.bump(session, "alpha")
        await session.commit()
    assert await versions.read(engine, ["alpha", "beta", "gamma"]) == {"alpha": 3, "beta": 1, "gamma": 0}


async def test_bumps_of_one_name_take_turns_and_none_is_lost(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as first:
        await versions.bump(first, "alpha")  # the row does not exist yet: both bumps insert it
        second = asyncio.create_task(bump(sessions, "alpha"))
        await asyncio.sleep(0.3)
        assert not second.done(), "the second bump did not wait for the first transaction"
        await first.commit()
    await asyncio.wait_for(second, timeout=20)
    assert await versions.read(engine, ["alpha"]) == {"alpha": 2}


async def test_the_watcher_calls_back_when_a_version_moves_and_only_then(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    alpha, beta = Counter(), Counter()
    watcher = VersionWatcher(versions, engine, interval=INTERVAL)
    watcher.on_change("alpha", alpha)
    watcher.on_change("beta", beta)
    await watcher.start()
    try:
        assert (alpha.calls, beta.calls) == (1, 1)  # at start: whatever was built before is dropped
        assert watcher.seen == {"alpha": 0, "beta": 0}

        await bump(sessions, "alpha")  # as another process would
        assert await within(1.0, lambda: alpha.calls == 2) is not None
        assert watcher.seen == {"alpha": 1, "beta": 0}

        await bump(sessions, "alpha", commit=False)
        await bump(sessions, "unwatched")
        await asyncio.sleep(INTERVAL * 6)
        assert (alpha.calls, beta.calls) == (2, 1)
    finally:
        await watcher.stop()
    await bump(sessions, "alpha")
    await asyncio.sleep(INTERVAL * 4)
    assert alpha.calls == 2  # stopped: nothing is read any more


async def test_a_failing_callback_is_logged_and_the_others_still_run(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("callback broke")

    after = Counter()
    watcher = VersionWatcher(versions, engine, interval=INTERVAL)
    watcher.on_change("alpha", broken)
    watcher.on_change("alpha", after)
    with caplog.at_level(logging.WARNING, logger="freightdesk.versions"):
        await watcher.start()
        try:
            await bump(sessions, "alpha")
            assert await within(1.0, lambda: after.calls == 2) is not None
        finally:
            await watcher.stop()
    assert [r.getMessage() for r in caplog.records] == ["a version callback failed"] * 2


async def test_an_unreadable_table_is_logged_once_retried_and_drops_everything_when_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = await _engine(f"sqlite+aiosqlite:///{tmp_path / 'outage.sqlite'}")
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    dropped = Counter()
    watcher = VersionWatcher(versions, engine, interval=INTERVAL)
    watcher.on_change("alpha", dropped)
    try:
        with caplog.at_level(logging.WARNING, logger="freightdesk.versions"):
            await watcher.start()
            assert dropped.calls == 1
            async with engine.begin() as connection:  # the database "goes away" under the watcher
                await connection.run_sync(TallyBase.metadata.drop_all)
            await asyncio.sleep(INTERVAL * 8)
            assert watcher.seen == {}
            assert dropped.calls == 1
            assert [r.getMessage() for r in caplog.records] == [
                "versions unreadable; retrying, and dropping what they guard once they are readable again"
            ]
            async with engine.begin() as connection:  # back, with no version moved
                await connection.run_sync(TallyBase.metadata.create_all)
            assert await within(1.0, lambda: dropped.calls == 2) is not None
            assert caplog.records[-1].getMessage() == "versions readable again"
            await bump(sessions, "alpha")
            assert await within(1.0, lambda: dropped.calls == 3) is not None
    finally:
        await watcher.stop()
        await engine.dispose()
    assert len(caplog.records) == 2


async def test_a_watcher_that_cannot_read_at_start_still_starts(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite'}")  # no table at all
    dropped = Counter()
    watcher = VersionWatcher(versions, engine, interval=INTERVAL)
    watcher.on_change("alpha", dropped)
    try:
        await watcher.start()
        assert (dropped.calls, watcher.seen) == (0, {})
        async with engine.begin() as connection:
            await connection.run_sync(TallyBase.metadata.create_all)
        assert await within(1.0, lambda: dropped.calls == 1) is not None
    finally:
        await watcher.stop()
        await engine.dispose()


class SlowVersions(Versions):
    """Readings that take a while, counted as they start and as they finish."""

    def __init__(self) -> None:
        super().__init__(versions.module, versions.record)
        self.started = 0
        self.finished = 0

    async def read(self, engine: AsyncEngine, names: Collection[str]) -> dict[str, int]:
        self.started += 1
        await asyncio.sleep(0.2)
        found = await super().read(engine, names)
        self.finished += 1
        return found


async def test_stopping_lets_a_reading_in_progress_finish(engine: AsyncEngine) -> None:
    slow = SlowVersions()
    watcher = VersionWatcher(slow, engine, interval=0.01)
    watcher.on_change("alpha", Counter())
    await watcher.start()
    assert await within(2.0, lambda: slow.started == 2) is not None  # the loop's first reading is under way
    await watcher.stop()
    assert (slow.started, slow.finished) == (2, 2)
