"""Outbox, relay, inbox, retries and dead letters on a real database (SQLite and MariaDB).

A small consumer module defined here ("probe") owns a notes table and an inbox; its handler writes a note per
event, so "exactly once" is visible as a row count.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import String, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.contracts.events import IntegrationEvent
from kernel.db.base import IntPrimaryKey, module_metadata
from kernel.db.config import configure_engine
from kernel.events.envelope import EventEnvelope
from kernel.events.outbox import AUDIENCE_KEY, DEAD, PENDING, PUBLISHED, EventAudience, Inbox, Outbox
from kernel.events.relay import OutboxRelay, _Lease, backoff_seconds, outbox_stats, replay_dead_letters
from kernel.events.transport import BoundSubscription, InProcessTransport, Subscription
from tests.conftest import require_service
from tests.isolation import MYSQL_URL, mysql_database_url, recreate_mysql_databases, run_database_name


class ProbeBase(DeclarativeBase):
    metadata = module_metadata("probe")


class Note(IntPrimaryKey, ProbeBase):
    __tablename__ = "probe_notes"
    text: Mapped[str] = mapped_column(String(100))


probe_outbox = Outbox.for_base(ProbeBase)
probe_inbox = Inbox.for_base(ProbeBase)


class ProbeHappened(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "probe.happened"
    event_version: ClassVar[int] = 1
    label: str


@dataclass
class Flaky:
    """A handler that fails its first `failures` calls."""

    failures: int = 0
    calls: int = 0

    async def __call__(self, session: AsyncSession, event: ProbeHappened, envelope: EventEnvelope) -> None:
        self.calls += 1
        session.add(Note(text=event.label))
        await session.flush()
        if self.calls <= self.failures:
            raise RuntimeError("temporary failure")


@pytest.fixture
async def engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if backend == "mysql":
        require_service("mysql", bool(MYSQL_URL))
        database = run_database_name("kernel_events")
        await recreate_mysql_databases([database])
        url = mysql_database_url(database)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'probe.sqlite'}"
    engine_ = create_async_engine(url)
    configure_engine(engine_)
    async with engine_.begin() as connection:
        await connection.run_sync(ProbeBase.metadata.create_all)
    yield engine_
    await engine_.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def wire(
    sessions: async_sessionmaker[AsyncSession], handler: Flaky, max_attempts: int = 3
) -> tuple[InProcessTransport, OutboxRelay]:
    transport = InProcessTransport()
    subscription = Subscription(event=ProbeHappened, handler=handler)
    transport.subscribe(BoundSubscription("probe", subscription, sessions, probe_inbox))
    relay = OutboxRelay(probe_outbox, sessions, transport, max_attempts=max_attempts, backoff_base=0.0)
    return transport, relay


async def publish(sessions: async_sessionmaker[AsyncSession], label: str, commit: bool = True) -> EventEnvelope:
    async with sessions() as session:
        envelope = await probe_outbox.publish(session, ProbeHappened(label=label))
        if commit:
            await session.commit()
        else:
            await session.rollback()
    return envelope


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(probe_outbox.record.status).order_by(probe_outbox.record.id)))


async def notes(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Note)) or 0)


async def test_outbox_row_is_written_only_when_the_transaction_commits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await publish(sessions, "kept")
    await publish(sessions, "rolled back", commit=False)
    assert await statuses(sessions) == [PENDING]


async def test_an_event_nobody_receives_is_recorded_published_at_once_and_the_relay_is_not_woken(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    nobody = async_sessionmaker(engine, expire_on_commit=False, info={AUDIENCE_KEY: EventAudience(frozenset())})
    somebody = async_sessionmaker(
        engine, expire_on_commit=False, info={AUDIENCE_KEY: EventAudience(frozenset({ProbeHappened.event_type}))}
    )
    _, relay = wire(sessions, Flaky())
    wake = probe_outbox.waiter()
    try:
        unheard = await publish(nobody, "nobody listens")
        assert not wake.is_set()
        await publish(somebody, "somebody listens")
        assert wake.is_set()
        wake.clear()
        async with nobody() as session:  # several at once: one statement, the same rule
            await probe_outbox.publish_many(session, [ProbeHappened(label="a"), ProbeHappened(label="b")])
            await session.commit()
        assert not wake.is_set()
        await publish(sessions, "no audience known")  # a session without one: the relay decides, as before
        assert wake.is_set()
    finally:
        probe_outbox.forget(wake)
    async with sessions() as session:
        rows = (await session.scalars(select(probe_outbox.record).order_by(probe_outbox.record.id))).all()
    assert [(r.status, r.attempts) for r in rows] == [
        (PUBLISHED, 0),
        (PENDING, 0),
        (PUBLISHED, 0),
        (PUBLISHED, 0),
        (PENDING, 0),
    ]
    assert rows[0].published_at == unheard.occurred_at
    assert await relay.relay_pending() == 2  # only the events somebody may receive


async def test_relay_delivers_and_marks_published(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler = Flaky()
    _, relay = wire(sessions, handler)
    envelope = await publish(sessions, "one")
    assert await relay.relay_pending() == 1
    assert await statuses(sessions) == [PUBLISHED]
    assert handler.calls == 1
    assert await notes(sessions) == 1
    assert envelope.producer == "probe"
    assert envelope.type == "probe.happened"
    assert envelope.id[14] == "7"  # UUIDv7


async def test_redelivery_of_the_same_event_has_no_second_effect(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler = Flaky()
    transport, relay = wire(sessions, handler)
    envelope = await publish(sessions, "twice")
    await relay.relay_pending()
    await transport.publish(envelope)  # at-least-once: the same event arrives again
    assert handler.calls == 1
    assert await notes(sessions) == 1


async def test_failed_handler_is_retried_with_its_effects_rolled_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler = Flaky(failures=1)
    _, relay = wire(sessions, handler)
    await publish(sessions, "retry me")
    await relay.relay_pending()
    assert await statuses(sessions) == [PENDING]
    assert await notes(sessions) == 0  # the failed attempt left nothing behind
    await relay.relay_pending()
    assert await statuses(sessions) == [PUBLISHED]
    assert await notes(sessions) == 1


async def test_retries_wait_for_the_backoff(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler = Flaky(failures=1)
    transport = InProcessTransport()
    transport.subscribe(BoundSubscription("probe", Subscription(ProbeHappened, handler), sessions, probe_inbox))
    relay = OutboxRelay(probe_outbox, sessions, transport, backoff_base=60.0)
    await publish(sessions, "later")
    await relay.relay_pending()
    assert await relay.relay_pending() == 0  # not due yet
    assert handler.calls == 1
    assert [backoff_seconds(n) for n in (1, 2, 3, 20)] == [1.0, 2.0, 4.0, 300.0]


async def test_poison_event_goes_to_dead_letter_and_can_be_replayed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handler = Flaky(failures=3)
    _, relay = wire(sessions, handler, max_attempts=3)
    await publish(sessions, "poison")
    for _ in range(3):
        await relay.relay_pending()
    assert await statuses(sessions) == [DEAD]
    async with sessions() as session:
        stats = await outbox_stats(session, probe_outbox)
        row = await session.scalar(select(probe_outbox.record))
    assert stats.dead == 1
    assert stats.pending == 0
    assert row is not None
    assert "temporary failure" in (row.last_error or "")

    assert await replay_dead_letters(sessions, probe_outbox) == 1
    await relay.relay_pending()
    assert await statuses(sessions) == [PUBLISHED]
    assert await notes(sessions) == 1


async def test_running_relay_is_woken_by_the_commit(sessions: async_sessionmaker[AsyncSession]) -> None:
    handler = Flaky()
    _, relay = wire(sessions, handler)
    relay.interval = 30.0  # only the commit signal can make this fast
    relay.start()
    try:
        await asyncio.sleep(0.05)
        await publish(sessions, "wake up")
        for _ in range(100):
            if await statuses(sessions) == [PUBLISHED]:
                break
            await asyncio.sleep(0.02)
        assert await statuses(sessions) == [PUBLISHED]
    finally:
        await relay.stop()


async def until_published(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    for _ in range(200):
        if await statuses(sessions) == [PUBLISHED] * count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not published: {await statuses(sessions)}")


async def test_sqlite_connections_of_the_pool_keep_full_durability(
    backend: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The relay commits its leases at `synchronous=NORMAL` on a connection of its own; the pooled ones, which
    producers' and handlers' transactions use, stay at FULL (2) whatever the relay did."""
    if backend != "sqlite":
        pytest.skip("a SQLite setting")
    _, relay = wire(sessions, Flaky())
    relay.start()
    try:
        for n in range(3):
            await publish(sessions, f"event {n}")
            await until_published(sessions, n + 1)
    finally:
        await relay.stop()
    await publish(sessions, "one pass")
    await relay.relay_pending()
    await until_published(sessions, 4)

    pooled = engine.pool.checkedin()  # type: ignore[attr-defined]
    connections = [await engine.connect() for _ in range(pooled)]
    try:
        levels = [await connection.scalar(text("PRAGMA synchronous")) for connection in connections]
    finally:
        for connection in connections:
            await connection.close()
    assert pooled >= 1
    assert levels == [2] * pooled


