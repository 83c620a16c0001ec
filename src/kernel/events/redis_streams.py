"""The Redis Streams transport, for deployments split over several processes (`FREIGHTDESK_EVENT_TRANSPORT=redis`).

The relay of a producing module adds each committed outbox event to that module's stream; every consuming
module reads the streams it subscribes to in a consumer group of its own, so each module sees every event and
the replicas of one module share its events between them. Keys, under `FREIGHTDESK_REDIS_KEY_PREFIX`:

- `events:<producer>`: the producer's stream. An entry holds the envelope (JSON) and its type. `XADD … MAXLEN
  ~ N` keeps it bounded (`FREIGHTDESK_EVENTS_STREAM_MAX_LENGTH`); the producer's outbox keeps every event and
  stays the source for a replay.
- consumer group `<consumer module>` on each stream the module subscribes to, created at the oldest entry the
  stream still holds, so a module started after its producer (the first start of a split deployment) misses
  nothing the stream retains.
- `events:dead:<consumer module>`: the entries the module's handlers gave up on, with the error.

Each process reads under a consumer name of its own (host-pid-random), one reader task per consuming module.
An entry is acknowledged (`XACK`) only after every handler of the module committed it with its inbox row
(`deliver_once`); an entry that failed stays pending and is taken over again (`XAUTOCLAIM`) once it has been
idle for `FREIGHTDESK_EVENTS_CLAIM_IDLE_MS`, whether it failed here or its consumer died. After
`FREIGHTDESK_EVENTS_MAX_DELIVERIES` deliveries it moves to the dead-letter stream. A second delivery (a slow
consumer taken over, a lost acknowledgement) changes nothing: the inbox has the event already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kernel.events.envelope import EventEnvelope
from kernel.events.transport import BoundSubscription, TransportUnavailable, deliver_once
from kernel.health import CHECK_TIMEOUT_SECONDS, DEGRADED, HEALTHY, Check
from kernel.periodic import finish

if TYPE_CHECKING:
    from kernel.settings import Settings

log = logging.getLogger("freightdesk.events")

STREAM_KEY = "events:"
DEAD_LETTER_KEY = "events:dead:"
ENVELOPE_FIELD = b"envelope"
TYPE_FIELD = b"type"

BLOCK_MS = 1000
"""How long one `XREADGROUP` waits for new entries; a stop waits for it to return (at most this long)."""
BATCH_SIZE = 32
CLAIM_PASS_MAX_SECONDS = 5.0
CLAIM_ROUNDS_PER_PASS = 10
RETRY_MAX_SECONDS = 1.0
"""A reader retries at most this long after a failure: once Redis is back, events flow again within a second."""
FORGET_CONSUMER_IDLE_MS = 3_600_000
"""A consumer name without pending entries that has not read for an hour belongs to a process that is gone."""
FORGET_CONSUMERS_EVERY_SECONDS = 600.0
MAX_ERROR_LENGTH = 2000

# Replies with which Redis refuses a write for a while (memory full, a read-only replica after a failover,
# loading its data after a restart): the broker is unavailable, nothing is wrong with the event.
_UNAVAILABLE_REPLIES = ("OOM", "READONLY", "LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN")

Fields = Mapping[Any, Any]
"""An entry's fields as the client returns them: bytes names and values (the clients do not decode)."""


