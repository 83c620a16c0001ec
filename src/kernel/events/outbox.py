"""Transactional outbox and inbox tables, created on a module's own base, in the module's own database.

A producer awaits `outbox.publish(session, event)` inside the transaction that makes the change; the relay
delivers the row after commit. A consumer's inbox row `(event_id, handler)` is written in the same
transaction as the handler's effects, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

import asyncio
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

ROUTES_KEY = "freightdesk.event_routes"
"""Where a module's sessions carry (in `Session.info`) the process's `EventRoutes`: bootstrap puts its transport
there once every subscription is bound."""


class EventRoutes(Protocol):
    def carries(self, event_type: str) -> bool:
        """Whether anyone can receive events of this type (the in-process transport: a hosted subscriber)."""
        ...


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
        woken once that transaction commits. An event nobody can receive (no hosted module subscribes,
        in-process delivery) is written as published at once, as the relay would after delivering it to
        nobody, and costs the relay nothing."""
        if event_.producer != self.module:
            raise ValueError(f"module {self.module!r} cannot publish {event_.event_type!r}")
        envelope = EventEnvelope.wrap(event_)
        routes: EventRoutes | None = session.info.get(ROUTES_KEY)
        heard = routes is None or routes.carries(envelope.type)
        connection = await session.connection()
        await connection.execute(
            self.insert,
            {
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
            },
        )
        if heard:
            event.listen(session.sync_session, "after_commit", lambda _session: self.notify(), once=True)
        return envelope

    def notify(self) -> None:
        for waiter in self._waiters:
            waiter.set()

    def waiter(self) -> asyncio.Event:
        signal = asyncio.Event()
        self._waiters.add(signal)
        return signal

    def forget(self, signal: asyncio.Event) -> None:
        self._waiters.discard(signal)


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
