"""`GroupCommit` (kernel.db.group_commit) on a real database (SQLite and MariaDB): concurrent rows share a
commit, each caller gets its own row's result, a row at fault fails only its caller, other failures fail the
batch and store nothing of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, String, event, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.contracts.errors import Busy
from kernel.db.base import module_metadata
from kernel.db.config import configure_engine
from kernel.db.group_commit import GroupCommit
from tests.conftest import require_service
from tests.isolation import MYSQL_URL, mysql_database_url, recreate_mysql_databases, run_database_name


class LedgerBase(DeclarativeBase):
    metadata = module_metadata("ledger")


class Entry(LedgerBase):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(36), unique=True)
    amount: Mapped[int] = mapped_column(Integer)


class Line(LedgerBase):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(Integer)


Row = dict[str, Any]


async def store_entries(connection: AsyncConnection, rows: Sequence[Row]) -> list[int]:
    """An entry and a line per row, as pricing stores a calculation and its applied rules."""
    ids = {key: id_ for key, id_ in await connection.execute(insert(Entry).returning(Entry.key, Entry.id), rows)}
    await connection.execute(insert(Line), [{"entry_id": ids[row["key"]]} for row in rows])
    return [ids[row["key"]] for row in rows]


@pytest.fixture
async def engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if backend == "mysql":
        require_service("mysql", bool(MYSQL_URL))
        database = run_database_name("kernel_group_commit")
        await recreate_mysql_databases([database])
        url = mysql_database_url(database)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite'}"
    engine_ = create_async_engine(url)
    configure_engine(engine_)
    async with engine_.begin() as connection:
        await connection.run_sync(LedgerBase.metadata.create_all)
    yield engine_
    await engine_.dispose()


class Commits:
    """Counts the commits the engine makes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "commit", self._committed)

    def _committed(self, _connection: Any) -> None:
        self.count += 1


async def stored(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {key: id_ for key, id_ in await connection.execute(select(Entry.key, Entry.id))}


async def lines(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(Line))).scalar_one()


async def test_concurrent_rows_share_commits_and_each_caller_gets_its_own_rows_id(engine: AsyncEngine) -> None:
    store = GroupCommit(engine, store_entries)
    commits = Commits(engine)
    keys = [f"k{i}" for i in range(60)]
    ids = await asyncio.gather(*(store.submit({"key": key, "amount": 1}) for key in keys))
    assert dict(zip(keys, ids, strict=True)) == await stored(engine)
    assert await lines(engine) == 60
    assert commits.count < 60 / 5, f"{commits.count} commits for 60 concurrent rows"


async def test_a_lone_row_is_written_at_once_in_its_own_commit(engine: AsyncEngine) -> None:
    store = GroupCommit(engine, store_entries)
    commits = Commits(engine)
    for i in range(3):
        await asyncio.wait_for(store.submit({"key": f"alone{i}", "amount": 1}), timeout=5)
    assert commits.count == 3
    assert len(await stored(engine)) == 3


async def test_a_row_at_fault_fails_only_its_caller(engine: AsyncEngine) -> None:
    store = GroupCommit(engine, store_entries)
    await store.submit({"key": "taken", "amount": 1})
    keys = [f"k{i}" for i in range(20)]
    rows = [{"key": key, "amount": 1} for key in keys[:10]] + [{"key": "taken", "amount": 2}]
    rows += [{"key": key, "amount": 1} for key in keys[10:]]
    outcomes = await asyncio.gather(*(store.submit(row) for row in rows), return_exceptions=True)
    assert isinstance(outcomes[10], IntegrityError)
    others = [outcome for index, outcome in enumerate(outcomes) if index != 10]
    assert all(isinstance(outcome, int) for outcome in others), others
    assert set(await stored(engine)) == {"taken", *keys}
    assert await lines(engine) == 21