def default_consumer_name() -> str:
    """Unique per process, and readable in `XINFO CONSUMERS`: host, process id, a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def is_unavailable(exc: BaseException) -> bool:
    """Redis does not answer, or refuses writes for a while."""
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError | TimeoutError):
        return True
    return isinstance(exc, ResponseError) and str(exc).startswith(_UNAVAILABLE_REPLIES)


def _is_missing_group(exc: BaseException) -> bool:
    return isinstance(exc, ResponseError) and str(exc).startswith("NOGROUP")


@dataclass(frozen=True)
class GroupLag:
    """One consumer group on one stream, as `freightdesk events lag` shows it (`group` None: no group yet)."""

    producer: str
    length: int
    group: str | None
    consumers: int
    pending: int
    last_delivered_id: str | None
    entries_read: int | None
    lag: int | None
    """Entries not yet delivered to the group; None when Redis cannot tell (entries deleted in between)."""


@dataclass(frozen=True)
class PendingEntry:
    producer: str
    group: str
    entry_id: str
    consumer: str
    idle_ms: int
    deliveries: int
    event_id: str | None
    event_type: str | None
    """None (with `event_id`) when the entry was trimmed from the stream while still pending."""


@dataclass(frozen=True)
class DeadLetter:
    module: str
    """The consuming module whose handlers gave up."""
    entry_id: str
    event_id: str | None
    event_type: str
    stream: str
    origin_id: str
    deliveries: int
    error: str
    failed_at: str


@dataclass(frozen=True)
class ReplayResult:
    delivered: int
    failed: list[tuple[str, str]]
    """(event id or dead-letter entry id, error) of each event whose handlers failed again."""


async def deliver_to_all(handlers: Sequence[BoundSubscription], envelope: EventEnvelope) -> list[str]:
    """Run every handler for the event (each once, through the inbox); the failures, empty when all held."""
    failures: list[str] = []
    for bound in handlers:
        try:
            await deliver_once(bound, envelope)
        except Exception as exc:
            log.warning(
                "event handler failed",
                extra={"event_id": envelope.id, "event_type": envelope.type, "handler": bound.name},
                exc_info=True,
            )
            failures.append(f"{bound.name}: {type(exc).__name__}: {exc}")
    return failures


class RedisStreamsTransport:
    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str,
        max_length: int,
        claim_idle_ms: int,
        max_deliveries: int,
        timeout_seconds: float = 2.0,
        block_ms: int = BLOCK_MS,
        consumer_name: str | None = None,
    ) -> None:
        self.key_prefix = key_prefix
        self.max_length = max_length
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.consumer_name = consumer_name or default_consumer_name()
        self.claim_every_seconds = min(claim_idle_ms / 2000, CLAIM_PASS_MAX_SECONDS)
        self.block_ms = max(1, min(block_ms, int(self.claim_every_seconds * 1000)))
        self.commands = Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds)
        # A blocked XREADGROUP answers only after up to `block_ms`: its connections need the longer read timeout.
        self._reads = Redis.from_url(
            url,
            socket_timeout=timeout_seconds + self.block_ms / 1000,
            socket_connect_timeout=timeout_seconds,
            client_name=f"freightdesk-events-{self.consumer_name}",  # whose reads these are, in CLIENT LIST
        )
        self._bindings: dict[str, list[BoundSubscription]] = {}
        self._readers: list[_ModuleReader] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisStreamsTransport:
        if settings.redis_url is None:
            raise ValueError("the redis transport needs REDIS_URL")
        return cls(
            settings.redis_url,
            key_prefix=settings.redis_key_prefix,
            max_length=settings.events_stream_max_length,
            claim_idle_ms=settings.events_claim_idle_ms,
            max_deliveries=settings.events_max_deliveries,
            timeout_seconds=settings.redis_timeout_seconds,
        )

    # ---- keys

    def stream_key(self, producer: str) -> str:
        return f"{self.key_prefix}{STREAM_KEY}{producer}"

    def dead_letter_key(self, module: str) -> str:
        return f"{self.key_prefix}{DEAD_LETTER_KEY}{module}"

    @property
    def consuming_modules(self) -> list[str]:
        return sorted(self._bindings)

    # ---- EventTransport

    def subscribe(self, bound: BoundSubscription) -> None:
        self._bindings.setdefault(bound.consumer, []).append(bound)

    async def publish(self, envelope: EventEnvelope) -> None:
        """Returns once Redis has the entry; raises `TransportUnavailable` while Redis does not answer."""
        fields: dict[Any, Any] = {ENVELOPE_FIELD: envelope.to_json(), TYPE_FIELD: envelope.type.encode()}
        try:
            await self.commands.xadd(
                self.stream_key(envelope.producer), fields, maxlen=self.max_length, approximate=True
            )
        except (RedisError, OSError) as exc:
            if is_unavailable(exc):
                raise TransportUnavailable(f"Redis does not take events ({type(exc).__name__})") from exc
            raise

    async def start(self) -> None:
        """One reader per consuming module. Redis need not answer yet: the readers wait for it."""
        if self._readers:
            return
        for module in self.consuming_modules:
            reader = _ModuleReader(self, module, self._bindings[module])
            reader.start()
            self._readers.append(reader)

    async def stop(self) -> None:
        readers, self._readers = self._readers, []
        await asyncio.gather(*(reader.stop() for reader in readers))
        await self.close()

    async def close(self) -> None:
        """Close the connections (the clients connect again when used)."""
        await self._reads.aclose()
        await self.commands.aclose()

    # ---- health

    async def check(self) -> Check:
        """Redis answers, and the dead letters of the modules consuming here (`eventBus` adds them up)."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await self.commands.ping()
                dead = 0
                for module in self.consuming_modules:
                    dead += int(await self.commands.xlen(self.dead_letter_key(module)))
        except Exception as exc:
            reason = f"no answer within {CHECK_TIMEOUT_SECONDS:.0f}s" if isinstance(exc, TimeoutError) else ""
            return {
                "status": DEGRADED,
                "deadLetters": 0,
                "message": f"event streams unreachable ({reason or type(exc).__name__})",
            }
        return {"status": DEGRADED if dead else HEALTHY, "deadLetters": dead}

    # ---- inspection and repair (freightdesk events lag|pending|dead-letters|replay)

    async def _stream_keys(self, kind: str) -> list[str]:
        pattern = _glob_escape(self.key_prefix + kind) + "*"
        keys = [_text(key) async for key in self.commands.scan_iter(match=pattern, count=500, _type="STREAM")]
        return sorted(keys)

    async def _producer_streams(self) -> list[tuple[str, str]]:
        """(producer, stream key) of every producer stream under the prefix."""
        base = self.key_prefix + STREAM_KEY
        dead = self.key_prefix + DEAD_LETTER_KEY
        return [(key[len(base) :], key) for key in await self._stream_keys(STREAM_KEY) if not key.startswith(dead)]

    async def lag(self) -> list[GroupLag]:
        rows: list[GroupLag] = []
        for producer, key in await self._producer_streams():
            length = int(await self.commands.xlen(key))
            groups: list[dict[str, Any]] = await self.commands.xinfo_groups(key)
            if not groups:
                rows.append(GroupLag(producer, length, None, 0, 0, None, None, None))
            for group in sorted(groups, key=lambda g: _text(g["name"])):
                entries_read, lag = group.get("entries-read"), group.get("lag")
                rows.append(
                    GroupLag(
                        producer=producer,
                        length=length,
                        group=_text(group["name"]),
                        consumers=int(group["consumers"]),
                        pending=int(group["pending"]),
                        last_delivered_id=_text(group["last-delivered-id"]),
                        entries_read=None if entries_read is None else int(entries_read),
                        lag=None if lag is None else int(lag),
                    )
                )
        return rows

    async def pending(self, module: str | None = None, limit: int = 100) -> list[PendingEntry]:
        """Entries delivered to a group and not acknowledged yet (at most `limit` per stream and group)."""
        entries: list[PendingEntry] = []
        for row in await self.lag():
            if row.group is None or not row.pending or (module is not None and row.group != module):
                continue
            key = self.stream_key(row.producer)
            items: Any = await self.commands.xpending_range(key, row.group, "-", "+", limit)
            for item in items:
                entry_id = _text(item["message_id"])
                found: Any = await self.commands.xrange(key, entry_id, entry_id, count=1)
                envelope = _envelope_or_none(found[0][1]) if found else None
                entries.append(
                    PendingEntry(
                        producer=row.producer,
                        group=row.group,
                        entry_id=entry_id,
                        consumer=_text(item["consumer"]),
                        idle_ms=int(item["time_since_delivered"]),
                        deliveries=int(item["times_delivered"]),
                        event_id=envelope.id if envelope else None,
                        event_type=envelope.type if envelope else None,
                    )
                )
        return entries

    async def dead_letters(self, module: str | None = None, limit: int = 1000) -> tuple[list[DeadLetter], int]:
        """The dead-letter entries (oldest first, at most `limit` per module) and how many there are in all."""
        base = self.key_prefix + DEAD_LETTER_KEY
        letters: list[DeadLetter] = []
        total = 0
        for key in await self._stream_keys(DEAD_LETTER_KEY):
            consumer = key[len(base) :]
            if module is not None and consumer != module:
                continue
            total += int(await self.commands.xlen(key))
            entries: Any = await self.commands.xrange(key, count=limit)
            for entry_id, fields in entries:
                letters.append(_dead_letter(consumer, _text(entry_id), fields))
        return letters, total

    async def replay_dead_letters(self, module: str, event_ids: Sequence[str] | None = None) -> ReplayResult:
        """Deliver the module's dead letters (all, or those of `event_ids`) to its handlers, here and now, and
        remove each one whose handlers all succeeded. A handler that fails again leaves its entry in place."""
        bindings = self._bindings.get(module)
        if not bindings:
            raise LookupError(f"module {module!r} handles no events in this process")
        handlers = _by_type(bindings)
        key = self.dead_letter_key(module)
        wanted = set(event_ids or ())
        delivered, failed = 0, []
        entries: Any = await self.commands.xrange(key)
        for entry_id, fields in entries:
            envelope = _envelope_or_none(fields)
            if envelope is None:
                if not wanted:
                    failed.append((_text(entry_id), "unreadable entry: no envelope to deliver"))
                continue
            if wanted and envelope.id not in wanted:
                continue
            failures = await deliver_to_all(handlers.get(envelope.type, []), envelope)
            if failures:
                failed.append((envelope.id, "; ".join(failures)))
                continue
            await self.commands.xdel(key, entry_id)
            delivered += 1
        return ReplayResult(delivered=delivered, failed=failed)


