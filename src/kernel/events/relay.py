"""The relay moves committed outbox rows to the transport, with retries, backoff and a dead-letter state.

Claiming takes a lease (`available_at` moved into the future) under `FOR UPDATE SKIP LOCKED` where the
database has it, so several replicas can relay the same outbox; a crashed relay's lease simply runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.db.errors import database_error_text, is_missing_table_error, is_transient_database_error
from kernel.db.locking import lock_rows
from kernel.events.envelope import EventEnvelope
from kernel.events.outbox import DEAD, PENDING, PUBLISHED, Outbox, envelope_of
from kernel.events.transport import EventTransport, TransportUnavailable
from kernel.periodic import finish

log = logging.getLogger("freightdesk.events")

LEASE = timedelta(seconds=60)
MAX_BACKOFF_SECONDS = 300.0


def backoff_seconds(attempts: int, base: float = 1.0) -> float:
    """1, 2, 4, 8 … seconds, capped at five minutes."""
    return float(min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF_SECONDS))


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    dead: int
    oldest_pending_seconds: float


async def outbox_stats(session: AsyncSession, outbox: Outbox) -> OutboxStats:
    record = outbox.record
    rows = (
        await session.execute(
            select(record.status, func.count(), func.min(record.occurred_at))
            .where(record.status.in_((PENDING, DEAD)))
            .group_by(record.status)
        )
    ).all()
    counts = {status: (count, oldest) for status, count, oldest in rows}
    pending, oldest = counts.get(PENDING, (0, None))
    age = (datetime.now(UTC) - oldest.replace(tzinfo=UTC)).total_seconds() if oldest else 0.0
    return OutboxStats(pending=int(pending), dead=int(counts.get(DEAD, (0, None))[0]), oldest_pending_seconds=age)


class OutboxRelay:
    def __init__(
        self,
        outbox: Outbox,
        session_maker: async_sessionmaker[AsyncSession],
        transport: EventTransport,
        *,
        interval: float = 1.0,
        max_attempts: int = 8,
        batch_size: int = 100,
        backoff_base: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.session_maker = session_maker
        self.transport = transport
        self.interval = interval
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.backoff_base = backoff_base
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def relay_pending(self) -> int:
        """Deliver what is due now; returns how many rows were handled (published, retried or dead)."""
        handled = 0
        while True:
            claimed = await self._claim()
            for index, (row_id, envelope) in enumerate(claimed):
                try:
                    await self.transport.publish(envelope)
                except TransportUnavailable as exc:
                    # The broker is away, the events are fine: no attempt is counted (an outage must not make
                    # dead letters), and the rest of the batch waits with this one for a later pass.
                    await self._postpone([row for row, _ in claimed[index:]], exc)
                    raise
                except Exception as exc:
                    await self._record_failure(row_id, exc)
                else:
                    await self._mark_published(row_id)
            handled += len(claimed)
            if len(claimed) < self.batch_size or self._stopping.is_set():
                return handled

    async def _claim(self) -> list[tuple[int, EventEnvelope]]:
        record = self.outbox.record
        now = datetime.now(UTC)
        async with self.session_maker() as session, session.begin():
            if session.get_bind().dialect.name == "sqlite":
                # No SKIP LOCKED: take the database's write lock before reading, so that relays of several
                # processes sharing the file claim one after the other, never the same rows.
                await lock_rows(session, record, false())
            rows = (
                await session.scalars(
                    select(record)
                    .where(record.status == PENDING, record.available_at <= now)
                    .order_by(record.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                row.available_at = now + LEASE
            return [(row.id, envelope_of(row)) for row in rows]

    async def _mark_published(self, row_id: int) -> None:
        record = self.outbox.record
        async with self.session_maker() as session, session.begin():
            await session.execute(
                update(record)
                .where(record.id == row_id)
                .values(status=PUBLISHED, published_at=datetime.now(UTC), last_error=None)
            )

    async def _postpone(self, row_ids: list[int], exc: Exception) -> None:
        """Make claimed rows due again after one interval, attempts unchanged (instead of at the lease's end)."""
        record = self.outbox.record
        async with self.session_maker() as session, session.begin():
            await session.execute(
                update(record)
                .where(record.id.in_(row_ids), record.status == PENDING)
                .values(
                    available_at=datetime.now(UTC) + timedelta(seconds=self.interval),
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                )
            )

    async def _record_failure(self, row_id: int, exc: Exception) -> None:
        record = self.outbox.record
        async with self.session_maker() as session, session.begin():
            row = await session.get(record, row_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= self.max_attempts:
                row.status = DEAD
                log.error(
                    "event moved to dead-letter",
                    extra={
                        "module_name": self.outbox.module,
                        "event_id": row.event_id,
                        "event_type": row.event_type,
                    },
                )
            else:
                delay = backoff_seconds(row.attempts, self.backoff_base)
                row.available_at = datetime.now(UTC) + timedelta(seconds=delay)

    async def drain_at_start(self) -> None:
        """Deliver the backlog that is due before the process serves. A failure is left to the running relay,
        which reports and retries it."""
        with contextlib.suppress(Exception):
            await self.relay_pending()

    async def run_forever(self) -> None:
        wake = self.outbox.waiter()
        failing = False  # log when passes start and stop failing, not on every pass of an outage
        try:
            while not self._stopping.is_set():
                try:
                    await self.relay_pending()
                except Exception as exc:
                    if not failing:
                        self._log_failing(exc)
                    failing = True
                else:
                    if failing:
                        log.warning("outbox relay recovered", extra={"module_name": self.outbox.module})
                    failing = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.interval)
                wake.clear()
        finally:
            self.outbox.forget(wake)

    def _log_failing(self, exc: Exception) -> None:
        """One line when passes start failing. An outage or a database not migrated yet (production before
        `freightdesk db upgrade`) needs no traceback; anything else does."""
        extra = {"module_name": self.outbox.module}
        if is_missing_table_error(exc):
            log.warning(
                "outbox relay waits for its tables (run `freightdesk db upgrade`); retrying every pass",
                extra={**extra, "error": database_error_text(exc)},
            )
        elif isinstance(exc, TransportUnavailable):
            log.warning(
                "outbox relay cannot reach the event transport; retrying every pass until it can",
                extra={**extra, "error": str(exc)},
            )
        elif is_transient_database_error(exc):
            log.warning(
                "outbox relay cannot reach its database; retrying every pass until it can",
                extra={**extra, "error": database_error_text(exc)},
            )
        else:
            log.warning(
                "outbox relay pass failed; retrying every pass", extra={**extra, "error": repr(exc)}, exc_info=exc
            )

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run_forever(), name=f"outbox-relay-{self.outbox.module}")

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let the current pass finish (cancelling a driver mid-query can wedge its connection), then stop."""
        if self._task is None:
            return
        self._stopping.set()
        self.outbox.notify()
        await finish(self._task, grace_seconds)
        self._task = None


async def replay_dead_letters(
    session_maker: async_sessionmaker[AsyncSession], outbox: Outbox, event_ids: list[str] | None = None
) -> int:
    """Put dead events back in the queue (all of them, or the given ids). Returns how many."""
    record = outbox.record
    statement = (
        update(record).where(record.status == DEAD).values(status=PENDING, attempts=0, available_at=datetime.now(UTC))
    )
    if event_ids:
        statement = statement.where(record.event_id.in_(event_ids))
    async with session_maker() as session, session.begin():
        result = await session.execute(statement)
    outbox.notify()
    return int(getattr(result, "rowcount", 0) or 0)
