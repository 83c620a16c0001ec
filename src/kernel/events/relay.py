"""The relay moves committed outbox rows to the transport, with retries, backoff and a dead-letter state.

Claiming takes a lease (`available_at` moved into the future) under `FOR UPDATE SKIP LOCKED` where the
database has it, so several replicas can relay the same outbox; a crashed relay's lease simply runs out. The
commit that wakes the relay is followed by no commit that waits for the disk before the handler runs: one
claim statement on SQLite, committed on the relay's own connection without a sync; on MariaDB/MySQL the lease
commits while the first delivery runs, the row locks holding other relays off until it has. Outcomes are
recorded in batches (docs/adr/0012-no-synced-commit-before-the-handler.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, func, null, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from kernel.db.errors import database_error_text, is_lock_conflict, is_missing_table_error, is_transient_database_error
from kernel.events.envelope import EventEnvelope
from kernel.events.outbox import DEAD, PENDING, PUBLISHED, Outbox, envelope_of
from kernel.events.transport import EventTransport, TransportUnavailable
from kernel.periodic import finish

log = logging.getLogger("freightdesk.events")

LEASE = timedelta(seconds=60)
RECORD_ATTEMPTS = 5
"""Runs of the statement marking deliveries published, when it meets another relay's claim in a deadlock."""
MAX_BACKOFF_SECONDS = 300.0
RELAY_SQLITE_PRAGMAS = ("PRAGMA synchronous = NORMAL", "PRAGMA wal_autocheckpoint = 0")
"""The relay's own SQLite connection (`_Lease`): its commits (leases, outcomes) survive the process being killed,
not necessarily the machine losing power, which costs only a second delivery; and it runs no WAL checkpoint."""


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
        self._closing: set[asyncio.Task[None]] = set()
        self._own: AsyncConnection | None = None
        self._own_lock = asyncio.Lock()
        self._statements = _Statements(outbox.record)

    async def relay_pending(self) -> int:
        """Deliver what is due now; returns how many rows were handled (published, retried or dead), once
        their outcome is recorded."""
        return await self._relay(wake=None, running=False)

    async def _relay(self, wake: asyncio.Event | None, running: bool) -> int:
        """One pass on one connection: claim, deliver, and claim again while there is more (a full batch, or a
        commit that woke the relay meanwhile), each claim also recording the previous deliveries. `running`: a
        pass of `run_forever`, which keeps its SQLite connection for the next pass."""
        handled = 0
        lease = _Lease(self)
        try:
            await lease.open()
            while True:
                claimed = await lease.claim(self.batch_size)
                for index, (row_id, envelope) in enumerate(claimed):
                    try:
                        await self.transport.publish(envelope)
                    except TransportUnavailable as exc:
                        # The broker is away, the events are fine: no attempt is counted (an outage must not make
                        # dead letters), and the rest of the batch waits with this one for a later pass.
                        await lease.postpone([row for row, _ in claimed[index:]], exc)
                        raise
                    except Exception as exc:
                        await lease.record_failure(row_id, exc)
                    else:
                        lease.published.append(row_id)
                handled += len(claimed)
                more = len(claimed) == self.batch_size or (wake is not None and wake.is_set())
                if not more or self._stopping.is_set():
                    break
                if wake is not None:
                    wake.clear()
        except BaseException:
            await lease.close(record=True, failed=True)
            raise
        if running and not lease.sqlite:
            # MariaDB/MySQL: the commit that records the deliveries waits for the log to be flushed; the relay
            # does not, so a commit arriving meanwhile is claimed at once (on another pooled connection).
            task = asyncio.create_task(lease.close(record=True), name=f"outbox-relay-{self.outbox.module}-record")
            self._closing.add(task)
            task.add_done_callback(self._closed)
        else:
            await lease.close(record=True, keep=running)
        return handled

    def _closed(self, task: asyncio.Task[None]) -> None:
        self._closing.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.warning(
                "outbox relay could not record its last deliveries; they are delivered again once their lease "
                "runs out (the inbox makes that harmless)",
                extra={"module_name": self.outbox.module, "error": database_error_text(error)},
            )

    async def _claim(self) -> list[tuple[int, EventEnvelope]]:
        """Claim the due rows and commit the lease, delivering nothing (a relay that dies right after)."""
        lease = _Lease(self)
        try:
            await lease.open()
            return await lease.claim(self.batch_size)
        finally:
            await lease.close(record=False)

    async def _sqlite_connection(self) -> AsyncConnection:
        """SQLite: the relay's own connection, kept from pass to pass while the relay runs (`_Lease`). Call with
        `_own_lock` held."""
        if self._own is None:
            connection = await _engine_of(self.session_maker).connect()
            try:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                for pragma in RELAY_SQLITE_PRAGMAS:
                    await connection.exec_driver_sql(pragma)
            except BaseException:
                await _discard(connection)
                raise
            self._own = connection
        return self._own

    async def _drop_sqlite_connection(self) -> None:
        """Call with `_own_lock` held."""
        if self._own is not None:
            connection, self._own = self._own, None
            await _discard(connection)

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
                    await self._relay(wake, running=True)
                except Exception as exc:
                    if not failing:
                        self._log_failing(exc)
                    failing = True
                else:
                    if failing:
                        log.warning("outbox relay recovered", extra={"module_name": self.outbox.module})
                    failing = False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        await wake.wait()
                wake.clear()
        finally:
            self.outbox.forget(wake)
            async with self._own_lock:
                await self._drop_sqlite_connection()

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
        if self._closing:  # the last deliveries being recorded
            await asyncio.wait(set(self._closing), timeout=grace_seconds)