def _by_type(bindings: Sequence[BoundSubscription]) -> dict[str, list[BoundSubscription]]:
    handlers: dict[str, list[BoundSubscription]] = {}
    for bound in bindings:
        handlers.setdefault(bound.subscription.event.event_type, []).append(bound)
    return handlers


def _envelope_or_none(fields: Fields | None) -> EventEnvelope | None:
    raw = (fields or {}).get(ENVELOPE_FIELD)
    if not raw:
        return None
    try:
        return EventEnvelope.from_json(raw)
    except Exception:
        return None


def _dead_letter(module: str, entry_id: str, fields: Fields) -> DeadLetter:
    envelope = _envelope_or_none(fields)
    deliveries = _text(fields.get(b"deliveries"))
    return DeadLetter(
        module=module,
        entry_id=entry_id,
        event_id=envelope.id if envelope else None,
        event_type=_text(fields.get(TYPE_FIELD)) or "?",
        stream=_text(fields.get(b"stream")),
        origin_id=_text(fields.get(b"entry")),
        deliveries=int(deliveries) if deliveries.isdigit() else 0,
        error=_text(fields.get(b"error")),
        failed_at=_text(fields.get(b"failedAt")),
    )


class _ModuleReader:
    """The reader of one consuming module: its group on each stream it subscribes to, under this process's
    consumer name. Asked to stop, it ends after the read or the entry at hand (`kernel.periodic.finish`)."""

    def __init__(self, transport: RedisStreamsTransport, module: str, bindings: Sequence[BoundSubscription]) -> None:
        self.transport = transport
        self.module = module
        self.group = module
        self.handlers = _by_type(bindings)
        producers = {event_type.split(".", 1)[0] for event_type in self.handlers}
        self.streams = sorted(transport.stream_key(producer) for producer in producers)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._forget_at = 0.0

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name=f"event-reader-{self.module}")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        await finish(self._task)
        self._task = None

    @property
    def _extra(self) -> dict[str, Any]:
        return {"module_name": self.module, "consumer": self.transport.consumer_name}

    async def run(self) -> None:
        failures = 0  # consecutive failed passes: report the first, and the recovery
        groups_ready = False
        claim_at = 0.0
        while not self._stopping.is_set():
            try:
                if not groups_ready:
                    await self.create_groups()
                    groups_ready = True
                if time.monotonic() >= claim_at:
                    await self.reclaim()
                    claim_at = time.monotonic() + self.transport.claim_every_seconds
                await self.read_new()
            except Exception as exc:
                groups_ready = False
                if _is_missing_group(exc):  # Redis lost its data (a restart without persistence) or a key was deleted
                    log.warning("consumer group missing; creating it again", extra=self._extra)
                    await self._pause(0.1)
                    continue
                if failures == 0:
                    self._log_failing(exc)
                failures += 1
                await self._pause(min(0.1 * 2 ** (failures - 1), RETRY_MAX_SECONDS))
            else:
                if failures:
                    log.warning("event reader recovered", extra=self._extra)
                failures = 0

    def _log_failing(self, exc: Exception) -> None:
        if is_unavailable(exc):
            log.warning(
                "event reader cannot reach Redis; retrying until it can",
                extra={**self._extra, "error": type(exc).__name__},
            )
        else:
            log.warning("event reader pass failed; retrying", extra={**self._extra, "error": repr(exc)}, exc_info=exc)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def create_groups(self) -> None:
        for stream in self.streams:
            try:
                await self.transport.commands.xgroup_create(stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if not str(exc).startswith("BUSYGROUP"):
                    raise

    async def read_new(self) -> None:
        reply: Any = await self.transport._reads.xreadgroup(
            self.group,
            self.transport.consumer_name,
            dict.fromkeys(self.streams, ">"),
            count=BATCH_SIZE,
            block=self.transport.block_ms,
        )
        for stream, entries in reply or []:
            for entry_id, fields in entries:
                await self.handle(_text(stream), _text(entry_id), fields, deliveries=1)

    async def reclaim(self) -> None:
        """Take over the entries idle for longer than the claim timeout (a dead consumer's, or failed ones) and
        deliver them again, or dead-letter those delivered too often already."""
        commands = self.transport.commands
        for stream in self.streams:
            start = "0-0"
            for _ in range(CLAIM_ROUNDS_PER_PASS):
                reply: Any = await commands.xautoclaim(
                    stream,
                    self.group,
                    self.transport.consumer_name,
                    min_idle_time=self.transport.claim_idle_ms,
                    start_id=start,
                    count=BATCH_SIZE,
                )
                next_start, claimed = _text(reply[0]), reply[1]
                if len(reply) > 2 and reply[2]:
                    log.error(
                        "pending events were trimmed from the stream before the consumer acknowledged them; "
                        "replay them from the producer's outbox (freightdesk events replay --published-since)",
                        extra={**self._extra, "stream": stream, "entries": [_text(e) for e in reply[2]]},
                    )
                for entry_id, fields in claimed:
                    entry = _text(entry_id)
                    deliveries = await self.deliveries(stream, entry)
                    if deliveries > self.transport.max_deliveries:  # its consumers died with it, again and again
                        error = f"not acknowledged after {deliveries - 1} deliveries (its consumers stopped?)"
                        await self.dead_letter(stream, entry, fields, error, deliveries - 1)
                    else:
                        await self.handle(stream, entry, fields, deliveries)
                if next_start == "0-0" or self._stopping.is_set():
                    break
                start = next_start
        if time.monotonic() >= self._forget_at:
            await self.forget_departed_consumers()
            self._forget_at = time.monotonic() + FORGET_CONSUMERS_EVERY_SECONDS

    async def deliveries(self, stream: str, entry_id: str) -> int:
        found: Any = await self.transport.commands.xpending_range(stream, self.group, entry_id, entry_id, 1)
        return int(found[0]["times_delivered"]) if found else 1

    async def handle(self, stream: str, entry_id: str, fields: Fields, deliveries: int) -> None:
        """Deliver one entry to the module's handlers; acknowledge it once they all committed."""
        envelope = _envelope_or_none(fields)
        if envelope is None:
            await self.dead_letter(stream, entry_id, fields, "unreadable entry: no valid envelope", deliveries)
            return
        failures = await deliver_to_all(self.handlers.get(envelope.type, []), envelope)
        if not failures:
            await self.transport.commands.xack(stream, self.group, entry_id)
        elif deliveries >= self.transport.max_deliveries:
            await self.dead_letter(stream, entry_id, fields, "; ".join(failures), deliveries)
        # else it stays pending, and the next claim pass after the claim timeout delivers it again

    async def dead_letter(self, stream: str, entry_id: str, fields: Fields, error: str, deliveries: int) -> None:
        record: dict[Any, Any] = {
            ENVELOPE_FIELD: fields.get(ENVELOPE_FIELD, b""),
            TYPE_FIELD: fields.get(TYPE_FIELD, b""),
            b"stream": stream,
            b"entry": entry_id,
            b"error": error[:MAX_ERROR_LENGTH],
            b"deliveries": deliveries,
            b"consumer": self.transport.consumer_name,
            b"failedAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        async with self.transport.commands.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.transport.dead_letter_key(self.module), record, maxlen=self.transport.max_length, approximate=True
            )
            pipe.xack(stream, self.group, entry_id)
            await pipe.execute()
        envelope = _envelope_or_none(fields)
        log.error(
            "event moved to dead-letter stream",
            extra={
                **self._extra,
                "event_id": envelope.id if envelope else None,
                "event_type": _text(fields.get(TYPE_FIELD)),
                "deliveries": deliveries,
                "error": error[:MAX_ERROR_LENGTH],
            },
        )

    async def forget_departed_consumers(self) -> None:
        """Remove consumer names of processes that are gone (nothing pending, no read for an hour)."""
        commands = self.transport.commands
        for stream in self.streams:
            consumers: Any = await commands.xinfo_consumers(stream, self.group)
            for consumer in consumers:
                name = _text(consumer["name"])
                if (
                    name != self.transport.consumer_name
                    and int(consumer["pending"]) == 0
                    and int(consumer["idle"]) > FORGET_CONSUMER_IDLE_MS
                ):
                    await commands.xgroup_delconsumer(stream, self.group, name)
