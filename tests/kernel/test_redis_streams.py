"""The Redis Streams transport against a real Redis (FREIGHTDESK_TEST_REDIS_URL), each test under a key prefix
of its own.

A producer module "sender" publishes `sender.happened`; two consumer modules, "alpha" and "beta", each own a
notes table and an inbox in one database, and their handler writes a note per event, so "applied once" is a
row count. Redis is read directly (XPENDING, XINFO) to see what the transport acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from redis.asyncio import Redis
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bootstrap.cli import main
from kernel.contracts.events import IntegrationEvent
from kernel.db.base import IntPrimaryKey, module_metadata
from kernel.db.config import configure_engine
from kernel.events.envelope import EventEnvelope
from kernel.events.outbox import PENDING, PUBLISHED, Inbox, Outbox
from kernel.events.redis_streams import RedisStreamsTransport
from kernel.events.relay import OutboxRelay
from kernel.events.transport import BoundSubscription, Subscription, TransportUnavailable
from tests.conftest import require_service
from tests.isolation import (
    MYSQL_URL,
    REDIS_URL,
    delete_redis_keys,
    mysql_database_url,
    recreate_mysql_databases,
    resources,
    run_database_name,
)
from tests.own_redis import OwnRedis, own_redis

pytestmark = pytest.mark.redis
__all__ = ["own_redis"]  # the fixture


class SenderBase(DeclarativeBase):
    metadata = module_metadata("sender")


sender_outbox = Outbox.for_base(SenderBase)


class AlphaBase(DeclarativeBase):
    metadata = module_metadata("alpha")


class BetaBase(DeclarativeBase):
    metadata = module_metadata("beta")


class AlphaNote(IntPrimaryKey, AlphaBase):
    __tablename__ = "alpha_notes"
    label: Mapped[str] = mapped_column(String(100))


class BetaNote(IntPrimaryKey, BetaBase):
    __tablename__ = "beta_notes"
    label: Mapped[str] = mapped_column(String(100))


INBOXES = {"alpha": Inbox.for_base(AlphaBase), "beta": Inbox.for_base(BetaBase)}
NOTES: dict[str, type[Any]] = {"alpha": AlphaNote, "beta": BetaNote}


class SenderHappened(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "sender.happened"
    event_version: ClassVar[int] = 1
    label: str


class SenderIgnored(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "sender.ignored"
    event_version: ClassVar[int] = 1


@dataclass
class Recorder:
    """Writes a note per event in the handler's transaction; fails (after writing) while `failing` says so."""

    note: type[Any]
    failures: int = 0
    """Fail the first `failures` calls."""
    calls: int = 0

    async def __call__(self, session: AsyncSession, event: SenderHappened, envelope: EventEnvelope) -> None:
        self.calls += 1
        session.add(self.note(label=event.label))
        await session.flush()
        if self.calls <= self.failures:
            raise RuntimeError(f"temporary failure {self.calls}")


@pytest.fixture
def store_backend() -> str:
    return "sqlite"


@pytest.fixture
async def engine(store_backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if store_backend == "mysql":
        require_service("mysql", bool(MYSQL_URL))
        database = run_database_name("kernel_streams")
        await recreate_mysql_databases([database])
        url = mysql_database_url(database)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'streams.sqlite'}"
    engine_ = create_async_engine(url)
    configure_engine(engine_)
    async with engine_.begin() as connection:
        for base in (SenderBase, AlphaBase, BetaBase):
            await connection.run_sync(base.metadata.create_all)
    yield engine_
    await engine_.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    require_service("redis", bool(REDIS_URL))
    key_prefix = resources.redis_prefix()
    yield key_prefix
    await delete_redis_keys(key_prefix)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


Make = Callable[..., RedisStreamsTransport]


@pytest.fixture
async def transports(prefix: str) -> AsyncIterator[Make]:
    """Builds transports on the test's prefix (fast claim timeout, short blocks); stops them all after."""
    made: list[RedisStreamsTransport] = []

    def make(**options: Any) -> RedisStreamsTransport:
        settings: dict[str, Any] = {"max_length": 1000, "claim_idle_ms": 200, "max_deliveries": 3, "block_ms": 100}
        transport = RedisStreamsTransport(REDIS_URL, key_prefix=prefix, **{**settings, **options})
        made.append(transport)
        return transport

    yield make
    for transport in made:
        await transport.stop()