class _Lease:
    """The relay's connection for one pass, held from the first claim to the end of the pass (a commit does not
    hand it back to the pool): claims rows (their lease), then records what became of them.

    SQLite: one statement takes the file's write lock before it reads, so relays of several processes sharing
    the file claim one after the other; it leases the due rows, records the deliveries of the previous claim and
    returns the rows, and its commit ends the claim before anything is delivered. The running relay keeps a
    connection of its own from pass to pass, set up once (`RELAY_SQLITE_PRAGMAS`) and never handed back to the
    pool: its commits are `synchronous=NORMAL` (they survive the process being killed; one lost with the
    machine's power only means an event delivered again, which the inbox absorbs), and it leaves WAL
    checkpoints to the producers' and consumers' commits, which keep the engine's durability.

    MariaDB/MySQL: a pooled connection per pass. `SELECT … FOR UPDATE SKIP LOCKED` locks the due rows and reads
    them; the lease is written and committed while the first deliveries already run, the previous deliveries
    after it in a transaction of their own. Until the lease's commit lands the row locks keep other relays off
    the rows, afterwards the lease does; a commit that fails leaves the rows due again, and the inbox absorbs
    the second delivery. Killed before it lands, the relay's connection drops and the server rolls the claim
    back: the rows are due again at once.
    """

    def __init__(self, relay: OutboxRelay) -> None:
        self.relay = relay
        self.record = relay.outbox.record
        self.engine = _engine_of(relay.session_maker)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.statements = relay._statements
        self.published: list[int] = []
        """Delivered rows whose outcome the next claim, or the end of the pass, records."""
        self._connection: AsyncConnection | None = None
        self._committing: asyncio.Task[None] | None = None

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the relay's connection is not open")
        return self._connection

    async def open(self) -> None:
        if not self.sqlite:
            self._connection = await self.engine.connect()
            return
        await self.relay._own_lock.acquire()
        try:
            self._connection = await self.relay._sqlite_connection()
        except BaseException:
            self.relay._own_lock.release()
            raise

    async def claim(self, limit: int) -> list[tuple[int, EventEnvelope]]:
        await self.settle()
        connection, statements = self.connection, self.statements
        now = datetime.now(UTC)
        lease_end = now + LEASE
        done, self.published = self.published, []
        due = {"now": now, "lease_end": lease_end, "limit": limit}
        rows: list[Any]
        if self.sqlite:
            # Autocommit: the statement is its own transaction, committed (without a sync) when it ends.
            if done:
                claimed = statements.claim_recording, {**due, "published": done, "recorded_at": now}
            else:
                claimed = statements.claim, due
            returned = (await connection.execute(*claimed)).all()
            recorded = set(done)
            rows = sorted((row for row in returned if row.id not in recorded), key=lambda row: row.id)
        else:
            rows = list((await connection.execute(statements.select_due, due)).all())
            if rows or done:
                leased = [row.id for row in rows]
                self._committing = asyncio.create_task(self._commit(leased, lease_end, done, now))
            else:
                await connection.commit()
        return [(row.id, envelope_of(row)) for row in rows]

    async def _commit(self, leased: list[int], lease_end: datetime, published: list[int], now: datetime) -> None:
        """MariaDB/MySQL: commit the lease, then record the previous deliveries in a transaction of their own,
        which holds no lock while it waits for one (merged into the lease's, two relays could each hold what
        the other's statement waits for)."""
        if leased:
            await self.connection.execute(self.statements.lease, {"leased": leased, "lease_end": lease_end})
            await self.connection.commit()
        if published:
            await self._record_published(published, now)

    async def _record_published(self, published: list[int], now: datetime) -> None:
        """Mark delivered rows published. On MariaDB/MySQL the update can meet another relay's claim in a deadlock
        (InnoDB locks index entries the two touch in different orders); it is the only statement of its
        transaction and says the same however often it runs, so it runs again."""
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                await self.connection.execute(self.statements.publish, {"published": published, "recorded_at": now})
                await self._end_transaction()
                return
            except DBAPIError as exc:
                if self.sqlite or attempt == RECORD_ATTEMPTS or not is_lock_conflict(exc):
                    raise
                await self.connection.rollback()
                await asyncio.sleep(0.005 * attempt)

    async def _end_transaction(self) -> None:
        """Commit (SQLite's relay connection autocommits every statement: nothing to do)."""
        if not self.sqlite:
            await self.connection.commit()

    async def settle(self) -> None:
        """Wait until the lease is committed (MariaDB/MySQL commit it while the first deliveries run)."""
        if self._committing is not None:
            committing, self._committing = self._committing, None
            await committing

    async def postpone(self, row_ids: list[int], exc: Exception) -> None:
        """Make claimed rows due again after one interval, attempts unchanged (instead of at the lease's end)."""
        await self.settle()
        record = self.record
        await self.connection.execute(
            update(record)
            .where(record.id.in_(row_ids), record.status == PENDING)
            .values(
                available_at=datetime.now(UTC) + timedelta(seconds=self.relay.interval),
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
            )
        )
        await self._end_transaction()

    async def record_failure(self, row_id: int, exc: Exception) -> None:
        """One more attempt counted: due again after the backoff, or dead after the last attempt."""
        await self.settle()
        relay, record = self.relay, self.record
        row = (
            await self.connection.execute(
                select(record.attempts, record.event_id, record.event_type).where(record.id == row_id)
            )
        ).first()
        if row is None:
            await self._end_transaction()
            return
        attempts = row.attempts + 1
        changes: dict[str, Any] = {"attempts": attempts, "last_error": f"{type(exc).__name__}: {exc}"[:2000]}
        if attempts >= relay.max_attempts:
            changes["status"] = DEAD
            log.error(
                "event moved to dead-letter",
                extra={"module_name": relay.outbox.module, "event_id": row.event_id, "event_type": row.event_type},
            )
        else:
            delay = backoff_seconds(attempts, relay.backoff_base)
            changes["available_at"] = datetime.now(UTC) + timedelta(seconds=delay)
        await self.connection.execute(update(record).where(record.id == row_id).values(changes))
        await self._end_transaction()

    async def close(self, *, record: bool, keep: bool = False, failed: bool = False) -> None:
        """Record the deliveries not recorded yet (`record`), then end the pass: SQLite keeps its connection for
        the next pass (`keep`), anything else hands it back. `failed`: the pass failed already; what fails here
        is not raised (the pass's own error is the one to tell) and the SQLite connection is not kept."""
        if self._connection is None:
            return
        try:
            await self.settle()
            if record and self.published:
                done, self.published = self.published, []
                await self._record_published(done, datetime.now(UTC))
        except Exception:
            tell, failed = not failed, True
            if tell:
                raise
        finally:
            connection, self._connection = self._connection, None
            if self.sqlite:
                try:
                    if failed or not keep:
                        await self.relay._drop_sqlite_connection()
                finally:
                    self.relay._own_lock.release()
            else:
                await connection.close()


