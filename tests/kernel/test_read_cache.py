"""`ReadCache`: entries live until a change commits; a read that overlapped a drop never stores what it read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from kernel.db.base import module_metadata
from kernel.db.read_cache import ReadCache
from kernel.db.versions import Versions


class ScratchBase(DeclarativeBase):
    metadata = module_metadata("scratch")


versions = Versions.for_base(ScratchBase)
NAME = "things"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'scratch.sqlite'}")
    async with engine.begin() as connection:
        await connection.run_sync(ScratchBase.metadata.create_all)
    yield engine
    await engine.dispose()


async def constant(value: str) -> str:
    return value


async def test_entries_are_kept_until_dropped() -> None:
    cache = ReadCache(versions, NAME)
    assert await cache.get("k", lambda: constant("first")) == "first"
    assert await cache.get("k", lambda: constant("second")) == "first"
    cache.drop()
    assert await cache.get("k", lambda: constant("second")) == "second"


async def test_a_read_running_while_the_cache_is_dropped_does_not_store_its_result() -> None:
    cache = ReadCache(versions, NAME)
    reading, dropped = asyncio.Event(), asyncio.Event()

    async def slow_read() -> str:
        reading.set()
        await dropped.wait()
        return "read before the change"

    task = asyncio.create_task(cache.get("k", slow_read))
    await reading.wait()
    cache.drop()  # a change committed while the read was on its way
    dropped.set()
    assert await task == "read before the change"  # the caller gets what it read ...
    assert await cache.get("k", lambda: constant("after")) == "after"  # ... but the cache did not keep it


async def test_the_oldest_entry_goes_when_the_cache_is_full() -> None:
    cache = ReadCache(versions, NAME, max_entries=2)
    for key in ("a", "b", "c"):
        await cache.get(key, partial(constant, key))
    assert len(cache) == 2
    assert await cache.get("a", lambda: constant("reloaded")) == "reloaded"


async def test_a_committed_change_bumps_the_version_and_drops_the_entries(engine: AsyncEngine) -> None:
    cache = ReadCache(versions, NAME)
    await cache.get("k", lambda: constant("old"))
    async with async_sessionmaker(engine)() as session:
        cache.changing(session)
        cache.changing(session)  # twice in one transaction: one bump
        assert len(cache) == 1  # nothing committed yet: other readers still see the old state
        await session.commit()
    assert len(cache) == 0
    assert await versions.read(engine, [NAME]) == {NAME: 1}


async def test_a_rolled_back_change_leaves_the_version(engine: AsyncEngine) -> None:
    cache = ReadCache(versions, NAME)
    async with async_sessionmaker(engine)() as session:
        cache.changing(session)
        await session.rollback()
    assert await versions.read(engine, [NAME]) == {NAME: 0}


async def test_a_savepoint_does_not_drop_before_the_outer_transaction_commits(engine: AsyncEngine) -> None:
    cache = ReadCache(versions, NAME)
    await cache.get("k", lambda: constant("old"))
    async with async_sessionmaker(engine)() as session:
        async with session.begin_nested():
            cache.changing(session)
        assert len(cache) == 1  # released savepoint: the change is not visible to other connections yet
        await session.commit()
    assert len(cache) == 0
    assert await versions.read(engine, [NAME]) == {NAME: 1}


async def test_a_session_used_again_drops_only_after_its_next_change(engine: AsyncEngine) -> None:
    cache = ReadCache(versions, NAME)
    async with async_sessionmaker(engine)() as session:
        cache.changing(session)
        await session.commit()
        await cache.get("k", lambda: constant("fresh"))
        await session.commit()  # a transaction without a change
        assert len(cache) == 1
        cache.changing(session)
        await session.commit()
    assert len(cache) == 0
    assert await versions.read(engine, [NAME]) == {NAME: 2}