def bind(
    transport: RedisStreamsTransport,
    module: str,
    handler: Recorder,
    sessions: async_sessionmaker[AsyncSession],
    event: type[IntegrationEvent] = SenderHappened,
) -> None:
    transport.subscribe(
        BoundSubscription(module, Subscription(event=event, handler=handler), sessions, INBOXES[module])
    )


def happened(label: str) -> EventEnvelope:
    return EventEnvelope.wrap(SenderHappened(label=label))


async def notes(sessions: async_sessionmaker[AsyncSession], module: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(NOTES[module])) or 0)


async def inbox_ids(sessions: async_sessionmaker[AsyncSession], module: str) -> list[str]:
    record = INBOXES[module].record
    async with sessions() as session:
        return list(await session.scalars(select(record.event_id)))


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what} not met within {seconds}s")


async def pending_count(redis: Redis, transport: RedisStreamsTransport, group: str) -> int:
    summary: Any = await redis.xpending(transport.stream_key("sender"), group)
    return int(summary["pending"])


@pytest.mark.parametrize("store_backend", ["sqlite", "mysql"])
async def test_a_published_event_runs_the_handler_once_with_its_inbox_row_and_is_acknowledged(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    transport = transports()
    handler = Recorder(AlphaNote)
    bind(transport, "alpha", handler, sessions)
    await transport.start()
    envelope = happened("one")
    await transport.publish(envelope)
    await until(lambda: notes_are(sessions, "alpha", 1), what="the handler's note")
    assert await inbox_ids(sessions, "alpha") == [envelope.id]
    await until(lambda: no_pending(redis, transport, "alpha"), what="the acknowledgement")

    await transport.publish(envelope)  # at least once: the same event arrives again
    await until(lambda: entries_read(redis, transport, "alpha", 2), what="the second delivery")
    await until(lambda: no_pending(redis, transport, "alpha"), what="the second acknowledgement")
    assert handler.calls == 1
    assert await notes(sessions, "alpha") == 1


async def notes_are(sessions: async_sessionmaker[AsyncSession], module: str, count: int) -> bool:
    return await notes(sessions, module) == count


async def no_pending(redis: Redis, transport: RedisStreamsTransport, group: str) -> bool:
    return await pending_count(redis, transport, group) == 0


async def entries_read(redis: Redis, transport: RedisStreamsTransport, group: str, count: int) -> bool:
    groups: Any = await redis.xinfo_groups(transport.stream_key("sender"))
    return any(g["name"].decode() == group and g["entries-read"] == count for g in groups)


async def test_events_the_module_does_not_handle_are_acknowledged_without_a_handler(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    transport = transports()
    handler = Recorder(AlphaNote)
    bind(transport, "alpha", handler, sessions)
    await transport.start()
    await transport.publish(EventEnvelope.wrap(SenderIgnored()))
    await until(lambda: entries_read(redis, transport, "alpha", 1), what="the delivery")
    await until(lambda: no_pending(redis, transport, "alpha"), what="the acknowledgement")
    assert handler.calls == 0


async def test_a_failing_handler_leaves_the_entry_pending_and_uncommitted_until_a_retry_succeeds(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    transport = transports(claim_idle_ms=400, max_deliveries=5)
    handler = Recorder(AlphaNote, failures=2)
    bind(transport, "alpha", handler, sessions)
    await transport.start()
    await transport.publish(happened("flaky"))

    await until(lambda: called(handler, 1), what="the first delivery")
    assert await pending_count(redis, transport, "alpha") == 1  # not acknowledged
    assert await notes(sessions, "alpha") == 0  # and the handler's write was rolled back
    assert await inbox_ids(sessions, "alpha") == []

    await until(lambda: notes_are(sessions, "alpha", 1), what="the successful retry")
    await until(lambda: no_pending(redis, transport, "alpha"), what="the acknowledgement after the retry")
    assert handler.calls == 3
    assert await redis.xlen(transport.dead_letter_key("alpha")) == 0


async def called(handler: Recorder, times: int) -> bool:
    return handler.calls >= times


async def test_an_entry_held_by_a_consumer_that_died_is_taken_over_and_handled(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    transport = transports()
    handler = Recorder(AlphaNote)
    bind(transport, "alpha", handler, sessions)
    stream = transport.stream_key("sender")
    await redis.xgroup_create(stream, "alpha", id="0", mkstream=True)
    await transport.publish(happened("orphan"))
    taken: Any = await redis.xreadgroup("alpha", "departed-replica", {stream: ">"}, count=10)
    assert len(taken[0][1]) == 1  # the departed replica holds the entry and will never acknowledge it

    await transport.start()
    await until(lambda: notes_are(sessions, "alpha", 1), what="the takeover")
    await until(lambda: no_pending(redis, transport, "alpha"), what="the acknowledgement")
    consumers: Any = await redis.xinfo_consumers(stream, "alpha")
    assert {c["name"].decode(): c["pending"] for c in consumers}["departed-replica"] == 0
    assert handler.calls == 1


async def test_after_the_last_delivery_the_entry_is_a_dead_letter_and_replay_delivers_it(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    transport = transports(max_deliveries=2)
    handler = Recorder(AlphaNote, failures=10**6)
    bind(transport, "alpha", handler, sessions)
    await transport.start()
    envelope = happened("poison")
    await transport.publish(envelope)

    dead_key = transport.dead_letter_key("alpha")
    await until(lambda: stream_length(redis, dead_key, 1), what="the dead letter")
    assert handler.calls == 2
    assert await pending_count(redis, transport, "alpha") == 0  # acknowledged once it was moved
    letters, total = await transport.dead_letters()
    assert total == 1
    (letter,) = letters
    assert (letter.module, letter.event_id, letter.event_type, letter.deliveries) == (
        "alpha",
        envelope.id,
        "sender.happened",
        2,
    )
    assert "RuntimeError: temporary failure 2" in letter.error
    await asyncio.sleep(0.5)  # nothing delivers it again by itself
    assert handler.calls == 2

    handler.failures = 0  # the cause is fixed
    result = await transport.replay_dead_letters("alpha")
    assert (result.delivered, result.failed) == (1, [])
    assert await notes(sessions, "alpha") == 1
    assert await inbox_ids(sessions, "alpha") == [envelope.id]
    assert await redis.xlen(dead_key) == 0


async def stream_length(redis: Redis, key: str, length: int) -> bool:
    return int(await redis.xlen(key)) == length


async def test_a_replay_that_fails_again_keeps_the_dead_letter(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    transport = transports(max_deliveries=1)
    handler = Recorder(AlphaNote, failures=10**6)
    bind(transport, "alpha", handler, sessions)
    await transport.start()
    await transport.publish(happened("still broken"))
    await until(lambda: stream_length(redis, transport.dead_letter_key("alpha"), 1), what="the dead letter")
    result = await transport.replay_dead_letters("alpha")
    assert result.delivered == 0
    assert "temporary failure" in result.failed[0][1]
    assert await redis.xlen(transport.dead_letter_key("alpha")) == 1


async def test_replicas_sharing_a_group_apply_each_entry_once(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    handlers = [Recorder(AlphaNote), Recorder(AlphaNote)]
    replicas = [transports(consumer_name=f"replica-{i}") for i in range(2)]
    for replica, handler in zip(replicas, handlers, strict=True):
        bind(replica, "alpha", handler, sessions)
        await replica.start()
    await until(lambda: blocked_readers(redis, replicas, 2), what="both replicas waiting for entries")
    sent = [happened(f"event {i}") for i in range(30)]
    for i, envelope in enumerate(sent):
        await replicas[i % 2].publish(envelope)

    await until(lambda: notes_are(sessions, "alpha", 30), what="every event applied")
    await until(lambda: no_pending(redis, replicas[0], "alpha"), what="every acknowledgement")
    assert sorted(await inbox_ids(sessions, "alpha")) == sorted(e.id for e in sent)
    assert sum(h.calls for h in handlers) == 30  # each entry went to one replica only
    assert all(h.calls for h in handlers)  # and both replicas had their share


async def blocked_readers(redis: Redis, transports: list[RedisStreamsTransport], count: int) -> bool:
    names = {f"freightdesk-events-{t.consumer_name}" for t in transports}
    clients: Any = await redis.client_list()
    return sum(1 for c in clients if c["name"] in names and c["cmd"] == "xreadgroup" and "b" in c["flags"]) == count


async def test_each_consuming_module_gets_every_entry(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    transport = transports()
    alpha, beta = Recorder(AlphaNote), Recorder(BetaNote)
    bind(transport, "alpha", alpha, sessions)
    bind(transport, "beta", beta, sessions)
    await transport.start()
    for i in range(5):
        await transport.publish(happened(f"event {i}"))
    await until(lambda: notes_are(sessions, "alpha", 5), what="alpha's notes")
    await until(lambda: notes_are(sessions, "beta", 5), what="beta's notes")
    groups: Any = await redis.xinfo_groups(transport.stream_key("sender"))
    assert sorted(g["name"].decode() for g in groups) == ["alpha", "beta"]
    assert (alpha.calls, beta.calls) == (5, 5)


async def test_a_group_created_after_the_producer_published_still_gets_what_the_stream_holds(
    transports: Make, sessions: async_sessionmaker[AsyncSession]
) -> None:
    producer = transports()
    await producer.publish(happened("before the consumer existed"))
    consumer = transports()
    bind(consumer, "alpha", Recorder(AlphaNote), sessions)
    await consumer.start()
    await until(lambda: notes_are(sessions, "alpha", 1), what="the earlier event")


async def test_the_stream_stays_bounded(transports: Make, redis: Redis) -> None:
    transport = transports(max_length=50)
    for i in range(600):
        await transport.publish(happened(f"event {i}"))
    length = int(await redis.xlen(transport.stream_key("sender")))
    # MAXLEN ~ trims whole nodes (100 entries by default), so the stream keeps at least 50 and fewer than 150
    assert 50 <= length < 150


async def test_stop_returns_promptly_and_leaves_no_task_behind(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    transport = transports(claim_idle_ms=30_000, block_ms=1000)  # the production timings: a reader is blocked
    bind(transport, "alpha", Recorder(AlphaNote), sessions)
    bind(transport, "beta", Recorder(BetaNote), sessions)
    await transport.start()
    await until(lambda: blocked_readers(redis, [transport], 2), what="both readers waiting for entries")
    started = time.monotonic()
    await transport.stop()
    assert time.monotonic() - started < 1.5
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("event-reader-")]


@pytest.fixture
def cli_environment(prefix: str, tmp_path: Path) -> dict[str, str]:
    return {
        "REDIS_URL": REDIS_URL,
        "FREIGHTDESK_REDIS_KEY_PREFIX": prefix,
        "FREIGHTDESK_EVENT_TRANSPORT": "redis",
        "FREIGHTDESK_DATA_DIR": str(tmp_path / "cli"),
    }


async def freightdesk(environment: dict[str, str], *args: str) -> str:
    """`freightdesk <args>` in a thread (it runs its own event loop); its output."""
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), env=environment, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_lag_and_pending_show_streams_groups_and_unacknowledged_entries(
    transports: Make, sessions: async_sessionmaker[AsyncSession], redis: Redis, cli_environment: dict[str, str]
) -> None:
    transport = transports(claim_idle_ms=60_000)  # the failed entry stays pending for the whole test
    bind(transport, "alpha", Recorder(AlphaNote, failures=1), sessions)
    bind(transport, "beta", Recorder(BetaNote), sessions)
    await transport.start()
    failing = happened("fails once")
    await transport.publish(failing)
    await until(lambda: notes_are(sessions, "beta", 1), what="beta's note")
    await until(lambda: entries_read(redis, transport, "alpha", 1), what="alpha's delivery")
    await transport.stop()
    await transport.publish(happened("not read yet"))

    lines = (await freightdesk(cli_environment, "events", "lag")).splitlines()
    assert lines[0].split() == ["stream", "group", "length", "consumers", "last", "delivered", "lag", "pending"]
    rows = {tuple(line.split()[:2]): line.split() for line in lines[1:]}
    alpha, beta = rows[("sender", "alpha")], rows[("sender", "beta")]
    assert (alpha[2], alpha[3], alpha[5], alpha[6]) == ("2", "1", "1", "1")  # length, consumers, lag, pending
    assert (beta[5], beta[6]) == ("1", "0")

    pending = (await freightdesk(cli_environment, "events", "pending")).splitlines()
    assert len(pending) == 1
    assert pending[0].split()[:2] == ["sender", "alpha"]
    assert "deliveries=1" in pending[0]
    assert f"consumer={transport.consumer_name}" in pending[0]
    assert pending[0].endswith(f"sender.happened {failing.id}")
    assert (await freightdesk(cli_environment, "events", "pending", "--module", "beta")).strip() == "no pending entries"


async def test_lag_refuses_the_inprocess_transport(cli_environment: dict[str, str]) -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["events", "lag"], env={**cli_environment, "FREIGHTDESK_EVENT_TRANSPORT": "inprocess"}
    )
    assert result.exit_code == 1
    assert "FREIGHTDESK_EVENT_TRANSPORT" in result.output


async def test_while_redis_is_down_the_relay_keeps_its_events_pending_and_publishes_them_when_it_returns(
    own_redis: OwnRedis, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    transport = RedisStreamsTransport(
        own_redis.url, key_prefix="fd:", max_length=1000, claim_idle_ms=200, max_deliveries=3, block_ms=100
    )
    # one failed attempt would make a dead letter: an outage must not count as one
    relay = OutboxRelay(sender_outbox, sessions, transport, interval=0.05, max_attempts=1)
    try:
        own_redis.stop()
        with pytest.raises(TransportUnavailable):
            await transport.publish(happened("direct"))
        async with sessions() as session:
            await sender_outbox.publish(session, SenderHappened(label="during the outage"))
            await session.commit()
        with caplog.at_level(logging.WARNING, logger="freightdesk.events"):
            relay.start()
            await asyncio.sleep(0.5)  # several passes
            assert await outbox_states(sessions) == [(PENDING, 0)]
            own_redis.start()
            await until(lambda: outbox_is(sessions, [(PUBLISHED, 0)]), what="the publication after the outage")
        assert [r.getMessage() for r in caplog.records].count(
            "outbox relay cannot reach the event transport; retrying every pass until it can"
        ) == 1
        assert "outbox relay recovered" in caplog.text
        assert await transport.commands.xlen("fd:events:sender") == 1
    finally:
        await relay.stop()
        await transport.stop()


async def outbox_states(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    record = sender_outbox.record
    async with sessions() as session:
        return [(s, a) for s, a in (await session.execute(select(record.status, record.attempts))).all()]


async def outbox_is(sessions: async_sessionmaker[AsyncSession], expected: list[tuple[str, int]]) -> bool:
    return await outbox_states(sessions) == expected


async def test_a_reader_reports_an_outage_once_and_reads_again_when_redis_returns_empty(
    own_redis: OwnRedis, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    transport = RedisStreamsTransport(
        own_redis.url, key_prefix="fd:", max_length=1000, claim_idle_ms=200, max_deliveries=3, block_ms=100
    )
    bind(transport, "alpha", Recorder(AlphaNote), sessions)
    try:
        with caplog.at_level(logging.WARNING, logger="freightdesk.events"):
            await transport.start()
            await transport.publish(happened("before"))
            await until(lambda: notes_are(sessions, "alpha", 1), what="the first event")
            own_redis.stop()
            await asyncio.sleep(1.0)  # the reader retries with backoff meanwhile
            own_redis.start()  # without its data: no stream, no group
            await until(lambda: published(transport, happened("after")), what="a publication after the restart")
            await until(lambda: notes_are(sessions, "alpha", 2), what="the event after the outage")
        messages = [r.getMessage() for r in caplog.records]
        assert messages.count("event reader cannot reach Redis; retrying until it can") == 1
        assert "event reader recovered" in messages
    finally:
        started = time.monotonic()
        await transport.stop()
        assert time.monotonic() - started < 1.5


async def published(transport: RedisStreamsTransport, envelope: EventEnvelope) -> bool:
    try:
        await transport.publish(envelope)
    except TransportUnavailable:
        return False
    return True


async def test_a_reader_started_while_redis_is_down_begins_once_it_answers(
    own_redis: OwnRedis, sessions: async_sessionmaker[AsyncSession]
) -> None:
    own_redis.stop()
    transport = RedisStreamsTransport(
        own_redis.url, key_prefix="fd:", max_length=1000, claim_idle_ms=200, max_deliveries=3, block_ms=100
    )
    bind(transport, "alpha", Recorder(AlphaNote), sessions)
    try:
        await transport.start()  # does not fail: the process starts, its reader waits for Redis
        await asyncio.sleep(0.3)
        own_redis.start()
        await until(lambda: published(transport, happened("first")), what="a publication")
        await until(lambda: notes_are(sessions, "alpha", 1), what="the delivery")
    finally:
        await transport.stop()


async def test_the_health_check_reports_dead_letters_and_an_unreachable_redis(
    own_redis: OwnRedis, sessions: async_sessionmaker[AsyncSession]
) -> None:
    transport = RedisStreamsTransport(
        own_redis.url, key_prefix="fd:", max_length=1000, claim_idle_ms=200, max_deliveries=1, block_ms=100
    )
    bind(transport, "alpha", Recorder(AlphaNote, failures=1), sessions)
    try:
        assert await transport.check() == {"status": "healthy", "deadLetters": 0}
        await transport.start()
        await transport.publish(happened("poison"))
        await until(
            lambda: stream_length(transport.commands, transport.dead_letter_key("alpha"), 1), what="dead letter"
        )
        assert await transport.check() == {"status": "degraded", "deadLetters": 1}
        own_redis.stop()
        check = await transport.check()
        assert check["status"] == "degraded"
        assert check["message"] == "event streams unreachable (ConnectionError)"
    finally:
        await transport.stop()
