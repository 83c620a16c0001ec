"""Transactional outbox and inbox tables, created on a module's own base, in the module's own database.

A producer awaits `outbox.publish(session, event)` inside the transaction that makes the change; the relay
delivers the row after commit. A consumer's inbox row `(event_id, handler)` is written in the same
transaction as the handler's effects, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy import Index, Integer, PrimaryKeyConstraint, String, Text, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.contracts.events import IntegrationEvent
from kernel.db.base import UTCDateTime, module_of, utc_now
from kernel.events.envelope import EventEnvelope

PENDING = "pending"
PUBLISHED = "published"
DEAD = "dead"

AUDIENCE_KEY = "freightdesk.event_audience"
"""Where a module's sessions carry (in `Session.info`) the event types anyone can receive, when that is known:
bootstrap puts an `EventAudience` there on the in-process transport."""


@dataclass(frozen=True)
class EventAudience:
    """The event types some module of the application subscribes to (hosted here or not). An event of another
    type is delivered to nobody in any deployment shape, so the relay has nothing to do for it."""

    subscribed: frozenset[str]

    def hears(self, event_type: str) -> bool:
        return event_type in self.subscribed


class OutboxRecord(Protocol):
    """An outbox row; each module maps its own (see `Outbox.for_base`)."""

    id: int
    event_id: str
    event_type: str
    event_version: int
    producer: str
    correlation_id: str | None
    occurred_at: datetime
    payload: str
    status: str
    attempts: int
    available_at: datetime
    published_at: datetime | None
    last_error: str | None


class InboxRecord(Protocol):
    event_id: str
    handler: str
    processed_at: datetime


def envelope_of(row: OutboxRecord) -> EventEnvelope:
    return EventEnvelope(
        id=row.event_id,
        type=row.event_type,
        version=row.event_version,
        producer=row.producer,
        occurred_at=row.occurred_at,
        correlation_id=row.correlation_id,
        payload=msgspec.json.decode(row.payload),
    )


class Outbox:
    """A publishing module's outbox model plus a wake-up signal for its relay."""

    def __init__(self, module: str, record: type[Any]) -> None:
        self.module = module
        self.record = record
        self.insert = insert(record)
        """Built once: the row `publish` writes."""
        self._waiters: set[asyncio.Event] = set()

    @classmethod
    def for_base(cls, base: type[DeclarativeBase]) -> Outbox:
        module = module_of(base)
        outbox_table = f"{module}_event_outbox"

        # mypy cannot take a base class passed in as a value (a typing gap, not ours to close).
        class OutboxMessage(base):  # type: ignore[misc,valid-type]
            __tablename__ = outbox_table
            __table_args__ = (Index(f"ix_{outbox_table}_status_available", "status", "available_at"),)

            id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
            event_id: Mapped[str] = mapped_column(String(36), unique=True)
            event_type: Mapped[str] = mapped_column(String(100))
            event_version: Mapped[int] = mapped_column(Integer)
            producer: Mapped[str] = mapped_column(String(50))
            correlation_id: Mapped[str | None] = mapped_column(String(128))
            occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
            payload: Mapped[str] = mapped_column(Text)
            status: Mapped[str] = mapped_column(String(16), default=PENDING)
            attempts: Mapped[int] = mapped_column(Integer, default=0)
            available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
            published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
            last_error: Mapped[str | None] = mapped_column(Text)

        return cls(module, OutboxMessage)

    async def publish(self, session: AsyncSession, event_: IntegrationEvent) -> EventEnvelope:
        """Write the event in the session's transaction (one prepared insert, not the unit of work); the relay is
        woken once that transaction commits. An event no module subscribes to (the session's `EventAudience`)
        is written as published at once, as the relay would after delivering it to nobody, and costs the relay
        nothing."""
        (envelope,) = await self.publish_many(session, [event_])
        return envelope

    async def publish_many(self, session: AsyncSession, events: Sequence[IntegrationEvent]) -> list[EventEnvelope]:
        """`publish` for several events at once: one statement for all their rows."""
        for event_ in events:
            if event_.producer != self.module:
                raise ValueError(f"module {self.module!r} cannot publish {event_.event_type!r}")
        if not events:
            return []
        envelopes = [EventEnvelope.wrap(event_) for event_ in events]
        audience: EventAudience | None = session.info.get(AUDIENCE_KEY)
        rows = [_row(envelope, heard=audience is None or audience.hears(envelope.type)) for envelope in envelopes]
        connection = await session.connection()
        await connection.execute(self.insert, rows[0] if len(rows) == 1 else rows)
        if any(row["status"] == PENDING for row in rows):
            event.listen(session.sync_session, "after_commit", lambda _session: self.notify(), once=True)
        return envelopes

    def notify(self) -> None:
        for waiter in self._waiters:
            waiter.set()

    def waiter(self) -> asyncio.Event:
        signal = asyncio.Event()
        self._waiters.add(signal)
        return signal

    def forget(self, signal: asyncio.Event) -> None:
        self._waiters.discard(signal)


def _row(envelope: EventEnvelope, *, heard: bool) -> dict[str, Any]:
    return {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "event_version": envelope.version,
        "producer": envelope.producer,
        "correlation_id": envelope.correlation_id,
        "occurred_at": envelope.occurred_at,
        "payload": msgspec.json.encode(envelope.payload).decode(),
        "status": PENDING if heard else PUBLISHED,
        "attempts": 0,
        "available_at": envelope.occurred_at,
        "published_at": None if heard else envelope.occurred_at,
    }


class Inbox:
    """A subscribing module's inbox model: one row per (event, handler) that ran."""

    def __init__(self, module: str, record: type[Any]) -> None:
        self.module = module
        self.record = record
        self.insert = insert(record)
        """Built once: the row `deliver_once` writes first in each handler's transaction."""

    @classmethod
    def for_base(cls, base: type[DeclarativeBase]) -> Inbox:
        module = module_of(base)
        inbox_table = f"{module}_event_inbox"

        # mypy cannot take a base class passed in as a value (a typing gap, not ours to close).
        class InboxMessage(base):  # type: ignore[misc,valid-type]
            __tablename__ = inbox_table
            __table_args__ = (PrimaryKeyConstraint("event_id", "handler"),)

            event_id: Mapped[str] = mapped_column(String(36))
            handler: Mapped[str] = mapped_column(String(150))
            processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

        return cls(module, InboxMessage)
