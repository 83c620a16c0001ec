"""Rows written by concurrent requests, committed together: one transaction and one commit per batch.

A route that only appends (a stored price calculation) spends most of its time on the write's machinery, not
on the row: a session, a pooled connection, a statement or two, a commit that waits for the disk. A
`GroupCommit` takes the rows of every request that arrives while a batch is being written and writes them as
the next batch, in one transaction on one connection: multi-row statements and one commit for all of them.
Each request is answered only after the batch holding its row has committed, so a 201 still means stored.

Nothing waits for a batch to fill: the first row starts a batch at once, so a lone request costs what it
cost before; under load a batch holds the rows that arrived during the previous one's commit.

A batch is all or nothing. When it fails because of a row (`IntegrityError`, `DataError`: a key that clashes,
a value the column refuses), its rows are written again one by one, so only the request whose row is at fault
gets the error. A lock conflict (deadlock, lock wait timeout: InnoDB rolled the transaction back) is retried a
few times. Any other failure (the database down or too slow) is every request's error, as it would have been
for each request alone.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel.contracts.errors import Busy
from kernel.db.errors import is_lock_conflict

RowT = TypeVar("RowT")
ResultT = TypeVar("ResultT")

Write = Callable[[AsyncConnection, Sequence[RowT]], Awaitable[Sequence[ResultT]]]
"""Writes the batch's rows on the connection, inside its transaction; returns one result per row, in order."""

DEFAULT_MAX_BATCH = 200
DEFAULT_MAX_WAITING = 2_000
LOCK_CONFLICT_ATTEMPTS = 3

Waiter = tuple[RowT, "asyncio.Future[ResultT]"]


class GroupCommit(Generic[RowT, ResultT]):
    """`await submit(row)` → the row's result, once the batch that wrote it has committed.

    Past `max_waiting` rows queued (the database is slower than the rows arrive) a caller gets `Busy` (503 with
    `Retry-After`) at once instead of a place at the end of a queue that only grows."""

    def __init__(
        self,
        engine: AsyncEngine,
        write: Write[RowT, ResultT],
        max_batch: int = DEFAULT_MAX_BATCH,
        max_waiting: int = DEFAULT_MAX_WAITING,
    ) -> None:
        self._engine = engine
        self._write = write
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self._waiting: list[Waiter[RowT, ResultT]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, row: RowT) -> ResultT:
        if len(self._waiting) >= self.max_waiting:
            raise Busy()
        done: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._writer is None:
            # A context of its own: the writer serves every request, not the one that happened to start it
            # (its correlation id, for one, must not label the writer's log lines).
            self._writer = asyncio.create_task(
                self._write_while_waiting(), name="group-commit", context=contextvars.Context()
            )
        return await done

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                await self._commit(batch)
        finally:
            self._writer = None
            leftover, self._waiting = self._waiting, []
            for _, done in leftover:  # only when this task was cancelled: the loop is closing
                done.cancel()

    async def _commit(self, batch: list[Waiter[RowT, ResultT]]) -> None:
        """Every waiter of the batch is answered, whatever happens (cancelled if the writer is)."""
        try:
            try:
                results = await self._committed([row for row, _ in batch])
            except (IntegrityError, DataError):
                if len(batch) == 1:
                    raise
                for one in batch:  # find the row at fault: every other row is stored
                    await self._commit([one])
                return
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():  # a request that gave up still had its row stored
                    done.set_result(result)
        except asyncio.CancelledError:
            for _, done in batch:
                done.cancel()
            raise
        except Exception as exc:
            for _, done in batch:
                if not done.done():
                    done.set_exception(_own_copy(exc))

    async def _committed(self, rows: Sequence[RowT]) -> Sequence[ResultT]:
        for attempt in range(1, LOCK_CONFLICT_ATTEMPTS + 1):
            try:
                async with self._engine.begin() as connection:
                    return await self._write(connection, rows)
            except Exception as exc:
                if attempt == LOCK_CONFLICT_ATTEMPTS or not is_lock_conflict(exc):
                    raise
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")


def _own_copy(exc: Exception) -> Exception:
    """Each waiter raises an exception of its own (a shared one would collect every waiter's traceback)."""
    try:
        return copy.copy(exc)
    except Exception:  # an exception that cannot be copied is shared: still the right type and message
        return exc