def _engine_of(session_maker: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    bind = session_maker.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the relay needs a session factory bound to one AsyncEngine (the module's)")
    return bind


async def _discard(connection: AsyncConnection) -> None:
    """Close a connection set up for the relay, never handing it back to the pool."""
    with contextlib.suppress(Exception):
        await connection.invalidate()
    await connection.close()


class _Statements:
    """The relay's statements for one outbox table, built once (parameters: `now`, `lease_end`, `limit`,
    `published` and `recorded_at`, `leased`)."""

    def __init__(self, record: Any) -> None:
        when = record.available_at.type
        now, lease_end = bindparam("now", type_=when), bindparam("lease_end", type_=when)
        due = and_(record.status == PENDING, record.available_at <= now)
        first_due = select(record.id).where(due).order_by(record.id).limit(bindparam("limit", type_=Integer))
        published = record.id.in_(bindparam("published", expanding=True))
        recorded_at = bindparam("recorded_at", type_=record.published_at.type)
        columns = [
            record.id,
            record.event_id,
            record.event_type,
            record.event_version,
            record.producer,
            record.correlation_id,
            record.occurred_at,
            record.payload,
        ]
        # SQLite: lease the first due rows and return them, in one statement.
        self.claim = (
            update(record)
            .where(record.id.in_(first_due.scalar_subquery()))
            .values(available_at=lease_end)
            .returning(*columns)
        )
        # The same, also marking the previous deliveries published.
        self.claim_recording = (
            update(record)
            .where(or_(published, record.id.in_(first_due.scalar_subquery())))
            .values(
                status=case((published, PUBLISHED), else_=record.status),
                published_at=case((published, recorded_at), else_=record.published_at),
                last_error=case((published, null()), else_=record.last_error),
                available_at=case((published, record.available_at), else_=lease_end),
            )
            .returning(*columns)
        )
        # MariaDB/MySQL: lock and read the first due rows, then lease them by primary key.
        self.select_due = select(*columns).where(due).order_by(record.id).limit(bindparam("limit", type_=Integer))
        self.select_due = self.select_due.with_for_update(skip_locked=True)
        self.lease = (
            update(record).where(record.id.in_(bindparam("leased", expanding=True))).values(available_at=lease_end)
        )
        self.publish = (
            update(record).where(published).values(status=PUBLISHED, published_at=recorded_at, last_error=None)
        )


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