async def test_expired_lease_is_claimed_again(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A relay that died after claiming leaves a lease; once it runs out, another relay delivers the row."""
    handler = Flaky()
    _, relay = wire(sessions, handler)
    await publish(sessions, "orphan")
    claimed = await relay._claim()
    assert len(claimed) == 1
    assert await relay._claim() == []  # leased: not visible to a second relay
    async with sessions() as session, session.begin():
        await session.execute(update(probe_outbox.record).values(available_at=func.now()))
    await relay.relay_pending()
    assert handler.calls == 1


async def test_event_from_another_module_cannot_be_published_through_this_outbox() -> None:
    class ElsewhereHappened(IntegrationEvent, frozen=True, kw_only=True):
        event_type: ClassVar[str] = "elsewhere.happened"
        event_version: ClassVar[int] = 1

    with pytest.raises(ValueError, match="cannot publish"):
        await probe_outbox.publish(AsyncSession(), ElsewhereHappened())


def test_events_must_declare_type_and_version() -> None:
    with pytest.raises(TypeError):

        class Nameless(IntegrationEvent, frozen=True, kw_only=True):  # pragma: no cover - must fail
            event_version: ClassVar[int] = 1

    with pytest.raises(TypeError):

        class Unversioned(IntegrationEvent, frozen=True, kw_only=True):  # pragma: no cover - must fail
            event_type: ClassVar[str] = "probe.unversioned"


class Recorder:
    """A transport that only counts what relays hand it (no inbox to hide a second delivery)."""

    name = "recorder"

    def __init__(self) -> None:
        self.delivered: list[str] = []

    def subscribe(self, bound: BoundSubscription) -> None:
        raise NotImplementedError

    async def publish(self, envelope: EventEnvelope) -> None:
        await asyncio.sleep(0)  # let the other relays run between deliveries
        self.delivered.append(envelope.id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


async def test_relays_of_several_replicas_never_claim_the_same_event(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        for n in range(400):
            await probe_outbox.publish(session, ProbeHappened(label=f"event {n}"))
        await session.commit()
    replicas = [create_async_engine(engine.url) for _ in range(4)]
    for replica in replicas:
        configure_engine(replica)
    recorder = Recorder()
    relays = [
        OutboxRelay(probe_outbox, async_sessionmaker(replica, expire_on_commit=False), recorder, batch_size=25)
        for replica in replicas
    ]
    try:
        await asyncio.gather(*(relay.relay_pending() for relay in relays))
    finally:
        for replica in replicas:
            await replica.dispose()

    assert len(recorder.delivered) == 400
    assert len(set(recorder.delivered)) == 400
    assert set(await statuses(sessions)) == {PUBLISHED}


class Peeking(Recorder):
    """A transport that, while it delivers an event, lets another relay try to claim."""

    def __init__(self, other: OutboxRelay) -> None:
        super().__init__()
        self.other = other
        self.claimed_meanwhile: list[list[tuple[int, EventEnvelope]]] = []

    async def publish(self, envelope: EventEnvelope) -> None:
        self.claimed_meanwhile.append(await self.other._claim())
        await super().publish(envelope)


async def test_another_relay_claims_nothing_while_an_event_is_delivered(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """On MariaDB the lease commits while the delivery already runs; until it has, the row lock holds the other
    relays off. Either way a second relay finds nothing to claim during the delivery."""
    await publish(sessions, "in flight")
    replica = create_async_engine(engine.url)
    configure_engine(replica)
    try:
        async with replica.connect():  # a pooled connection ready: the other claim goes out at once
            pass
        other = OutboxRelay(probe_outbox, async_sessionmaker(replica, expire_on_commit=False), Recorder())
        peeking = Peeking(other)
        relay = OutboxRelay(probe_outbox, sessions, peeking)
        assert await relay.relay_pending() == 1
    finally:
        await replica.dispose()
    assert peeking.claimed_meanwhile == [[]]
    assert len(peeking.delivered) == 1
    assert await statuses(sessions) == [PUBLISHED]


async def test_a_relay_killed_before_its_lease_committed_leaves_the_rows_due_at_once(
    backend: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """MariaDB: the lease commits while the delivery runs. A relay that dies before that commit landed takes its
    connection with it; the server rolls the claim back, so another relay may take the rows at once instead of
    waiting for a lease."""
    if backend != "mysql":
        pytest.skip("SQLite commits the lease before delivering")
    await publish(sessions, "orphan")
    lease = _Lease(OutboxRelay(probe_outbox, sessions, Recorder()))
    await lease.open()
    assert len(await lease.claim(10)) == 1
    if lease._committing is not None:
        lease._committing.cancel()  # the process dies before the lease's UPDATE is sent...
    await lease.connection.invalidate()  # ...and its connection with it
    await lease.connection.close()

    other = OutboxRelay(probe_outbox, sessions, Recorder())
    for _ in range(100):  # the server notices the dropped connection within moments
        if claimed := await other._claim():
            break
        await asyncio.sleep(0.02)
    assert [envelope.payload["label"] for _, envelope in claimed] == ["orphan"]