class HeldFirstBatch:
    """A write that holds its first batch until released, so the rows submitted meanwhile form the next one."""

    def __init__(self, poison: str | None = None) -> None:
        self.writing, self.release = asyncio.Event(), asyncio.Event()
        self.poison = poison

    async def __call__(self, connection: AsyncConnection, rows: Sequence[Row]) -> list[int]:
        if not self.writing.is_set():
            self.writing.set()
            await self.release.wait()
        ids = await store_entries(connection, rows)
        if any(row["key"] == self.poison for row in rows):
            raise RuntimeError("the database went away")
        return ids


async def test_any_other_failure_fails_the_whole_batch_and_stores_none_of_it(engine: AsyncEngine) -> None:
    write = HeldFirstBatch(poison="poison")
    store = GroupCommit(engine, write)
    first = asyncio.create_task(store.submit({"key": "first", "amount": 1}))
    await write.writing.wait()
    rows = [{"key": f"k{i}", "amount": 1} for i in range(5)] + [{"key": "poison", "amount": 1}]
    batch = asyncio.gather(*(store.submit(row) for row in rows), return_exceptions=True)
    write.release.set()
    outcomes = await batch
    assert isinstance(await first, int)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes), outcomes
    assert set(await stored(engine)) == {"first"}
    assert await lines(engine) == 1


async def test_a_lock_conflict_is_written_again(engine: AsyncEngine) -> None:
    attempts = 0

    async def deadlocked_once(connection: AsyncConnection, rows: Sequence[Row]) -> list[int]:
        nonlocal attempts
        attempts += 1
        ids = await store_entries(connection, rows)
        if attempts == 1:
            raise OperationalError("INSERT ...", {}, Exception(1213, "Deadlock found when trying to get lock"))
        return ids

    store = GroupCommit(engine, deadlocked_once)
    assert isinstance(await store.submit({"key": "once", "amount": 1}), int)
    assert attempts == 2
    assert set(await stored(engine)) == {"once"}
    assert await lines(engine) == 1


async def test_a_caller_that_gives_up_still_has_its_row_stored_and_the_others_their_answers(
    engine: AsyncEngine,
) -> None:
    write = HeldFirstBatch()
    store = GroupCommit(engine, write)
    first = asyncio.create_task(store.submit({"key": "first", "amount": 1}))
    await write.writing.wait()
    quitter = asyncio.create_task(store.submit({"key": "quitter", "amount": 1}))
    others = asyncio.gather(*(store.submit({"key": f"k{i}", "amount": 1}) for i in range(5)))
    await asyncio.sleep(0)
    quitter.cancel()
    write.release.set()
    assert isinstance(await first, int)
    assert all(isinstance(id_, int) for id_ in await others)
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert set(await stored(engine)) == {"first", "quitter", *(f"k{i}" for i in range(5))}


async def test_past_max_waiting_a_caller_is_told_to_come_back_at_once(engine: AsyncEngine) -> None:
    write = HeldFirstBatch()
    store = GroupCommit(engine, write, max_waiting=3)
    first = asyncio.create_task(store.submit({"key": "first", "amount": 1}))
    await write.writing.wait()
    queued = [asyncio.create_task(store.submit({"key": f"k{i}", "amount": 1})) for i in range(3)]
    await asyncio.sleep(0)
    with pytest.raises(Busy) as refused:
        await store.submit({"key": "one too many", "amount": 1})
    assert refused.value.retry_after == 1
    write.release.set()
    assert all(isinstance(id_, int) for id_ in [await first, *await asyncio.gather(*queued)])
    assert "one too many" not in await stored(engine)


async def test_a_write_that_breaks_its_contract_fails_its_callers_and_the_next_rows_are_still_written(
    engine: AsyncEngine,
) -> None:
    async def one_result_short(connection: AsyncConnection, rows: Sequence[Row]) -> list[int]:
        ids = await store_entries(connection, rows)
        return ids[:-1] if any(row["key"] == "short" for row in rows) else ids

    store = GroupCommit(engine, one_result_short)
    with pytest.raises(ValueError, match="shorter"):
        await asyncio.wait_for(store.submit({"key": "short", "amount": 1}), timeout=5)
    assert isinstance(await asyncio.wait_for(store.submit({"key": "next", "amount": 1}), timeout=5), int)
